"""Condition, projection and update expressions."""

import pytest

from compat_helpers import raises_client_error

KEY = {"pk": {"S": "e"}}

ITEM = {
    **KEY,
    "n": {"N": "5"},
    "s": {"S": "hello"},
    "b": {"B": b"\x01\x02\x03"},
    "t": {"BOOL": True},
    "nul": {"NULL": True},
    "ss": {"SS": ["a", "b", "c"]},
    "ns": {"NS": ["1", "2"]},
    "bs": {"BS": [b"\x01"]},
    "l": {"L": [{"N": "10"}, {"S": "x"}, {"M": {"deep": {"S": "yes"}}}]},
    "m": {"M": {"a": {"N": "1"}, "b": {"M": {"c": {"S": "nested"}}}, "dot.key": {"S": "d"}}},
    "q.r": {"S": "literal"},
    "blank": {"S": ""},
}


@pytest.fixture
def tbl(ddb, table):
    name = table(range=None)
    ddb.put_item(TableName=name, Item=ITEM)
    return name


def matches(ddb, tbl, cond, values=None, names=None):
    """True when the condition holds on ITEM (the write succeeds), False on
    ConditionalCheckFailedException. Uses a no-op SET so the item is unchanged."""
    kwargs = {"ConditionExpression": cond}
    vals = dict(values or {})
    vals[":__same"] = ITEM["s"]
    kwargs["ExpressionAttributeValues"] = vals
    if names:
        kwargs["ExpressionAttributeNames"] = names
    try:
        ddb.update_item(TableName=tbl, Key=KEY, UpdateExpression="SET s = :__same", **kwargs)
        return True
    except ddb.exceptions.ConditionalCheckFailedException:
        return False


def item(ddb, tbl):
    return ddb.get_item(TableName=tbl, Key=KEY, ConsistentRead=True)["Item"]


N = lambda v: {"N": str(v)}  # noqa: E731
S = lambda v: {"S": v}  # noqa: E731


# ---------------------------------------------------------------------------------------------
# Comparators


@pytest.mark.parametrize(
    "cond,values,expected",
    [
        ("n = :v", {":v": N(5)}, True),
        ("n = :v", {":v": N("5.0")}, True),
        ("n = :v", {":v": S("5")}, False),
        ("n <> :v", {":v": N(5)}, False),
        ("n <> :v", {":v": S("5")}, True),
        ("n < :v", {":v": N(6)}, True),
        ("n < :v", {":v": N(5)}, False),
        ("n <= :v", {":v": N(5)}, True),
        ("n > :v", {":v": N(-1)}, True),
        ("n >= :v", {":v": N("5.01")}, False),
        ("s < :v", {":v": S("help")}, True),
        ("s > :v", {":v": S("hello")}, False),
        ("s >= :v", {":v": S("hello")}, True),
        ("b < :v", {":v": {"B": b"\x01\x02\x04"}}, True),
        ("b = :v", {":v": {"B": b"\x01\x02\x03"}}, True),
        # Ordering comparisons across types are simply false.
        ("n < :v", {":v": S("9")}, False),
        ("nope < :v", {":v": N(9)}, False),
        ("nope <> :v", {":v": N(9)}, True),
        ("n BETWEEN :lo AND :hi", {":lo": N(5), ":hi": N(6)}, True),
        ("n BETWEEN :lo AND :hi", {":lo": N(6), ":hi": N(7)}, False),
        ("s BETWEEN :lo AND :hi", {":lo": S("a"), ":hi": S("z")}, True),
        ("n IN (:a, :b)", {":a": N(1), ":b": N(5)}, True),
        ("n IN (:a, :b)", {":a": N(1), ":b": N(2)}, False),
        ("ss = :v", {":v": {"SS": ["c", "b", "a"]}}, True),
        ("l = :v", {":v": {"L": [N(10), S("x"), {"M": {"deep": S("yes")}}]}}, True),
        ("l = :v", {":v": {"L": [S("x"), N(10), {"M": {"deep": S("yes")}}]}}, False),
        ("m.a = :v", {":v": N(1)}, True),
        ("t = :v", {":v": {"BOOL": True}}, True),
        ("nul = :v", {":v": {"NULL": True}}, True),
        ("blank = :v", {":v": S("")}, True),
    ],
)
def test_comparators(ddb, tbl, cond, values, expected):
    assert matches(ddb, tbl, cond, values) is expected


@pytest.mark.parametrize(
    "cond,values,expected",
    [
        ("n = :five AND s = :s", {":five": N(5), ":s": S("hello")}, True),
        ("n = :five AND s = :s", {":five": N(5), ":s": S("nope")}, False),
        ("n = :one OR s = :s", {":one": N(1), ":s": S("hello")}, True),
        ("NOT n = :one", {":one": N(1)}, True),
        ("NOT (n = :one OR n = :two)", {":one": N(1), ":two": N(2)}, True),
        # NOT binds tighter than AND, which binds tighter than OR.
        ("n = :one AND n = :two OR n = :five", {":one": N(1), ":two": N(2), ":five": N(5)},
         True),
        ("n = :one AND (n = :two OR n = :five)", {":one": N(1), ":two": N(2), ":five": N(5)},
         False),
        ("NOT n = :one AND n = :two", {":one": N(1), ":two": N(2)}, False),
    ],
)
def test_logical_operators(ddb, tbl, cond, values, expected):
    assert matches(ddb, tbl, cond, values) is expected


# ---------------------------------------------------------------------------------------------
# Functions


@pytest.mark.parametrize(
    "cond,values,expected",
    [
        ("attribute_exists(n)", None, True),
        ("attribute_exists(nope)", None, False),
        ("attribute_not_exists(nope)", None, True),
        ("attribute_not_exists(n)", None, False),
        ("attribute_exists(m.b.c)", None, True),
        ("attribute_exists(m.b.zz)", None, False),
        ("attribute_exists(l[2].deep)", None, True),
        ("attribute_exists(l[3])", None, False),
        ("attribute_type(n, :t)", {":t": S("N")}, True),
        ("attribute_type(n, :t)", {":t": S("S")}, False),
        ("attribute_type(ss, :t)", {":t": S("SS")}, True),
        ("attribute_type(nul, :t)", {":t": S("NULL")}, True),
        ("attribute_type(m, :t)", {":t": S("M")}, True),
        ("attribute_type(l, :t)", {":t": S("L")}, True),
        ("attribute_type(t, :t)", {":t": S("BOOL")}, True),
        ("begins_with(s, :p)", {":p": S("hel")}, True),
        ("begins_with(s, :p)", {":p": S("Hel")}, False),
        ("begins_with(b, :p)", {":p": {"B": b"\x01\x02"}}, True),
        ("begins_with(n, :p)", {":p": S("5")}, False),
        ("contains(s, :p)", {":p": S("ell")}, True),
        ("contains(s, :p)", {":p": S("xyz")}, False),
        ("contains(ss, :p)", {":p": S("b")}, True),
        ("contains(ss, :p)", {":p": S("z")}, False),
        ("contains(ns, :p)", {":p": N(2)}, True),
        ("contains(l, :p)", {":p": N(10)}, True),
        ("contains(l, :p)", {":p": S("10")}, False),
        ("contains(b, :p)", {":p": {"B": b"\x02"}}, True),
        ("size(s) = :v", {":v": N(5)}, True),
        ("size(b) = :v", {":v": N(3)}, True),
        ("size(ss) = :v", {":v": N(3)}, True),
        ("size(l) = :v", {":v": N(3)}, True),
        ("size(m) = :v", {":v": N(3)}, True),
        ("size(m.b) < :v", {":v": N(2)}, True),
        ("size(nope) = :v", {":v": N(0)}, False),
        ("size(n) = :v", {":v": N(1)}, False),
        ("size(l) > size(ss)", None, False),
        ("size(l) >= size(ss)", None, True),
    ],
)
def test_functions(ddb, tbl, cond, values, expected):
    assert matches(ddb, tbl, cond, values) is expected


def test_attribute_type_invalid_type(ddb, tbl):
    with raises_client_error(
        "ValidationException",
        "Invalid ConditionExpression: Invalid attribute type name found; type: XX, valid "
        "types: {N,BS,L,B,NULL,M,S,SS,NS,BOOL}",
    ):
        matches(ddb, tbl, "attribute_type(n, :t)", {":t": S("XX")})


def test_unknown_function(ddb, tbl):
    with raises_client_error(
        "ValidationException", "Invalid ConditionExpression: Invalid function name; function: nofn"
    ):
        matches(ddb, tbl, "nofn(n)")


def test_begins_with_number_operand(ddb, tbl):
    with raises_client_error(
        "ValidationException",
        "Invalid ConditionExpression: Incorrect operand type for operator or function; operator "
        "or function: begins_with, operand type: N",
    ):
        matches(ddb, tbl, "begins_with(s, :p)", {":p": N(1)})


def test_between_inverted_bounds(ddb, tbl):
    with raises_client_error(
        "ValidationException",
        "Invalid ConditionExpression: The BETWEEN operator requires upper bound to be greater "
        "than or equal to lower bound; lower bound operand: AttributeValue: {N:2}, upper bound "
        "operand: AttributeValue: {N:1}",
    ):
        matches(ddb, tbl, "n BETWEEN :b AND :a", {":a": N(1), ":b": N(2)})


def test_in_with_too_many_operands(ddb, tbl):
    values = {f":v{i}": N(i) for i in range(101)}
    cond = "n IN (" + ", ".join(values) + ")"
    with raises_client_error(
        "ValidationException",
        "Invalid ConditionExpression: The IN operator is provided with too many operands; "
        "number of operands: 101",
    ):
        matches(ddb, tbl, cond, values)
    values.pop(":v100")
    assert matches(ddb, tbl, "n IN (" + ", ".join(values) + ")", values) is True


def test_syntax_error(ddb, tbl):
    with raises_client_error(
        "ValidationException",
        'Invalid ConditionExpression: Syntax error; token: "=", near: "= = :x"',
    ):
        matches(ddb, tbl, "n = = :x", {":x": N(1)})


# ---------------------------------------------------------------------------------------------
# ExpressionAttributeNames / Values


def test_names_for_dots_and_reserved_words(ddb, tbl):
    assert matches(ddb, tbl, "#dn = :v", {":v": S("literal")}, {"#dn": "q.r"})
    # Without a placeholder the dot is a path separator.
    assert not matches(ddb, tbl, "attribute_exists(q.r)")
    assert matches(ddb, tbl, "#m.#k = :v", {":v": S("d")}, {"#m": "m", "#k": "dot.key"})
    assert matches(ddb, tbl, "attribute_not_exists(#status)", None, {"#status": "status"})


@pytest.mark.parametrize(
    "expr_type,kwargs,message",
    [
        ("Update", {"UpdateExpression": "SET name = :x"},
         "Invalid UpdateExpression: Attribute name is a reserved keyword; reserved keyword: name"),
        ("Condition", {"ConditionExpression": "attribute_exists(status)"},
         "Invalid ConditionExpression: Attribute name is a reserved keyword; reserved keyword: "
         "status"),
        ("Update", {"UpdateExpression": "SET v = :z"},
         "Invalid UpdateExpression: An expression attribute value used in expression is not "
         "defined; attribute value: :z"),
        ("Update", {"UpdateExpression": "SET #v = :x"},
         "Invalid UpdateExpression: An expression attribute name used in the document path is "
         "not defined; attribute name: #v"),
        ("Update", {"UpdateExpression": "SET v = :x", "ExpressionAttributeNames": {"#a": "a"}},
         "Value provided in ExpressionAttributeNames unused in expressions: keys: {#a}"),
        ("Update", {"UpdateExpression": "SET v = :x",
                    "ExpressionAttributeValues": {":x": N(1), ":y": N(2)}},
         "Value provided in ExpressionAttributeValues unused in expressions: keys: {:y}"),
    ],
)
def test_name_and_value_errors(ddb, tbl, expr_type, kwargs, message):
    params = {"TableName": tbl, "Key": KEY}
    params.update(kwargs)
    uses_x = ":x" in kwargs.get("UpdateExpression", "")
    if uses_x and "ExpressionAttributeValues" not in params:
        params["ExpressionAttributeValues"] = {":x": N(1)}
    if expr_type == "Condition":
        params["UpdateExpression"] = "SET v = :x"
        params["ExpressionAttributeValues"] = {":x": N(1)}
    with raises_client_error("ValidationException", message):
        ddb.update_item(**params)
    assert item(ddb, tbl) == ITEM


def test_empty_expression_attribute_values(ddb, tbl):
    with raises_client_error("ValidationException", "ExpressionAttributeValues must not be empty"):
        ddb.update_item(TableName=tbl, Key=KEY, UpdateExpression="SET a = :x",
                        ExpressionAttributeValues={})


def test_unused_value_in_put_condition(ddb, tbl):
    with raises_client_error(
        "ValidationException",
        "Value provided in ExpressionAttributeValues unused in expressions: keys: {:x}",
    ):
        ddb.put_item(TableName=tbl, Item=KEY, ConditionExpression="attribute_exists(pk)",
                     ExpressionAttributeValues={":x": N(2)})


# ---------------------------------------------------------------------------------------------
# Projection expressions


def test_projection_paths(ddb, tbl):
    got = ddb.get_item(
        TableName=tbl, Key=KEY,
        ProjectionExpression="m.b.c, l[0], l[2].deep, #dn, nope, m.nope",
        ExpressionAttributeNames={"#dn": "q.r"},
    )["Item"]
    assert got == {
        "m": {"M": {"b": {"M": {"c": S("nested")}}}},
        "l": {"L": [N(10), {"M": {"deep": S("yes")}}]},
        "q.r": S("literal"),
    }


def test_projection_overlap(ddb, tbl):
    with raises_client_error(
        "ValidationException",
        "Invalid ProjectionExpression: Two document paths overlap with each other; must remove "
        "or rewrite one of these paths; path one: [m], path two: [m, a]",
    ):
        ddb.get_item(TableName=tbl, Key=KEY, ProjectionExpression="m, m.a")
    with raises_client_error(
        "ValidationException",
        "Invalid ProjectionExpression: Two document paths overlap with each other; must remove "
        "or rewrite one of these paths; path one: [n], path two: [n]",
    ):
        ddb.get_item(TableName=tbl, Key=KEY, ProjectionExpression="n, n")


# ---------------------------------------------------------------------------------------------
# Update expressions


def update(ddb, tbl, expr, values=None, names=None, **kw):
    params = {"TableName": tbl, "Key": KEY, "UpdateExpression": expr,
              "ReturnValues": "ALL_NEW"}
    if values:
        params["ExpressionAttributeValues"] = values
    if names:
        params["ExpressionAttributeNames"] = names
    params.update(kw)
    return ddb.update_item(**params)["Attributes"]


def test_set_arithmetic(ddb, tbl):
    got = update(ddb, tbl, "SET n = n + :d, x = :a - :b, y = n - :d",
                 {":d": N("0.5"), ":a": N(10), ":b": N("0.25")})
    assert got["n"] == N("5.5")
    assert got["x"] == N("9.75")
    # Operands are read from the item before the update.
    assert got["y"] == N("4.5")


def test_arithmetic_exact_decimals(ddb, tbl):
    got = update(ddb, tbl, "SET a = :x + :y, b = :big + :one",
                 {":x": N("0.1"), ":y": N("0.2"), ":one": N(0),
                  ":big": N("99999999999999999999999999999999999999")})
    assert got["a"] == N("0.3")
    assert got["b"] == N("99999999999999999999999999999999999999")


def test_arithmetic_type_errors(ddb, tbl):
    with raises_client_error(
        "ValidationException",
        "Invalid UpdateExpression: Incorrect operand type for operator or function; operator "
        "or function: +, operand type: S",
    ):
        update(ddb, tbl, "SET a = :x + :x", {":x": S("b")})
    with raises_client_error(
        "ValidationException",
        "The provided expression refers to an attribute that does not exist in the item",
    ):
        update(ddb, tbl, "SET a = nope + :x", {":x": N(1)})
    with raises_client_error(
        "ValidationException", "An operand in the update expression has an incorrect data type"
    ):
        update(ddb, tbl, "SET a = s + :x", {":x": N(1)})
    assert item(ddb, tbl) == ITEM


def test_if_not_exists(ddb, tbl):
    got = update(ddb, tbl, "SET n = if_not_exists(n, :z), c = if_not_exists(c, :z)",
                 {":z": N(0)})
    assert got["n"] == N(5)
    assert got["c"] == N(0)
    got = update(ddb, tbl, "SET cnt = if_not_exists(cnt, :z) + :one", {":z": N(0), ":one": N(1)})
    assert got["cnt"] == N(1)
    got = update(ddb, tbl, "SET cnt = if_not_exists(cnt, :z) + :one", {":z": N(0), ":one": N(1)})
    assert got["cnt"] == N(2)
    got = update(ddb, tbl, "SET m.b.c = if_not_exists(m.b.c, :v)", {":v": S("new")})
    assert got["m"]["M"]["b"]["M"]["c"] == S("nested")


def test_list_append(ddb, tbl):
    got = update(ddb, tbl, "SET l = list_append(l, :tail)", {":tail": {"L": [S("end")]}})
    assert got["l"]["L"][-1] == S("end")
    assert len(got["l"]["L"]) == 4
    got = update(ddb, tbl, "SET l = list_append(:head, l)", {":head": {"L": [S("start")]}})
    assert got["l"]["L"][0] == S("start")
    got = update(ddb, tbl, "SET nl = list_append(if_not_exists(nl, :empty), :v)",
                 {":empty": {"L": []}, ":v": {"L": [N(1)]}})
    assert got["nl"] == {"L": [N(1)]}
    with raises_client_error(
        "ValidationException", "An operand in the update expression has an incorrect data type"
    ):
        update(ddb, tbl, "SET n = list_append(n, :v)", {":v": {"L": []}})


def test_set_nested_paths(ddb, tbl):
    got = update(ddb, tbl, "SET m.b.c = :v, l[1] = :w, m.newkey = :w",
                 {":v": S("changed"), ":w": N(7)})
    assert got["m"]["M"]["b"]["M"]["c"] == S("changed")
    assert got["m"]["M"]["newkey"] == N(7)
    assert got["l"]["L"][1] == N(7)
    # An index past the end appends.
    got = update(ddb, tbl, "SET l[10] = :v", {":v": S("appended")})
    assert got["l"]["L"][-1] == S("appended")
    assert len(got["l"]["L"]) == 4


def test_set_path_through_missing_or_scalar(ddb, tbl):
    msg = "The document path provided in the update expression is invalid for update"
    with raises_client_error("ValidationException", msg):
        update(ddb, tbl, "SET nope.x = :v", {":v": N(1)})
    with raises_client_error("ValidationException", msg):
        update(ddb, tbl, "SET n.x = :v", {":v": N(1)})
    assert item(ddb, tbl) == ITEM


def test_remove(ddb, tbl):
    got = update(ddb, tbl, "REMOVE n, m.b, l[0], nope")
    assert "n" not in got
    assert got["m"] == {"M": {"a": N(1), "dot.key": S("d")}}
    assert got["l"]["L"][0] == S("x")
    assert len(got["l"]["L"]) == 2
    # Removing past the end of a list is a no-op.
    got = update(ddb, tbl, "REMOVE l[9]")
    assert len(got["l"]["L"]) == 2


def test_add(ddb, tbl):
    got = update(ddb, tbl, "ADD n :d, newnum :d, ss :more, newset :more",
                 {":d": N(3), ":more": {"SS": ["c", "z"]}})
    assert got["n"] == N(8)
    assert got["newnum"] == N(3)
    assert sorted(got["ss"]["SS"]) == ["a", "b", "c", "z"]
    assert sorted(got["newset"]["SS"]) == ["c", "z"]
    with raises_client_error(
        "ValidationException",
        "Invalid UpdateExpression: Incorrect operand type for operator or function; operator: "
        "ADD, operand type: STRING, typeSet: ALLOWED_FOR_ADD_OPERAND",
    ):
        update(ddb, tbl, "ADD s :x", {":x": S("b")})
    with raises_client_error(
        "ValidationException", "An operand in the update expression has an incorrect data type"
    ):
        update(ddb, tbl, "ADD n :x", {":x": {"SS": ["b"]}})


def test_delete_from_set(ddb, tbl):
    got = update(ddb, tbl, "DELETE ss :rm, ns :nrm", {":rm": {"SS": ["a", "zz"]},
                                                      ":nrm": {"NS": ["1"]}})
    assert sorted(got["ss"]["SS"]) == ["b", "c"]
    assert got["ns"] == {"NS": ["2"]}
    # Removing every member removes the attribute (sets cannot be empty).
    got = update(ddb, tbl, "DELETE ss :rm", {":rm": {"SS": ["b", "c"]}})
    assert "ss" not in got
    with raises_client_error(
        "ValidationException",
        "Invalid UpdateExpression: Incorrect operand type for operator or function; operator: "
        "DELETE, operand type: NUMBER, typeSet: ALLOWED_FOR_DELETE_OPERAND",
    ):
        update(ddb, tbl, "DELETE n :x", {":x": N(1)})


def test_all_clauses_together(ddb, tbl):
    got = update(ddb, tbl, "SET a = :a REMOVE s ADD n :one DELETE ss :rm",
                 {":a": S("A"), ":one": N(1), ":rm": {"SS": ["a"]}})
    assert got["a"] == S("A")
    assert "s" not in got
    assert got["n"] == N(6)
    assert sorted(got["ss"]["SS"]) == ["b", "c"]


def test_updating_key_attribute(ddb, tbl):
    with raises_client_error(
        "ValidationException",
        "One or more parameter values were invalid: Cannot update attribute pk. This attribute "
        "is part of the key",
    ):
        update(ddb, tbl, "SET pk = :x", {":x": S("other")})


@pytest.mark.parametrize(
    "expr,paths",
    [
        ("SET a = :x, a.b = :x", "path one: [a], path two: [a, b]"),
        ("SET a = :x REMOVE a", "path one: [a], path two: [a]"),
        ("SET a[0] = :x, a[0] = :x", "path one: [a, [0]], path two: [a, [0]]"),
    ],
)
def test_overlapping_paths(ddb, tbl, expr, paths):
    with raises_client_error(
        "ValidationException",
        "Invalid UpdateExpression: Two document paths overlap with each other; must remove or "
        "rewrite one of these paths; " + paths,
    ):
        update(ddb, tbl, expr, {":x": S("b")})


def test_clause_used_twice(ddb, tbl):
    with raises_client_error(
        "ValidationException",
        'Invalid UpdateExpression: The "SET" section can only be used once in an update '
        "expression;",
    ):
        update(ddb, tbl, "SET a = :x SET b = :x", {":x": S("b")})


def test_condition_and_update_share_names_and_values(ddb, tbl):
    got = update(ddb, tbl, "SET #s = :new", {":new": S("bye"), ":old": S("hello")},
                 {"#s": "s"}, ConditionExpression="#s = :old")
    assert got["s"] == S("bye")
