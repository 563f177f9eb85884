"""BatchWriteItem and BatchGetItem."""

import pytest

from compat_helpers import Texts, raises_client_error, unique_name

S = lambda v: {"S": v}  # noqa: E731
N = lambda v: {"N": str(v)}  # noqa: E731

# AWS says "Requested resource not found" (dynalite db/index.js getTable; live captures in
# nubo-db/dynamodb-conformance tests/tier3/error-messages/batch*Item.test.ts).
MISSING_TABLE = Texts(aws="Requested resource not found",
                      local="Cannot do operations on a non-existent table")
# AWS reports any key attribute missing from, or mistyped in, a batch request as a schema
# mismatch (dynalite actions/batchWriteItem.js rewrites PutItem's "Missing the key" to it).
BAD_KEY = Texts(aws="The provided key element does not match the schema",
                local="One of the required keys was not given a value")


def put(k, **attrs):
    return {"PutRequest": {"Item": {"pk": S(k), **attrs}}}


def delete(k):
    return {"DeleteRequest": {"Key": {"pk": S(k)}}}


@pytest.fixture
def tbl(table):
    return table(range=None)


def count(ddb, name):
    return ddb.scan(TableName=name, Select="COUNT", ConsistentRead=True)["Count"]


def test_batch_write_25(ddb, tbl):
    resp = ddb.batch_write_item(RequestItems={tbl: [put(str(i), v=N(i)) for i in range(25)]},
                                ReturnConsumedCapacity="TOTAL")
    assert resp["UnprocessedItems"] == {}
    assert resp["ConsumedCapacity"] == [{"TableName": tbl, "CapacityUnits": 25.0}]
    assert count(ddb, tbl) == 25
    got = ddb.get_item(TableName=tbl, Key={"pk": S("7")})["Item"]
    assert got == {"pk": S("7"), "v": N(7)}


def test_batch_write_26_rejected(ddb, tbl):
    # The message differs between implementations (AWS names the 25-item constraint).
    with raises_client_error("ValidationException"):
        ddb.batch_write_item(RequestItems={tbl: [put(str(i)) for i in range(26)]})
    assert count(ddb, tbl) == 0


def test_batch_write_puts_and_deletes(ddb, tbl):
    ddb.batch_write_item(RequestItems={tbl: [put("a"), put("b"), put("c")]})
    resp = ddb.batch_write_item(RequestItems={tbl: [delete("a"), delete("nope"), put("d")]})
    assert resp["UnprocessedItems"] == {}
    keys = sorted(it["pk"]["S"] for it in ddb.scan(TableName=tbl)["Items"])
    assert keys == ["b", "c", "d"]


@pytest.mark.parametrize("second", [put("a", v=N(2)), delete("a")])
def test_batch_write_duplicate_keys(ddb, tbl, second):
    with raises_client_error("ValidationException",
                             "Provided list of item keys contains duplicates"):
        ddb.batch_write_item(RequestItems={tbl: [put("a", v=N(1)), second]})
    assert count(ddb, tbl) == 0


def test_batch_write_two_tables(ddb, table):
    t1, t2 = table(range=None), table(range=None)
    # The same key in two different tables is not a duplicate.
    resp = ddb.batch_write_item(RequestItems={t1: [put("a")], t2: [put("a"), put("b")]})
    assert resp["UnprocessedItems"] == {}
    assert count(ddb, t1) == 1
    assert count(ddb, t2) == 2


def test_batch_write_missing_table(ddb, tbl):
    with raises_client_error("ResourceNotFoundException", MISSING_TABLE):
        ddb.batch_write_item(RequestItems={unique_name("missing"): [put("a")], tbl: [put("b")]})
    assert count(ddb, tbl) == 0


def test_batch_write_invalid_item_rejects_whole_batch(ddb, tbl):
    with raises_client_error("ValidationException", BAD_KEY):
        ddb.batch_write_item(RequestItems={tbl: [put("ok"), {"PutRequest": {"Item": {
            "x": S("1")}}}]})
    assert count(ddb, tbl) == 0


# AWS's generic length constraint, as dynalite records it (validations/batchWriteItem.js).
def test_batch_write_no_requests(ddb):
    with raises_client_error("ValidationException", Texts(
            aws="1 validation error detected: Value '{}' at 'requestItems' failed to satisfy "
                "constraint: Member must have length greater than or equal to 1",
            local="BatchWriteItem cannot have a null or no requests set")):
        ddb.batch_write_item(RequestItems={})


def test_batch_get_100(ddb, tbl):
    for start in range(0, 60, 25):
        ddb.batch_write_item(RequestItems={
            tbl: [put(str(i), v=N(i)) for i in range(start, min(start + 25, 60))]
        })
    resp = ddb.batch_get_item(RequestItems={tbl: {"Keys": [{"pk": S(str(i))} for i in range(100)]}})
    assert resp["UnprocessedKeys"] == {}
    got = sorted(int(it["v"]["N"]) for it in resp["Responses"][tbl])
    assert got == list(range(60))


def test_batch_get_101_rejected(ddb, tbl):
    # AWS fails the 100-key length constraint of one table's Keys (dynalite
    # validations/batchGetItem.js); how it echoes the keys in the message has varied.
    with raises_client_error("ValidationException", match=Texts(
            aws="failed to satisfy constraint: Member must have length less than or equal to 100",
            local="Too many items requested for the BatchGetItem call")):
        ddb.batch_get_item(RequestItems={tbl: {"Keys": [{"pk": S(str(i))} for i in range(101)]}})


def test_batch_get_projection_and_capacity(ddb, tbl, is_peer):
    ddb.put_item(TableName=tbl, Item={"pk": S("a"), "v": N(1), "w": N(2)})
    ddb.put_item(TableName=tbl, Item={"pk": S("b"), "w": N(2)})
    resp = ddb.batch_get_item(
        RequestItems={tbl: {"Keys": [{"pk": S("a")}, {"pk": S("b")}, {"pk": S("nope")}],
                            "ProjectionExpression": "#v", "ExpressionAttributeNames": {"#v": "v"},
                            "ConsistentRead": True}},
        ReturnConsumedCapacity="TOTAL",
    )
    # An item without the projected attribute comes back empty; a missing key not at all.
    assert sorted(resp["Responses"][tbl], key=len) == [{}, {"v": N(1)}]
    # One unit per strongly consistent read of each small item. AWS also charges the minimum
    # unit for a key that finds nothing, as GetItem does (dynalite db/index.js capacityUnits);
    # DynamoDB Local charges only the items found.
    units = 2.0 if is_peer else 3.0
    assert resp["ConsumedCapacity"] == [{"TableName": tbl, "CapacityUnits": units}]


def test_batch_get_two_tables(ddb, table):
    t1, t2 = table(range=None), table(range=None)
    ddb.put_item(TableName=t1, Item={"pk": S("a"), "t": S("one")})
    ddb.put_item(TableName=t2, Item={"pk": S("a"), "t": S("two")})
    resp = ddb.batch_get_item(RequestItems={t1: {"Keys": [{"pk": S("a")}]},
                                            t2: {"Keys": [{"pk": S("a")}]}})
    assert resp["Responses"][t1] == [{"pk": S("a"), "t": S("one")}]
    assert resp["Responses"][t2] == [{"pk": S("a"), "t": S("two")}]
    assert resp["UnprocessedKeys"] == {}


def test_batch_get_duplicate_keys(ddb, tbl):
    with raises_client_error("ValidationException",
                             "Provided list of item keys contains duplicates"):
        ddb.batch_get_item(RequestItems={tbl: {"Keys": [{"pk": S("a")}, {"pk": S("a")}]}})


def test_batch_get_missing_table(ddb):
    with raises_client_error("ResourceNotFoundException", MISSING_TABLE):
        ddb.batch_get_item(RequestItems={unique_name("missing"): {"Keys": [{"pk": S("a")}]}})


def test_batch_get_bad_key(ddb, tbl):
    with raises_client_error("ValidationException", BAD_KEY):
        ddb.batch_get_item(RequestItems={tbl: {"Keys": [{"x": S("a")}]}})


def test_batch_get_no_requests(ddb):
    with raises_client_error("ValidationException", Texts(
            aws="1 validation error detected: Value '{}' at 'requestItems' failed to satisfy "
                "constraint: Member must have length greater than or equal to 1",
            local="BatchGetItem must have some requests set")):
        ddb.batch_get_item(RequestItems={})
