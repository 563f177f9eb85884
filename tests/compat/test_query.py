"""Query: key conditions, order, paging, Select, filters, projections, GSIs."""

import pytest

from compat_helpers import Texts, raises_client_error

N = lambda v: {"N": str(v)}  # noqa: E731
S = lambda v: {"S": v}  # noqa: E731

# Numeric sort keys whose string order differs from their numeric order.
NUM_SKS = ["-10", "-1.5", "0", "2", "10", "100", "1e3"]
NUM_SKS_SORTED = ["-10", "-1.5", "0", "2", "10", "100", "1000"]


@pytest.fixture
def num_tbl(ddb, table):
    name = table(range=("sk", "N"))
    for i, sk in enumerate(NUM_SKS):
        ddb.put_item(TableName=name, Item={"pk": S("p"), "sk": N(sk), "i": N(i),
                                            "even": {"BOOL": i % 2 == 0}})
    ddb.put_item(TableName=name, Item={"pk": S("other"), "sk": N(1)})
    return name


@pytest.fixture
def str_tbl(ddb, table):
    name = table()
    for sk in ["2023-01-01", "2023-06-15", "2024-01-01", "2024-02-02", "2024-12-31", "2025-01-01",
               "a", "ab", "abc", "b"]:
        ddb.put_item(TableName=name, Item={"pk": S("p"), "sk": S(sk), "data": S("d" + sk)})
    return name


def q(ddb, name, kce, values, **kw):
    return ddb.query(TableName=name, KeyConditionExpression=kce,
                     ExpressionAttributeValues=values, **kw)


def sks(resp, typ="S"):
    return [it["sk"][typ] for it in resp["Items"]]


def test_numeric_sort_key_order(ddb, num_tbl):
    resp = q(ddb, num_tbl, "pk = :p", {":p": S("p")})
    assert sks(resp, "N") == NUM_SKS_SORTED
    assert resp["Count"] == len(NUM_SKS)
    assert resp["ScannedCount"] == len(NUM_SKS)
    assert "LastEvaluatedKey" not in resp
    resp = q(ddb, num_tbl, "pk = :p", {":p": S("p")}, ScanIndexForward=False)
    assert sks(resp, "N") == list(reversed(NUM_SKS_SORTED))


@pytest.mark.parametrize(
    "cond,values,expected",
    [
        ("sk = :a", {":a": N("10")}, ["10"]),
        ("sk = :a", {":a": N("10.0")}, ["10"]),
        ("sk < :a", {":a": N("0")}, ["-10", "-1.5"]),
        ("sk <= :a", {":a": N("0")}, ["-10", "-1.5", "0"]),
        ("sk > :a", {":a": N("10")}, ["100", "1000"]),
        ("sk >= :a", {":a": N("10")}, ["10", "100", "1000"]),
        ("sk BETWEEN :a AND :b", {":a": N("-1.5"), ":b": N("10")}, ["-1.5", "0", "2", "10"]),
        ("sk BETWEEN :a AND :b", {":a": N("3"), ":b": N("9")}, []),
        ("sk BETWEEN :a AND :b", {":a": N("2"), ":b": N("2")}, ["2"]),
    ],
)
def test_numeric_key_conditions(ddb, num_tbl, cond, values, expected):
    resp = q(ddb, num_tbl, "pk = :p AND " + cond, {":p": S("p"), **values})
    assert sks(resp, "N") == expected


@pytest.mark.parametrize(
    "cond,values,expected",
    [
        ("begins_with(sk, :a)", {":a": S("2024")}, ["2024-01-01", "2024-02-02", "2024-12-31"]),
        ("begins_with(sk, :a)", {":a": S("a")}, ["a", "ab", "abc"]),
        ("begins_with(sk, :a)", {":a": S("zz")}, []),
        ("sk BETWEEN :a AND :b", {":a": S("2023-06-15"), ":b": S("2024-01-01")},
         ["2023-06-15", "2024-01-01"]),
        ("sk > :a", {":a": S("abc")}, ["b"]),
        ("sk < :a", {":a": S("2023-06-15")}, ["2023-01-01"]),
    ],
)
def test_string_key_conditions(ddb, str_tbl, cond, values, expected):
    resp = q(ddb, str_tbl, "pk = :p AND " + cond, {":p": S("p"), **values})
    assert sks(resp) == expected


def test_key_condition_with_names_and_parentheses(ddb, str_tbl):
    resp = q(ddb, str_tbl, "(#p = :p) AND (begins_with(#s, :a))", {":p": S("p"), ":a": S("ab")},
             ExpressionAttributeNames={"#p": "pk", "#s": "sk"})
    assert sks(resp) == ["ab", "abc"]
    resp = q(ddb, str_tbl, "begins_with(sk, :a) AND pk = :p", {":p": S("p"), ":a": S("ab")})
    assert sks(resp) == ["ab", "abc"]


def test_binary_sort_key_order(ddb, table):
    name = table(range=("sk", "B"))
    values = [b"\xff", b"\x00", b"\x7f\x01", b"\x7f", b"\x80"]
    for v in values:
        ddb.put_item(TableName=name, Item={"pk": S("p"), "sk": {"B": v}})
    resp = q(ddb, name, "pk = :p", {":p": S("p")})
    assert [it["sk"]["B"] for it in resp["Items"]] == sorted(values)
    resp = q(ddb, name, "pk = :p AND begins_with(sk, :b)", {":p": S("p"), ":b": {"B": b"\x7f"}})
    assert [it["sk"]["B"] for it in resp["Items"]] == [b"\x7f", b"\x7f\x01"]


def test_query_missing_partition(ddb, num_tbl):
    resp = q(ddb, num_tbl, "pk = :p", {":p": S("nobody")})
    assert resp["Items"] == []
    assert resp["Count"] == 0
    assert resp["ScannedCount"] == 0


def test_limit_paging_across_partition(ddb, num_tbl):
    for forward in (True, False):
        got = []
        kwargs = {}
        pages = 0
        while True:
            resp = q(ddb, num_tbl, "pk = :p", {":p": S("p")}, Limit=3, ScanIndexForward=forward,
                     **kwargs)
            pages += 1
            assert resp["Count"] <= 3
            got.extend(sks(resp, "N"))
            if "LastEvaluatedKey" not in resp:
                break
            lek = resp["LastEvaluatedKey"]
            assert lek == {"pk": S("p"), "sk": resp["Items"][-1]["sk"]}
            kwargs["ExclusiveStartKey"] = lek
            assert pages < 10
        expected = NUM_SKS_SORTED if forward else list(reversed(NUM_SKS_SORTED))
        assert got == expected
        # 7 items in pages of 3: 3 + 3 + 1.
        assert pages == 3


def test_limit_equal_to_remaining_items(ddb, num_tbl):
    resp = q(ddb, num_tbl, "pk = :p", {":p": S("p")}, Limit=len(NUM_SKS))
    assert resp["Count"] == len(NUM_SKS)
    # DynamoDB stops at Limit and cannot know nothing follows: it returns a LastEvaluatedKey,
    # and the next page is empty.
    assert "LastEvaluatedKey" in resp
    resp = q(ddb, num_tbl, "pk = :p", {":p": S("p")},
             ExclusiveStartKey=resp["LastEvaluatedKey"])
    assert resp["Items"] == []
    assert "LastEvaluatedKey" not in resp


def test_one_megabyte_page_cap(ddb, table):
    name = table()
    payload = "x" * (390 * 1024)
    for i in range(4):
        ddb.put_item(TableName=name, Item={"pk": S("big"), "sk": S(f"{i:02d}"), "d": S(payload)})
    resp = q(ddb, name, "pk = :p", {":p": S("big")}, ProjectionExpression="sk")
    # 4 x 390 KB is over 1 MB: the first page stops early with a LastEvaluatedKey.
    assert 2 <= resp["Count"] <= 3
    assert "LastEvaluatedKey" in resp
    seen = sks(resp)
    while "LastEvaluatedKey" in resp:
        resp = q(ddb, name, "pk = :p", {":p": S("big")}, ProjectionExpression="sk",
                 ExclusiveStartKey=resp["LastEvaluatedKey"])
        seen.extend(sks(resp))
    assert seen == ["00", "01", "02", "03"]


def test_select_count(ddb, num_tbl):
    resp = q(ddb, num_tbl, "pk = :p", {":p": S("p")}, Select="COUNT")
    assert "Items" not in resp
    assert resp["Count"] == len(NUM_SKS)
    assert resp["ScannedCount"] == len(NUM_SKS)


def test_select_specific_and_projection(ddb, num_tbl):
    resp = q(ddb, num_tbl, "pk = :p AND sk = :s", {":p": S("p"), ":s": N(2)},
             Select="SPECIFIC_ATTRIBUTES", ProjectionExpression="i")
    assert resp["Items"] == [{"i": N(3)}]
    resp = q(ddb, num_tbl, "pk = :p AND sk = :s", {":p": S("p"), ":s": N(2)},
             ProjectionExpression="sk, #e", ExpressionAttributeNames={"#e": "even"})
    assert resp["Items"] == [{"sk": N(2), "even": {"BOOL": False}}]
    resp = q(ddb, num_tbl, "pk = :p AND sk = :s", {":p": S("p"), ":s": N(2)},
             Select="ALL_ATTRIBUTES")
    assert resp["Items"] == [{"pk": S("p"), "sk": N(2), "i": N(3), "even": {"BOOL": False}}]


def test_select_errors(ddb, num_tbl):
    kce = {"KeyConditionExpression": "pk = :p", "ExpressionAttributeValues": {":p": S("p")}}
    with raises_client_error(
        "ValidationException",
        "Must specify the AttributesToGet or ProjectionExpression when choosing to get "
        "SPECIFIC_ATTRIBUTES",
    ):
        ddb.query(TableName=num_tbl, Select="SPECIFIC_ATTRIBUTES", **kce)
    with raises_client_error(
        "ValidationException",
        "Cannot specify the ProjectionExpression when choosing to get ALL_ATTRIBUTES",
    ):
        ddb.query(TableName=num_tbl, Select="ALL_ATTRIBUTES", ProjectionExpression="i", **kce)
    with raises_client_error(
        "ValidationException",
        "ALL_PROJECTED_ATTRIBUTES can be used only when Querying using an IndexName",
    ):
        ddb.query(TableName=num_tbl, Select="ALL_PROJECTED_ATTRIBUTES", **kce)


def test_filter_count_vs_scanned_count(ddb, num_tbl):
    resp = q(ddb, num_tbl, "pk = :p", {":p": S("p"), ":t": {"BOOL": True}},
             FilterExpression="even = :t")
    assert resp["Count"] == 4
    assert resp["ScannedCount"] == len(NUM_SKS)
    assert [it["i"]["N"] for it in resp["Items"]] == ["0", "2", "4", "6"]
    # Limit counts items read before the filter.
    resp = q(ddb, num_tbl, "pk = :p", {":p": S("p"), ":t": {"BOOL": True}},
             FilterExpression="even = :t", Limit=2)
    assert resp["ScannedCount"] == 2
    assert resp["Count"] == 1
    assert "LastEvaluatedKey" in resp
    resp = q(ddb, num_tbl, "pk = :p", {":p": S("p"), ":t": {"BOOL": True}},
             FilterExpression="even = :t", Select="COUNT")
    assert resp["Count"] == 4
    assert resp["ScannedCount"] == len(NUM_SKS)


def test_filter_on_key_attribute_rejected(ddb, num_tbl):
    with raises_client_error(
        "ValidationException",
        "Filter Expression can only contain non-primary key attributes: Primary key attribute: "
        "sk",
    ):
        q(ddb, num_tbl, "pk = :p", {":p": S("p"), ":s": N(1)}, FilterExpression="sk = :s")


@pytest.mark.parametrize(
    "kce,values,message",
    [
        # AWS names the missing key (dynalite actions/query.js).
        ("sk = :s", {":s": N(1)},
         Texts(aws="Query condition missed key schema element: pk",
               local="Query condition missed key schema element")),
        ("pk > :p", {":p": S("a")}, "Query key condition not supported"),
        ("pk = :p", {":p": N(1)},
         "One or more parameter values were invalid: Condition parameter type does not match "
         "schema type"),
        ("pk = :p AND sk = :s", {":p": S("p"), ":s": S("1")},
         "One or more parameter values were invalid: Condition parameter type does not match "
         "schema type"),
        ("pk = :p OR sk = :s", {":p": S("p"), ":s": N(1)},
         "Invalid operator used in KeyConditionExpression: OR"),
        ("pk = :p AND sk <> :s", {":p": S("p"), ":s": N(1)},
         "Invalid operator used in KeyConditionExpression: <>"),
        ("pk = :p AND sk IN (:s)", {":p": S("p"), ":s": N(1)},
         "Invalid operator used in KeyConditionExpression: IN"),
        ("pk = :p AND contains(sk, :s)", {":p": S("p"), ":s": N(1)},
         "Invalid operator used in KeyConditionExpression: contains"),
        ("pk = :p AND x = :s", {":p": S("p"), ":s": N(1)},
         Texts(aws="Query condition missed key schema element: sk",
               local="Query condition missed key schema element")),
        ("pk = :p AND sk > :s AND sk < :s", {":p": S("p"), ":s": N(1)},
         "KeyConditionExpressions must only contain one condition per key"),
        ("pk = :p AND begins_with(sk, :s)", {":p": S("p"), ":s": N(1)},
         "Invalid KeyConditionExpression: Incorrect operand type for operator or function; "
         "operator or function: begins_with, operand type: N"),
        ("pk = :p AND sk BETWEEN :b AND :a", {":p": S("p"), ":a": N(1), ":b": N(2)},
         "Invalid KeyConditionExpression: The BETWEEN operator requires upper bound to be "
         "greater than or equal to lower bound; lower bound operand: AttributeValue: {N:2}, "
         "upper bound operand: AttributeValue: {N:1}"),
    ],
)
def test_key_condition_errors(ddb, num_tbl, kce, values, message):
    with raises_client_error("ValidationException", message):
        q(ddb, num_tbl, kce, values)


def test_query_without_key_condition(ddb, num_tbl):
    with raises_client_error(
        "ValidationException",
        "Either the KeyConditions or KeyConditionExpression parameter must be specified in the "
        "request.",
    ):
        ddb.query(TableName=num_tbl)


def test_exclusive_start_key_errors(ddb, num_tbl):
    # dynalite actions/query.js.
    with raises_client_error("ValidationException", Texts(
            aws="The provided starting key is invalid",
            local="Exclusive Start Key must have same size as table's key schema")):
        q(ddb, num_tbl, "pk = :p", {":p": S("p")}, ExclusiveStartKey={"pk": S("p")})
    with raises_client_error(
        "ValidationException", "The provided starting key does not match the range key predicate"
    ):
        q(ddb, num_tbl, "pk = :p AND sk > :s", {":p": S("p"), ":s": N(50)},
          ExclusiveStartKey={"pk": S("p"), "sk": N(1)})


def test_query_consumed_capacity(ddb, table):
    name = table()
    for i in range(3):
        # 2+1 + 2+1 + 1+3000 = 3007 bytes each, 9021 in all -> 3 units strongly consistent.
        ddb.put_item(TableName=name, Item={"pk": S("p"), "sk": S(str(i)), "d": S("x" * 3000)})
    resp = q(ddb, name, "pk = :p", {":p": S("p")}, ConsistentRead=True,
             ReturnConsumedCapacity="TOTAL", Select="COUNT")
    assert resp["ConsumedCapacity"]["CapacityUnits"] == 3.0
    resp = q(ddb, name, "pk = :p", {":p": S("p")}, ReturnConsumedCapacity="TOTAL")
    assert resp["ConsumedCapacity"]["CapacityUnits"] == 1.5
    assert resp["ConsumedCapacity"]["TableName"] == name


# ---------------------------------------------------------------------------------------------
# Global secondary indexes


@pytest.fixture
def gsi_tbl(ddb, table):
    name = table(
        gsis=[
            ("by-group", ("grp", "S"), ("ts", "N")),
            ("by-group-keys", ("grp", "S"), None, {"ProjectionType": "KEYS_ONLY"}),
            ("by-group-inc", ("grp", "S"), ("ts", "N"),
             {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["msg"]}),
        ]
    )
    rows = [
        ("u1", "m1", "g1", 3, "hello"),
        ("u1", "m2", "g1", 1, "first"),
        ("u2", "m3", "g1", 2, "second"),
        ("u2", "m4", "g2", 1, "other"),
    ]
    for pk, sk, grp, ts, msg in rows:
        ddb.put_item(TableName=name, Item={"pk": S(pk), "sk": S(sk), "grp": S(grp), "ts": N(ts),
                                            "msg": S(msg), "extra": S("e")})
    # Sparse: no grp, so not in the indexes.
    ddb.put_item(TableName=name, Item={"pk": S("u3"), "sk": S("m5"), "msg": S("sparse")})
    return name


def test_gsi_query(ddb, gsi_tbl):
    resp = q(ddb, gsi_tbl, "grp = :g", {":g": S("g1")}, IndexName="by-group")
    assert [it["msg"]["S"] for it in resp["Items"]] == ["first", "second", "hello"]
    assert resp["Items"][0] == {"pk": S("u1"), "sk": S("m2"), "grp": S("g1"), "ts": N(1),
                                "msg": S("first"), "extra": S("e")}
    resp = q(ddb, gsi_tbl, "grp = :g AND ts >= :t", {":g": S("g1"), ":t": N(2)},
             IndexName="by-group", ScanIndexForward=False)
    assert [it["msg"]["S"] for it in resp["Items"]] == ["hello", "second"]


def test_gsi_is_sparse_and_follows_updates(ddb, gsi_tbl):
    resp = ddb.scan(TableName=gsi_tbl, IndexName="by-group")
    assert resp["Count"] == 4
    ddb.update_item(TableName=gsi_tbl, Key={"pk": S("u1"), "sk": S("m1")},
                    UpdateExpression="SET grp = :g", ExpressionAttributeValues={":g": S("g2")})
    ddb.delete_item(TableName=gsi_tbl, Key={"pk": S("u2"), "sk": S("m3")})
    ddb.update_item(TableName=gsi_tbl, Key={"pk": S("u3"), "sk": S("m5")},
                    UpdateExpression="SET grp = :g, ts = :t",
                    ExpressionAttributeValues={":g": S("g1"), ":t": N(9)})
    resp = q(ddb, gsi_tbl, "grp = :g", {":g": S("g1")}, IndexName="by-group")
    assert [it["msg"]["S"] for it in resp["Items"]] == ["first", "sparse"]
    resp = q(ddb, gsi_tbl, "grp = :g", {":g": S("g2")}, IndexName="by-group")
    assert [it["msg"]["S"] for it in resp["Items"]] == ["other", "hello"]
    ddb.update_item(TableName=gsi_tbl, Key={"pk": S("u3"), "sk": S("m5")},
                    UpdateExpression="REMOVE grp")
    resp = q(ddb, gsi_tbl, "grp = :g", {":g": S("g1")}, IndexName="by-group")
    assert [it["msg"]["S"] for it in resp["Items"]] == ["first"]


def test_gsi_projections(ddb, gsi_tbl):
    resp = q(ddb, gsi_tbl, "grp = :g", {":g": S("g2")}, IndexName="by-group-keys")
    assert resp["Items"] == [{"pk": S("u2"), "sk": S("m4"), "grp": S("g2")}]
    resp = q(ddb, gsi_tbl, "grp = :g", {":g": S("g2")}, IndexName="by-group-inc")
    assert resp["Items"] == [{"pk": S("u2"), "sk": S("m4"), "grp": S("g2"), "ts": N(1),
                              "msg": S("other")}]
    resp = q(ddb, gsi_tbl, "grp = :g", {":g": S("g2")}, IndexName="by-group-inc",
             Select="ALL_PROJECTED_ATTRIBUTES")
    assert resp["Items"][0]["msg"] == S("other")
    assert "extra" not in resp["Items"][0]
    with raises_client_error(
        "ValidationException",
        "One or more parameter values were invalid: Select type ALL_ATTRIBUTES is not supported "
        "for global secondary index by-group-inc because its projection type is not ALL",
    ):
        q(ddb, gsi_tbl, "grp = :g", {":g": S("g2")}, IndexName="by-group-inc",
          Select="ALL_ATTRIBUTES")


def test_gsi_hash_only_paging(ddb, gsi_tbl):
    got = []
    kwargs = {}
    while True:
        resp = q(ddb, gsi_tbl, "grp = :g", {":g": S("g1")}, IndexName="by-group", Limit=1,
                 **kwargs)
        got.extend(it["msg"]["S"] for it in resp["Items"])
        if "LastEvaluatedKey" not in resp:
            break
        lek = resp["LastEvaluatedKey"]
        # An index's LastEvaluatedKey holds the index key and the table key.
        assert set(lek) == {"grp", "ts", "pk", "sk"}
        kwargs["ExclusiveStartKey"] = lek
        assert len(got) < 10
    assert got == ["first", "second", "hello"]


def test_gsi_consistent_read_rejected(ddb, gsi_tbl):
    with raises_client_error(
        "ValidationException", "Consistent reads are not supported on global secondary indexes"
    ):
        q(ddb, gsi_tbl, "grp = :g", {":g": S("g1")}, IndexName="by-group", ConsistentRead=True)


def test_gsi_unknown_index(ddb, gsi_tbl):
    with raises_client_error(
        "ValidationException", "The table does not have the specified index: nope"
    ):
        q(ddb, gsi_tbl, "grp = :g", {":g": S("g1")}, IndexName="nope")


def test_gsi_key_type_mismatch_on_write(ddb, gsi_tbl):
    # Three indexes use grp; which one the message names is not specified. AWS names the
    # attribute and both types (dynalite db/index.js validateItem).
    with raises_client_error("ValidationException", match=Texts(
            aws="One or more parameter values were invalid: Type mismatch for Index Key grp "
                "Expected: S Actual: N IndexName: by-group",
            local="One or more parameter values were invalid: Type mismatch for Index Key")):
        ddb.put_item(TableName=gsi_tbl, Item={"pk": S("x"), "sk": S("y"), "grp": N(1)})
    with raises_client_error(
        "ValidationException",
        match="One or more parameter values are not valid. A value specified for a secondary "
        "index key is not supported. The AttributeValue for a key attribute cannot contain an "
        "empty string value. IndexName: by-group",
    ):
        ddb.put_item(TableName=gsi_tbl, Item={"pk": S("x"), "sk": S("y"), "grp": S("")})
    assert "Item" not in ddb.get_item(TableName=gsi_tbl, Key={"pk": S("x"), "sk": S("y")})
