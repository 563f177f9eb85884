"""Legacy (non-expression) parameters: AttributesToGet, KeyConditions, QueryFilter, ScanFilter,
ConditionalOperator, Expected and AttributeUpdates (API Reference, "Legacy conditional
parameters"), their validation texts, and the errors for mixing them with expressions."""

import pytest

from compat_helpers import Texts, raises_client_error

KEY = {"pk": {"S": "a"}, "sk": {"N": "1"}}
ITEM = {
    **KEY,
    "n": {"N": "5"},
    "s": {"S": "hello"},
    "ss": {"SS": ["x", "y"]},
    "ns": {"NS": ["1", "2"]},
    "l": {"L": [{"S": "x"}, {"N": "1"}]},
    "b": {"B": b"abc"},
}
INVALID = "One or more parameter values were invalid: "
OPERATORS = (
    "[IN, NULL, BETWEEN, LT, NOT_CONTAINS, EQ, GT, NOT_NULL, NE, LE, BEGINS_WITH, GE, CONTAINS]"
)


@pytest.fixture
def tbl(table, ddb):
    name = table(range=("sk", "N"))
    ddb.put_item(TableName=name, Item=ITEM)
    return name


def get(ddb, name, key=KEY):
    return ddb.get_item(TableName=name, Key=key, ConsistentRead=True).get("Item")


def cmp(op, *values):
    entry = {"ComparisonOperator": op}
    if values:
        entry["AttributeValueList"] = list(values)
    return entry


def sorted_sets(item):
    return {
        k: ({t: sorted(v)} if t in ("SS", "NS", "BS") else {t: v})
        for k, value in item.items()
        for t, v in value.items()
    }


# ---------------------------------------------------------------------------------------------
# AttributesToGet


def test_attributes_to_get_everywhere(ddb, tbl):
    got = ddb.get_item(TableName=tbl, Key=KEY, AttributesToGet=["n", "s", "missing"])["Item"]
    assert got == {"n": {"N": "5"}, "s": {"S": "hello"}}
    resp = ddb.batch_get_item(RequestItems={tbl: {"Keys": [KEY], "AttributesToGet": ["n"]}})
    assert resp["Responses"][tbl] == [{"n": {"N": "5"}}]
    query = ddb.query(
        TableName=tbl,
        KeyConditions={"pk": cmp("EQ", {"S": "a"})},
        AttributesToGet=["s"],
    )
    assert query["Items"] == [{"s": {"S": "hello"}}]
    scan = ddb.scan(TableName=tbl, AttributesToGet=["sk"])
    assert scan["Items"] == [{"sk": {"N": "1"}}]


def test_attributes_to_get_with_projection_expression(ddb, tbl):
    text = (
        "Can not use both expression and non-expression parameters in the same request: "
        "Non-expression parameters: {AttributesToGet} Expression parameters: "
        "{ProjectionExpression}"
    )
    with raises_client_error("ValidationException", text):
        ddb.get_item(TableName=tbl, Key=KEY, AttributesToGet=["n"], ProjectionExpression="s")
    with raises_client_error("ValidationException", text):
        ddb.batch_get_item(
            RequestItems={
                tbl: {"Keys": [KEY], "AttributesToGet": ["n"], "ProjectionExpression": "s"}
            }
        )
    with raises_client_error(
        "ValidationException", "ExpressionAttributeNames can only be specified when using expressions"
    ):
        ddb.get_item(
            TableName=tbl, Key=KEY, AttributesToGet=["n"], ExpressionAttributeNames={"#n": "n"}
        )


# ---------------------------------------------------------------------------------------------
# Expected


def put_expected(ddb, tbl, expected, **kw):
    ddb.put_item(TableName=tbl, Item=ITEM, Expected=expected, **kw)


def check_expected(ddb, tbl, expected, holds):
    """The put succeeds when `expected` holds for ITEM and fails its condition otherwise."""
    if holds:
        put_expected(ddb, tbl, expected)
    else:
        with raises_client_error(
            "ConditionalCheckFailedException", "The conditional request failed"
        ):
            put_expected(ddb, tbl, expected)


@pytest.mark.parametrize(
    "expected, holds",
    [
        ({"n": {"Value": {"N": "5"}}}, True),
        ({"n": {"Value": {"N": "5.0"}, "Exists": True}}, True),
        ({"n": {"Value": {"N": "6"}}}, False),
        ({"n": {"Value": {"S": "5"}}}, False),
        ({"zz": {"Exists": False}}, True),
        ({"n": {"Exists": False}}, False),
        ({"n": {"Value": {"N": "4"}, "ComparisonOperator": "GT"}}, True),
        ({}, True),
    ],
)
def test_expected_value_and_exists(ddb, tbl, expected, holds):
    check_expected(ddb, tbl, expected, holds)


# (attribute, operator, AttributeValueList, holds for ITEM)
COMPARISONS = [
    ("n", "EQ", [{"N": "5"}], True),
    ("n", "EQ", [{"S": "5"}], False),
    ("ss", "EQ", [{"SS": ["y", "x"]}], True),
    ("l", "EQ", [{"L": [{"S": "x"}, {"N": "1"}]}], True),
    ("n", "NE", [{"N": "5"}], False),
    ("n", "NE", [{"S": "5"}], True),
    ("zz", "NE", [{"N": "5"}], True),
    ("n", "LE", [{"N": "5"}], True),
    ("n", "LT", [{"N": "5"}], False),
    ("s", "LT", [{"S": "z"}], True),
    ("n", "GE", [{"N": "5"}], True),
    ("n", "GT", [{"N": "5"}], False),
    ("n", "GT", [{"S": "1"}], False),
    ("b", "GT", [{"B": b"ab"}], True),
    ("n", "NOT_NULL", [], True),
    ("zz", "NOT_NULL", [], False),
    ("zz", "NULL", [], True),
    ("n", "NULL", [], False),
    ("s", "CONTAINS", [{"S": "ell"}], True),
    ("ss", "CONTAINS", [{"S": "x"}], True),
    ("ns", "CONTAINS", [{"S": "1"}], False),
    ("l", "CONTAINS", [{"N": "1"}], True),
    ("b", "CONTAINS", [{"B": b"b"}], True),
    ("n", "CONTAINS", [{"N": "5"}], False),
    ("s", "NOT_CONTAINS", [{"S": "zz"}], True),
    ("l", "NOT_CONTAINS", [{"N": "1"}], False),
    ("ss", "NOT_CONTAINS", [{"S": "q"}], True),
    ("zz", "NOT_CONTAINS", [{"N": "1"}], False),
    ("s", "BEGINS_WITH", [{"S": "he"}], True),
    ("s", "BEGINS_WITH", [{"S": "el"}], False),
    ("b", "BEGINS_WITH", [{"B": b"ab"}], True),
    ("n", "BEGINS_WITH", [{"S": "5"}], False),
    ("n", "IN", [{"N": "4"}, {"N": "5"}], True),
    ("n", "IN", [{"N": "4"}], False),
    ("n", "IN", [{"N": str(i)} for i in range(100, 250)] + [{"N": "5"}], True),
    ("n", "BETWEEN", [{"N": "5"}, {"N": "6"}], True),
    ("n", "BETWEEN", [{"N": "1"}, {"N": "4"}], False),
    ("s", "BETWEEN", [{"S": "a"}, {"S": "i"}], True),
]


@pytest.mark.parametrize("attr, op, values, holds", COMPARISONS)
def test_expected_every_operator(ddb, tbl, attr, op, values, holds):
    expected = {attr: cmp(op, *values)}
    check_expected(ddb, tbl, expected, holds)


def test_expected_conditional_operator(ddb, tbl):
    expected = {"n": cmp("GT", {"N": "4"}), "zz": cmp("NOT_NULL")}
    put_expected(ddb, tbl, expected, ConditionalOperator="OR")
    for kw in ({"ConditionalOperator": "AND"}, {}):
        with raises_client_error("ConditionalCheckFailedException"):
            put_expected(ddb, tbl, expected, **kw)


def test_expected_on_delete_and_update(ddb, tbl):
    with raises_client_error("ConditionalCheckFailedException"):
        ddb.delete_item(TableName=tbl, Key=KEY, Expected={"n": cmp("EQ", {"N": "7"})})
    with raises_client_error("ConditionalCheckFailedException"):
        ddb.update_item(
            TableName=tbl,
            Key=KEY,
            AttributeUpdates={"n": {"Action": "PUT", "Value": {"N": "9"}}},
            Expected={"n": {"Value": {"N": "4"}}},
        )
    ddb.update_item(
        TableName=tbl,
        Key=KEY,
        AttributeUpdates={"n": {"Action": "PUT", "Value": {"N": "9"}}},
        Expected={"n": {"Value": {"N": "5"}}},
    )
    old = ddb.delete_item(
        TableName=tbl, Key=KEY, Expected={"n": {"Value": {"N": "9"}}}, ReturnValues="ALL_OLD"
    )["Attributes"]
    assert old["n"] == {"N": "9"}
    assert get(ddb, tbl) is None


@pytest.mark.parametrize(
    "expected, message",
    [
        ({"n": {"Exists": True}}, "Value must be provided when Exists is true for Attribute: n"),
        ({"n": {}}, "Value must be provided when Exists is null for Attribute: n"),
        (
            {"n": {"Exists": False, "Value": {"N": "5"}}},
            "Value cannot be used when Exists is false for Attribute: n",
        ),
        (
            {"n": {"Exists": True, "ComparisonOperator": "NULL"}},
            "Exists and ComparisonOperator cannot be used together for Attribute: n",
        ),
        (
            {"n": {"Value": {"N": "5"}, **cmp("EQ", {"N": "5"})}},
            "Value and AttributeValueList cannot be used together for Attribute: n",
        ),
        (
            {"n": {"AttributeValueList": [{"N": "5"}]}},
            "AttributeValueList can only be used with a ComparisonOperator for Attribute: n",
        ),
        (
            {"n": {"ComparisonOperator": "EQ"}},
            "Value or AttributeValueList must be used with ComparisonOperator: EQ for "
            "Attribute: n",
        ),
        (
            {"n": {"ComparisonOperator": "BETWEEN", "Value": {"N": "1"}}},
            "Invalid number of argument(s) for the BETWEEN ComparisonOperator",
        ),
        (
            {"a": {"Exists": True}, "n": {"ComparisonOperator": "EQ"}},
            "Value must be provided when Exists is true for Attribute: a",
        ),
    ],
)
def test_expected_errors(ddb, tbl, expected, message):
    with raises_client_error("ValidationException", INVALID + message):
        put_expected(ddb, tbl, expected)


@pytest.mark.parametrize(
    "op, values, message",
    [
        ("EQ", [], INVALID + "Invalid number of argument(s) for the EQ ComparisonOperator"),
        (
            "EQ",
            [{"N": "1"}, {"N": "2"}],
            INVALID + "Invalid number of argument(s) for the EQ ComparisonOperator",
        ),
        ("NULL", [{"N": "1"}], INVALID + "Invalid number of argument(s) for the NULL ComparisonOperator"),
        (
            "NOT_NULL",
            [{"N": "1"}],
            INVALID + "Invalid number of argument(s) for the NOT_NULL ComparisonOperator",
        ),
        ("IN", [], INVALID + "Invalid number of argument(s) for the IN ComparisonOperator"),
        (
            "BETWEEN",
            [{"N": "1"}],
            INVALID + "Invalid number of argument(s) for the BETWEEN ComparisonOperator",
        ),
        ("LT", [{"SS": ["a"]}], INVALID + "ComparisonOperator LT is not valid for SS AttributeValue type"),
        ("GE", [{"BOOL": True}], INVALID + "ComparisonOperator GE is not valid for BOOL AttributeValue type"),
        ("LE", [{"M": {}}], INVALID + "ComparisonOperator LE is not valid for M AttributeValue type"),
        ("GT", [{"NULL": True}], INVALID + "ComparisonOperator GT is not valid for NULL AttributeValue type"),
        ("CONTAINS", [{"NS": ["1"]}], INVALID + "ComparisonOperator CONTAINS is not valid for NS AttributeValue type"),
        ("NOT_CONTAINS", [{"L": []}], INVALID + "ComparisonOperator NOT_CONTAINS is not valid for L AttributeValue type"),
        ("BEGINS_WITH", [{"N": "1"}], INVALID + "ComparisonOperator BEGINS_WITH is not valid for N AttributeValue type"),
        ("IN", [{"BS": [b"x"]}], INVALID + "ComparisonOperator IN is not valid for BS AttributeValue type"),
        (
            "BETWEEN",
            [{"N": "1"}, {"SS": ["a"]}],
            INVALID + "ComparisonOperator BETWEEN is not valid for SS AttributeValue type",
        ),
        (
            "IN",
            [{"N": "1"}, {"S": "a"}],
            INVALID + "AttributeValues inside AttributeValueList must be of same type",
        ),
        (
            "BETWEEN",
            [{"N": "1"}, {"S": "a"}],
            INVALID + "AttributeValues inside AttributeValueList must be of same type",
        ),
        (
            "BETWEEN",
            [{"N": "6"}, {"N": "1"}],
            "The BETWEEN condition was provided a range where the lower bound is greater than "
            "the upper bound",
        ),
        ("EQ", [{"N": "x"}], "A value provided cannot be converted into a number"),
        (
            "FOO",
            [{"N": "1"}],
            Texts(
                aws="1 validation error detected: Value 'FOO' at "
                "'expected.n.member.comparisonOperator' failed to satisfy constraint: Member "
                "must satisfy enum value set: " + OPERATORS,
                local="Comparison type does not exist in DynamoDB",
            ),
        ),
    ],
)
def test_comparison_argument_errors(ddb, tbl, op, values, message):
    with raises_client_error("ValidationException", message):
        put_expected(ddb, tbl, {"n": {"ComparisonOperator": op, "AttributeValueList": values}})


def test_conditional_operator_errors(ddb, tbl):
    without = "ConditionalOperator cannot be used without Filter or Expected"
    single = "ConditionalOperator can only be used when Filter or Expected has two or more elements"
    with raises_client_error("ValidationException", without):
        ddb.put_item(TableName=tbl, Item=KEY, ConditionalOperator="OR")
    with raises_client_error("ValidationException", without):
        ddb.put_item(TableName=tbl, Item=KEY, Expected={}, ConditionalOperator="OR")
    with raises_client_error("ValidationException", single):
        ddb.put_item(
            TableName=tbl, Item=KEY, Expected={"n": {"Exists": True, "Value": {"N": "5"}}},
            ConditionalOperator="AND",
        )
    with raises_client_error("ValidationException", without):
        ddb.scan(TableName=tbl, ConditionalOperator="OR")
    with raises_client_error("ValidationException", single):
        ddb.scan(TableName=tbl, ScanFilter={"n": cmp("NOT_NULL")}, ConditionalOperator="OR")
    with raises_client_error("ValidationException", without):
        ddb.query(
            TableName=tbl, KeyConditions={"pk": cmp("EQ", {"S": "a"})}, ConditionalOperator="OR"
        )


# ---------------------------------------------------------------------------------------------
# AttributeUpdates


def update(ddb, tbl, updates, **kw):
    kw.setdefault("ReturnValues", "ALL_NEW")
    return ddb.update_item(TableName=tbl, Key=KEY, AttributeUpdates=updates, **kw).get(
        "Attributes"
    )


def test_attribute_updates_put(ddb, tbl):
    new = update(ddb, tbl, {"n": {"Action": "PUT", "Value": {"S": "now"}}, "e": {"Action": "PUT", "Value": {"S": ""}}})
    assert new["n"] == {"S": "now"} and new["e"] == {"S": ""}
    assert update(
        ddb, tbl, {"n": {"Action": "PUT", "Value": {"N": "1"}}}, ReturnValues="UPDATED_OLD"
    ) == {"n": {"S": "now"}}


@pytest.mark.aws_only  # DynamoDB Local ignores an entry without Action; AWS defaults it to PUT
def test_attribute_updates_action_defaults_to_put(ddb, tbl):
    assert update(ddb, tbl, {"n": {"Value": {"S": "now"}}})["n"] == {"S": "now"}


def test_attribute_updates_add(ddb, tbl):
    new = update(
        ddb,
        tbl,
        {
            "n": {"Action": "ADD", "Value": {"N": "3"}},
            "fresh": {"Action": "ADD", "Value": {"N": "-2.5"}},
            "ss": {"Action": "ADD", "Value": {"SS": ["z", "x"]}},
            "ns": {"Action": "ADD", "Value": {"NS": ["3"]}},
            "l": {"Action": "ADD", "Value": {"L": [{"S": "q"}]}},
            "fresh_list": {"Action": "ADD", "Value": {"L": [{"S": "q"}]}},
        },
    )
    assert new["n"] == {"N": "8"}
    assert new["fresh"] == {"N": "-2.5"}
    assert sorted(new["ss"]["SS"]) == ["x", "y", "z"]
    assert sorted(new["ns"]["NS"]) == ["1", "2", "3"]
    assert new["l"] == {"L": [{"S": "x"}, {"N": "1"}, {"S": "q"}]}
    assert new["fresh_list"] == {"L": [{"S": "q"}]}
    assert update(
        ddb, tbl, {"n": {"Action": "ADD", "Value": {"N": "1"}}}, ReturnValues="UPDATED_NEW"
    ) == {"n": {"N": "9"}}


def test_attribute_updates_delete(ddb, tbl):
    new = update(
        ddb,
        tbl,
        {
            "n": {"Action": "DELETE"},
            "missing": {"Action": "DELETE"},
            "ss": {"Action": "DELETE", "Value": {"SS": ["x", "q"]}},
            "ns": {"Action": "DELETE", "Value": {"NS": ["1", "2"]}},
            "missing_set": {"Action": "DELETE", "Value": {"SS": ["x"]}},
        },
    )
    assert "n" not in new and "missing" not in new and "missing_set" not in new
    assert new["ss"] == {"SS": ["y"]}
    assert "ns" not in new  # a set emptied by DELETE is removed


def test_attribute_updates_create_item(ddb, tbl):
    key = {"pk": {"S": "new"}, "sk": {"N": "2"}}
    ddb.update_item(
        TableName=tbl,
        Key=key,
        AttributeUpdates={
            "count": {"Action": "ADD", "Value": {"N": "1"}},
            "tags": {"Action": "ADD", "Value": {"SS": ["a"]}},
            "gone": {"Action": "DELETE"},
        },
    )
    assert get(ddb, tbl, key) == {**key, "count": {"N": "1"}, "tags": {"SS": ["a"]}}
    empty_key = {"pk": {"S": "new"}, "sk": {"N": "3"}}
    ddb.update_item(TableName=tbl, Key=empty_key, AttributeUpdates={"gone": {"Action": "DELETE"}})
    assert get(ddb, tbl, empty_key) == empty_key


@pytest.mark.parametrize(
    "updates, message",
    [
        (
            {"n": {"Action": "PUT"}},
            INVALID + "Only DELETE action is allowed when no attribute value is specified",
        ),
        (
            {"n": {"Action": "ADD"}},
            INVALID + "Only DELETE action is allowed when no attribute value is specified",
        ),
        ({"n": {"Action": "ADD", "Value": {"S": "x"}}}, INVALID + "ADD action is not supported for the type STRING"),
        ({"n": {"Action": "ADD", "Value": {"B": b"x"}}}, INVALID + "ADD action is not supported for the type BINARY"),
        ({"n": {"Action": "ADD", "Value": {"BOOL": True}}}, INVALID + "ADD action is not supported for the type BOOLEAN"),
        ({"n": {"Action": "ADD", "Value": {"NULL": True}}}, INVALID + "ADD action is not supported for the type NULL"),
        ({"n": {"Action": "ADD", "Value": {"M": {}}}}, INVALID + "ADD action is not supported for the type MAP"),
        (
            {"n": {"Action": "DELETE", "Value": {"N": "5"}}},
            INVALID + "DELETE action with value is not supported for the type NUMBER",
        ),
        (
            {"n": {"Action": "DELETE", "Value": {"L": []}}},
            INVALID + "DELETE action with value is not supported for the type LIST",
        ),
        (
            {"pk": {"Action": "PUT", "Value": {"S": "x"}}},
            INVALID + "Cannot update attribute pk. This attribute is part of the key",
        ),
        ({"sk": {"Action": "DELETE"}}, INVALID + "Cannot update attribute sk. This attribute is part of the key"),
        (
            {"a": {"Action": "ADD", "Value": {"S": "x"}}, "pk": {"Action": "PUT", "Value": {"S": "x"}}},
            INVALID + "ADD action is not supported for the type STRING",
        ),
        ({"s": {"Action": "ADD", "Value": {"N": "1"}}}, "Type mismatch for attribute to update"),
        ({"ss": {"Action": "ADD", "Value": {"NS": ["1"]}}}, "Type mismatch for attribute to update"),
        ({"ss": {"Action": "DELETE", "Value": {"NS": ["1"]}}}, "Type mismatch for attribute to update"),
        ({"n": {"Action": "DELETE", "Value": {"SS": ["x"]}}}, "Type mismatch for attribute to update"),
        ({"s": {"Action": "ADD", "Value": {"L": []}}}, "Type mismatch for attribute to update"),
        (
            {"n": {"Action": "FOO", "Value": {"N": "1"}}},
            Texts(
                aws="1 validation error detected: Value 'FOO' at 'attributeUpdates.n.member.action' "
                "failed to satisfy constraint: Member must satisfy enum value set: [ADD, PUT, DELETE]",
                local="Member must satisfy enum value set: [ADD, DELETE, PUT]",
            ),
        ),
    ],
)
def test_attribute_updates_errors(ddb, tbl, updates, message):
    with raises_client_error("ValidationException", message):
        update(ddb, tbl, updates)
    assert sorted_sets(get(ddb, tbl)) == sorted_sets(ITEM)


def test_expected_checked_before_attribute_updates(ddb, tbl):
    with raises_client_error(
        "ValidationException", INVALID + "Value must be provided when Exists is true for Attribute: a"
    ):
        update(ddb, tbl, {"a": {"Action": "ADD", "Value": {"S": "x"}}}, Expected={"a": {"Exists": True}})


# ---------------------------------------------------------------------------------------------
# Mixing legacy and expression parameters


def mix(legacy, expression):
    return (
        "Can not use both expression and non-expression parameters in the same request: "
        "Non-expression parameters: {" + legacy + "} Expression parameters: {" + expression + "}"
    )


@pytest.mark.parametrize(
    "op, kw, message",
    [
        (
            "put_item",
            dict(Item=KEY, Expected={"n": {"Exists": False}}, ConditionExpression="attribute_exists(n)"),
            mix("Expected", "ConditionExpression"),
        ),
        (
            "put_item",
            dict(Item=KEY, ConditionalOperator="OR", ConditionExpression="attribute_exists(n)"),
            mix("ConditionalOperator", "ConditionExpression"),
        ),
        (
            "delete_item",
            dict(Key=KEY, Expected={"n": {"Exists": False}}, ConditionExpression="attribute_exists(n)"),
            mix("Expected", "ConditionExpression"),
        ),
        (
            "update_item",
            dict(
                Key=KEY,
                AttributeUpdates={"n": {"Action": "DELETE"}},
                UpdateExpression="SET a = :v",
                ExpressionAttributeValues={":v": {"N": "1"}},
            ),
            mix("AttributeUpdates", "UpdateExpression"),
        ),
        (
            "update_item",
            dict(
                Key=KEY,
                Expected={"n": {"Value": {"N": "5"}}},
                UpdateExpression="SET a = :v",
                ExpressionAttributeValues={":v": {"N": "1"}},
            ),
            mix("Expected", "UpdateExpression"),
        ),
        (
            "update_item",
            dict(Key=KEY, AttributeUpdates={"n": {"Action": "DELETE"}}, ConditionExpression="attribute_exists(n)"),
            mix("AttributeUpdates", "ConditionExpression"),
        ),
        (
            "put_item",
            dict(Item=KEY, Expected={"n": {"Exists": False}}, ExpressionAttributeValues={":a": {"S": "x"}}),
            "ExpressionAttributeValues can only be specified when using expressions: "
            "ConditionExpression is null",
        ),
        (
            "update_item",
            dict(Key=KEY, AttributeUpdates={"n": {"Action": "DELETE"}}, ExpressionAttributeNames={"#a": "n"}),
            "ExpressionAttributeNames can only be specified when using expressions",
        ),
        (
            "query",
            dict(
                KeyConditionExpression="pk = :p",
                ExpressionAttributeValues={":p": {"S": "a"}},
                QueryFilter={"n": cmp("NOT_NULL")},
            ),
            mix("QueryFilter", "KeyConditionExpression"),
        ),
        (
            "query",
            dict(
                KeyConditions={"pk": cmp("EQ", {"S": "a"})},
                KeyConditionExpression="pk = :p",
                ExpressionAttributeValues={":p": {"S": "a"}},
            ),
            mix("KeyConditions", "KeyConditionExpression"),
        ),
        (
            "scan",
            dict(ScanFilter={"n": cmp("NOT_NULL")}, FilterExpression="attribute_exists(n)"),
            mix("ScanFilter", "FilterExpression"),
        ),
    ],
)
def test_mixing_errors(ddb, tbl, op, kw, message):
    with raises_client_error("ValidationException", message):
        getattr(ddb, op)(TableName=tbl, **kw)


def test_key_conditions_with_filter_expression(ddb, tbl):
    resp = ddb.query(
        TableName=tbl,
        KeyConditions={"pk": cmp("EQ", {"S": "a"})},
        FilterExpression="n > :v",
        ExpressionAttributeValues={":v": {"N": "4"}},
        ProjectionExpression="n",
    )
    assert resp["Items"] == [{"n": {"N": "5"}}]


# ---------------------------------------------------------------------------------------------
# Query: KeyConditions and QueryFilter; Scan: ScanFilter


@pytest.fixture
def rows(table, ddb):
    name = table(range=("sk", "N"), gsis=[("by_g", ("g", "S"), ("sk", "N"))])
    for i in range(1, 6):
        ddb.put_item(
            TableName=name,
            Item={
                "pk": {"S": "q"},
                "sk": {"N": str(i)},
                "v": {"N": str(i * 10)},
                "s": {"S": f"x{i}"},
                "g": {"S": "even" if i % 2 == 0 else "odd"},
            },
        )
    ddb.put_item(TableName=name, Item={"pk": {"S": "other"}, "sk": {"N": "1"}})
    return name


def sks(resp):
    return [int(item["sk"]["N"]) for item in resp["Items"]]


HASH = {"pk": cmp("EQ", {"S": "q"})}


@pytest.mark.parametrize(
    "op, values, expected",
    [
        (None, [], [1, 2, 3, 4, 5]),
        ("EQ", [3], [3]),
        ("LT", [3], [1, 2]),
        ("LE", [3], [1, 2, 3]),
        ("GT", [3], [4, 5]),
        ("GE", [3], [3, 4, 5]),
        ("BETWEEN", [2, 4], [2, 3, 4]),
    ],
)
def test_key_conditions(ddb, rows, op, values, expected):
    conditions = dict(HASH)
    if op:
        conditions["sk"] = cmp(op, *[{"N": str(v)} for v in values])
    resp = ddb.query(TableName=rows, KeyConditions=conditions)
    assert sks(resp) == expected
    back = ddb.query(TableName=rows, KeyConditions=conditions, ScanIndexForward=False)
    assert sks(back) == list(reversed(expected))


def test_key_conditions_begins_with(ddb, table):
    name = table()
    for sk in ("msg#1", "msg#2", "other"):
        ddb.put_item(TableName=name, Item={"pk": {"S": "p"}, "sk": {"S": sk}})
    resp = ddb.query(
        TableName=name,
        KeyConditions={"pk": cmp("EQ", {"S": "p"}), "sk": cmp("BEGINS_WITH", {"S": "msg#"})},
    )
    assert [i["sk"]["S"] for i in resp["Items"]] == ["msg#1", "msg#2"]
    with raises_client_error(
        "ValidationException",
        "One or more parameter values are not valid. The AttributeValue for a key attribute "
        "cannot contain an empty string value. Key: sk",
    ):
        ddb.query(
            TableName=name,
            KeyConditions={"pk": cmp("EQ", {"S": "p"}), "sk": cmp("LT", {"S": ""})},
        )


def test_key_conditions_on_index(ddb, rows):
    resp = ddb.query(
        TableName=rows,
        IndexName="by_g",
        KeyConditions={"g": cmp("EQ", {"S": "odd"}), "sk": cmp("GT", {"N": "1"})},
    )
    assert sks(resp) == [3, 5]


@pytest.mark.parametrize(
    "conditions, message",
    [
        ({}, "Conditions must be at least length 1"),
        (
            {**HASH, "sk": cmp("EQ", {"N": "1"}), "v": cmp("EQ", {"N": "1"})},
            "Conditions can be of length 1 or 2 only",
        ),
        ({"sk": cmp("EQ", {"N": "1"})}, "Query condition missed key schema element"),
        ({**HASH, "v": cmp("EQ", {"N": "1"})}, "Query condition missed key schema element"),
        ({"pk": cmp("GT", {"S": "q"})}, "Query key condition not supported"),
        ({"pk": cmp("NULL")}, "Only scalar types can be used as Hash Key values"),
        ({**HASH, "sk": cmp("NOT_NULL")}, "Only scalar types can be used as Range Key values"),
        (
            {**HASH, "sk": cmp("IN", {"N": "1"})},
            "Attempted conditional constraint is not an indexable operation",
        ),
        (
            {**HASH, "sk": cmp("CONTAINS", {"N": "1"})},
            "Attempted conditional constraint is not an indexable operation",
        ),
        (
            {"pk": cmp("EQ", {"N": "1"})},
            INVALID + "Condition parameter type does not match schema type",
        ),
        (
            {**HASH, "sk": cmp("LT", {"S": "1"})},
            INVALID + "Condition parameter type does not match schema type",
        ),
        (
            {**HASH, "sk": cmp("BEGINS_WITH", {"N": "1"})},
            INVALID + "ComparisonOperator BEGINS_WITH is not valid for N AttributeValue type",
        ),
        ({"pk": cmp("EQ")}, INVALID + "Invalid number of argument(s) for the EQ ComparisonOperator"),
        (
            {"pk": cmp("EQ", {"S": ""})},
            "One or more parameter values are not valid. The AttributeValue for a key attribute "
            "cannot contain an empty string value. Key: pk",
        ),
        (
            {**HASH, "sk": cmp("BETWEEN", {"N": "4"}, {"N": "2"})},
            "The BETWEEN condition was provided a range where the lower bound is greater than the "
            "upper bound",
        ),
    ],
)
def test_key_conditions_errors(ddb, rows, conditions, message):
    with raises_client_error("ValidationException", message):
        ddb.query(TableName=rows, KeyConditions=conditions)


def test_query_filter(ddb, rows):
    resp = ddb.query(TableName=rows, KeyConditions=HASH, QueryFilter={"v": cmp("GT", {"N": "20"})})
    assert sks(resp) == [3, 4, 5]
    assert (resp["Count"], resp["ScannedCount"]) == (3, 5)
    either = ddb.query(
        TableName=rows,
        KeyConditions=HASH,
        QueryFilter={"v": cmp("GT", {"N": "40"}), "s": cmp("EQ", {"S": "x1"})},
        ConditionalOperator="OR",
    )
    assert sks(either) == [1, 5]
    both = ddb.query(
        TableName=rows,
        KeyConditions=HASH,
        QueryFilter={"v": cmp("GT", {"N": "10"}), "s": cmp("BEGINS_WITH", {"S": "x"})},
        ConditionalOperator="AND",
    )
    assert sks(both) == [2, 3, 4, 5]
    page = ddb.query(
        TableName=rows, KeyConditions=HASH, QueryFilter={"v": cmp("GT", {"N": "20"})}, Limit=2
    )
    assert (page["Count"], page["ScannedCount"]) == (0, 2)
    count = ddb.query(TableName=rows, KeyConditions=HASH, Select="COUNT", QueryFilter={"v": cmp("IN", {"N": "10"}, {"N": "30"})})
    assert count["Count"] == 2


@pytest.mark.parametrize("attr", ["pk", "sk"])
def test_query_filter_on_key_attribute(ddb, rows, attr):
    with raises_client_error(
        "ValidationException",
        f"QueryFilter can only contain non-primary key attributes: Primary key attribute: {attr}",
    ):
        ddb.query(TableName=rows, KeyConditions=HASH, QueryFilter={attr: cmp("NOT_NULL")})


@pytest.mark.parametrize("attr, op, values, holds", COMPARISONS)
def test_scan_filter_every_operator(ddb, tbl, attr, op, values, holds):
    resp = ddb.scan(TableName=tbl, ScanFilter={attr: cmp(op, *values)})
    assert resp["Count"] == (1 if holds else 0)
    assert resp["ScannedCount"] == 1


def test_scan_filter(ddb, rows):
    resp = ddb.scan(
        TableName=rows,
        ScanFilter={"pk": cmp("EQ", {"S": "q"}), "sk": cmp("IN", {"N": "1"}, {"N": "2"})},
        AttributesToGet=["sk"],
    )
    assert sorted(sks(resp)) == [1, 2]
    either = ddb.scan(
        TableName=rows,
        ScanFilter={"v": cmp("GE", {"N": "40"}), "pk": cmp("EQ", {"S": "other"})},
        ConditionalOperator="OR",
    )
    assert either["Count"] == 3
    assert ddb.scan(TableName=rows, ScanFilter={})["Count"] == 6
    with raises_client_error(
        "ValidationException",
        INVALID + "Invalid number of argument(s) for the GT ComparisonOperator",
    ):
        ddb.scan(TableName=rows, ScanFilter={"v": cmp("GT")})
