"""Secondary-index lifecycle: UpdateTable GlobalSecondaryIndexUpdates (create with backfill,
delete), their errors, ConsistentRead on indexes, and ItemCollectionMetrics for tables with
local secondary indexes.

DynamoDB Local never returns ItemCollectionMetrics (the API Reference says they are returned
for tables with LSIs when ReturnItemCollectionMetrics=SIZE), accepts a ProvisionedThroughput
for a new index of an on-demand table, and fails with InternalFailure when a provisioned table's
new index has none: those tests are aws_only.
"""

import time

import pytest

from compat_helpers import raises_client_error

S = lambda v: {"S": v}  # noqa: E731
N = lambda v: {"N": str(v)}  # noqa: E731

NO_ITEM_COLLECTION_METRICS = "DynamoDB Local never returns ItemCollectionMetrics"
ONE_ONLINE_INDEX = (
    "Subscriber limit exceeded: Only 1 online index can be created or deleted simultaneously "
    "per table"
)


def create_update(name, attr="g", typ="S", projection=None, **extra):
    spec = {
        "IndexName": name,
        "KeySchema": [{"AttributeName": attr, "KeyType": "HASH"}],
        "Projection": projection or {"ProjectionType": "ALL"},
    }
    spec.update(extra)
    return {"Create": spec}


def add_index(ddb, table, name, attr="g", typ="S", **extra):
    return ddb.update_table(
        TableName=table,
        AttributeDefinitions=[{"AttributeName": attr, "AttributeType": typ}],
        GlobalSecondaryIndexUpdates=[create_update(name, attr, typ, **extra)],
    )["TableDescription"]


def gsi(desc, name):
    return next((g for g in desc.get("GlobalSecondaryIndexes", []) if g["IndexName"] == name), None)


def wait_index(ddb, table, name, gone=False, timeout=30.0):
    deadline = time.monotonic() + timeout
    while True:
        desc = ddb.describe_table(TableName=table)["Table"]
        index = gsi(desc, name)
        if (index is None) if gone else (index is not None and index["IndexStatus"] == "ACTIVE"):
            return desc
        assert time.monotonic() < deadline, f"index {name} not {'gone' if gone else 'ACTIVE'}"
        time.sleep(0.1)


def query_g(ddb, table, value, index="by_g"):
    items, start = [], {}
    while True:
        resp = ddb.query(TableName=table, IndexName=index, KeyConditionExpression="g = :g",
                         ExpressionAttributeValues={":g": S(value)}, **start)
        items += resp["Items"]
        if "LastEvaluatedKey" not in resp:
            return items
        start = {"ExclusiveStartKey": resp["LastEvaluatedKey"]}


def put_many(ddb, table, items):
    for i in range(0, len(items), 25):
        ddb.batch_write_item(
            RequestItems={table: [{"PutRequest": {"Item": it}} for it in items[i:i + 25]]})


def table_with_items(ddb, table, count=300):
    name = table(range=None)
    items = []
    for i in range(count):
        item = {"pk": S(f"p{i}"), "n": N(i)}
        if i % 4:
            item["g"] = S(f"g{i % 3}")  # every fourth item is not in the (sparse) index
        items.append(item)
    put_many(ddb, name, items)
    return name


def expect_index_matches_table(ddb, name, values):
    current = {it["pk"]["S"]: it for it in ddb.scan(TableName=name)["Items"]}
    for value in values:
        got = sorted(query_g(ddb, name, value), key=lambda it: it["pk"]["S"])
        want = sorted((it for it in current.values() if it.get("g") == S(value)),
                      key=lambda it: it["pk"]["S"])
        assert got == want, value


def test_create_index_on_table_with_items_backfills_it(ddb, table):
    name = table_with_items(ddb, table)
    desc = add_index(ddb, name, "by_g")
    created = gsi(desc, "by_g")
    assert created["IndexStatus"] == "CREATING"
    assert created["KeySchema"] == [{"AttributeName": "g", "KeyType": "HASH"}]
    assert "Backfilling" in created
    assert {"AttributeName": "g", "AttributeType": "S"} in desc["AttributeDefinitions"]

    desc = wait_index(ddb, name, "by_g")
    assert "Backfilling" not in gsi(desc, "by_g")
    expect_index_matches_table(ddb, name, ["g0", "g1", "g2"])
    ddb.put_item(TableName=name, Item={"pk": S("new"), "g": S("later")})
    assert [it["pk"] for it in query_g(ddb, name, "later")] == [S("new")]


@pytest.mark.aws_only(reason="DynamoDB Local fails writes with InternalFailure while an index "
                             "is being created")
def test_writes_during_backfill_are_indexed(ddb, table):
    name = table_with_items(ddb, table)
    add_index(ddb, name, "by_g")
    for i in range(0, 300, 10):
        ddb.put_item(TableName=name, Item={"pk": S(f"p{i}"), "g": S("moved"), "n": N(-i)})
    ddb.delete_item(TableName=name, Key={"pk": S("p1")})
    wait_index(ddb, name, "by_g")
    expect_index_matches_table(ddb, name, ["g0", "g1", "g2", "moved"])


def test_create_index_with_range_key_and_projection(ddb, table):
    name = table(range=None)
    ddb.put_item(TableName=name, Item={"pk": S("a"), "g": S("x"), "r": N(2), "keep": S("k"),
                                       "drop": S("d")})
    ddb.update_table(
        TableName=name,
        AttributeDefinitions=[{"AttributeName": "g", "AttributeType": "S"},
                              {"AttributeName": "r", "AttributeType": "N"}],
        GlobalSecondaryIndexUpdates=[{"Create": {
            "IndexName": "by_g_r",
            "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"},
                          {"AttributeName": "r", "KeyType": "RANGE"}],
            "Projection": {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["keep"]}}}])
    wait_index(ddb, name, "by_g_r")
    resp = ddb.query(TableName=name, IndexName="by_g_r",
                     KeyConditionExpression="g = :g AND r > :r",
                     ExpressionAttributeValues={":g": S("x"), ":r": N(1)})
    assert resp["Items"] == [{"pk": S("a"), "g": S("x"), "r": N(2), "keep": S("k")}]


def test_delete_index(ddb, table):
    name = table(range=None, gsis=[("by_g", ("g", "S"))])
    ddb.put_item(TableName=name, Item={"pk": S("a"), "g": S("x")})
    assert len(query_g(ddb, name, "x")) == 1
    desc = ddb.update_table(TableName=name,
                            GlobalSecondaryIndexUpdates=[{"Delete": {"IndexName": "by_g"}}])
    assert gsi(desc["TableDescription"], "by_g")["IndexStatus"] == "DELETING"
    desc = wait_index(ddb, name, "by_g", gone=True)
    assert "GlobalSecondaryIndexes" not in desc
    assert desc["AttributeDefinitions"] == [{"AttributeName": "pk", "AttributeType": "S"}]
    with raises_client_error("ValidationException",
                             "The table does not have the specified index: by_g"):
        query_g(ddb, name, "x")
    # The name can be used again, and the new index starts from the table's items.
    add_index(ddb, name, "by_g")
    wait_index(ddb, name, "by_g")
    assert len(query_g(ddb, name, "x")) == 1


def test_two_index_changes_in_one_call(ddb, table):
    name = table(range=None, gsis=[("old", ("o", "S"))])
    for updates in ([create_update("ixa"), create_update("ixb")],
                    [create_update("ixa"), {"Delete": {"IndexName": "old"}}],
                    [{"Delete": {"IndexName": "old"}}, {"Delete": {"IndexName": "nope"}}]):
        with raises_client_error("LimitExceededException", ONE_ONLINE_INDEX):
            ddb.update_table(TableName=name,
                             AttributeDefinitions=[{"AttributeName": "g", "AttributeType": "S"}],
                             GlobalSecondaryIndexUpdates=updates)
    assert [g["IndexName"] for g in ddb.describe_table(TableName=name)["Table"]
            ["GlobalSecondaryIndexes"]] == ["old"]


def test_index_update_errors(ddb, table):
    name = table(range=None, gsis=[("by_g", ("g", "S"))])
    with raises_client_error("ResourceNotFoundException", "Requested resource not found"):
        ddb.update_table(TableName=name,
                         GlobalSecondaryIndexUpdates=[{"Delete": {"IndexName": "nope"}}])
    with raises_client_error("ValidationException",
                             "Attempting to create an index which already exists"):
        add_index(ddb, name, "by_g", attr="h")
    with raises_client_error("ValidationException", "No Attribute Schema Defined"):
        ddb.update_table(TableName=name, GlobalSecondaryIndexUpdates=[create_update("by_h")])
    with raises_client_error(
            "ValidationException",
            "invalid attribute, SchemaElement redefined should be of same type as previously "
            "defined"):
        add_index(ddb, name, "by_pk", attr="pk", typ="N")
    with raises_client_error("ValidationException", "Update global secondary index action is null"):
        ddb.update_table(TableName=name, GlobalSecondaryIndexUpdates=[{}])


def test_index_count_limit(ddb, table):
    name = table(range=None, gsis=[(f"ix{i:02d}", (f"a{i}", "S")) for i in range(20)])
    with raises_client_error("LimitExceededException",
                             "Number of global secondary indexes exceeds per-table limit"):
        add_index(ddb, name, "one_more", attr="b")


@pytest.mark.aws_only(reason="DynamoDB Local fails with InternalFailure")
def test_provisioned_table_index_needs_throughput(ddb, table):
    name = table(range=None,
                 ProvisionedThroughput={"ReadCapacityUnits": 1, "WriteCapacityUnits": 1})
    with raises_client_error(
            "ValidationException",
            "One or more parameter values were invalid: ProvisionedThroughput must be specified "
            "for index: by_g"):
        add_index(ddb, name, "by_g")
    desc = add_index(ddb, name, "by_g",
                     ProvisionedThroughput={"ReadCapacityUnits": 2, "WriteCapacityUnits": 3})
    throughput = gsi(desc, "by_g")["ProvisionedThroughput"]
    assert (throughput["ReadCapacityUnits"], throughput["WriteCapacityUnits"]) == (2, 3)


@pytest.mark.aws_only(reason="DynamoDB Local accepts it")
def test_on_demand_table_index_refuses_throughput(ddb, table):
    name = table(range=None)
    with raises_client_error(
            "ValidationException",
            "One or more parameter values were invalid: ProvisionedThroughput should not be "
            "specified for index: by_g when BillingMode is PAY_PER_REQUEST"):
        add_index(ddb, name, "by_g",
                  ProvisionedThroughput={"ReadCapacityUnits": 2, "WriteCapacityUnits": 3})


@pytest.fixture
def lsi_table(table):
    return table(
        range=("sk", "S"),
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                              {"AttributeName": "sk", "AttributeType": "S"},
                              {"AttributeName": "l", "AttributeType": "S"},
                              {"AttributeName": "g", "AttributeType": "S"}],
        LocalSecondaryIndexes=[{
            "IndexName": "by_l",
            "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"},
                          {"AttributeName": "l", "KeyType": "RANGE"}],
            "Projection": {"ProjectionType": "ALL"}}],
        GlobalSecondaryIndexes=[{
            "IndexName": "by_g",
            "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
            "Projection": {"ProjectionType": "ALL"}}])


def test_consistent_read_on_local_but_not_global_index(ddb, lsi_table):
    ddb.put_item(TableName=lsi_table, Item={"pk": S("a"), "sk": S("1"), "l": S("x"), "g": S("y")})
    resp = ddb.query(TableName=lsi_table, IndexName="by_l", ConsistentRead=True,
                     KeyConditionExpression="pk = :p", ExpressionAttributeValues={":p": S("a")})
    assert resp["Count"] == 1
    with raises_client_error("ValidationException",
                             "Consistent reads are not supported on global secondary indexes"):
        ddb.query(TableName=lsi_table, IndexName="by_g", ConsistentRead=True,
                  KeyConditionExpression="g = :g", ExpressionAttributeValues={":g": S("y")})


def test_no_item_collection_metrics_unless_asked_or_without_lsi(ddb, table, lsi_table):
    resp = ddb.put_item(TableName=lsi_table, Item={"pk": S("a"), "sk": S("1")})
    assert "ItemCollectionMetrics" not in resp
    plain = table()
    resp = ddb.put_item(TableName=plain, Item={"pk": S("a"), "sk": S("1")},
                        ReturnItemCollectionMetrics="SIZE")
    assert "ItemCollectionMetrics" not in resp
    resp = ddb.batch_write_item(RequestItems={plain: [{"PutRequest": {"Item": {
        "pk": S("b"), "sk": S("1")}}}]}, ReturnItemCollectionMetrics="SIZE")
    assert not resp.get("ItemCollectionMetrics")


def metrics(pk):
    return {"ItemCollectionKey": {"pk": S(pk)}, "SizeEstimateRangeGB": [0.0, 1.0]}


@pytest.mark.aws_only(reason=NO_ITEM_COLLECTION_METRICS)
def test_item_collection_metrics_single_item_writes(ddb, lsi_table):
    resp = ddb.put_item(TableName=lsi_table, Item={"pk": S("a"), "sk": S("1"), "l": S("x")},
                        ReturnItemCollectionMetrics="SIZE")
    assert resp["ItemCollectionMetrics"] == metrics("a")
    resp = ddb.update_item(TableName=lsi_table, Key={"pk": S("a"), "sk": S("2")},
                           UpdateExpression="SET z = :z", ExpressionAttributeValues={":z": N(1)},
                           ReturnItemCollectionMetrics="SIZE")
    assert resp["ItemCollectionMetrics"] == metrics("a")
    resp = ddb.delete_item(TableName=lsi_table, Key={"pk": S("a"), "sk": S("2")},
                           ReturnItemCollectionMetrics="SIZE")
    assert resp["ItemCollectionMetrics"] == metrics("a")


@pytest.mark.aws_only(reason=NO_ITEM_COLLECTION_METRICS)
def test_item_collection_metrics_batch_and_transaction(ddb, lsi_table):
    resp = ddb.batch_write_item(RequestItems={lsi_table: [
        {"PutRequest": {"Item": {"pk": S("b"), "sk": S("1")}}},
        {"PutRequest": {"Item": {"pk": S("b"), "sk": S("2")}}},
        {"DeleteRequest": {"Key": {"pk": S("c"), "sk": S("1")}}},
    ]}, ReturnItemCollectionMetrics="SIZE")
    assert resp["ItemCollectionMetrics"] == {lsi_table: [metrics("b"), metrics("c")]}
    resp = ddb.transact_write_items(TransactItems=[
        {"Put": {"TableName": lsi_table, "Item": {"pk": S("d"), "sk": S("1")}}},
        {"ConditionCheck": {"TableName": lsi_table, "Key": {"pk": S("b"), "sk": S("1")},
                            "ConditionExpression": "attribute_exists(pk)"}},
    ], ReturnItemCollectionMetrics="SIZE")
    assert resp["ItemCollectionMetrics"] == {lsi_table: [metrics("d")]}
