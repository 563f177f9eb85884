"""DynamoDB Streams through boto3's `dynamodbstreams` client and the AWS CLI, on the same
endpoint as DynamoDB (as DynamoDB Local serves both)."""

import pytest

from compat_helpers import REGION, Texts, raises_client_error
from conftest import make_client

VIEWS = ["KEYS_ONLY", "NEW_IMAGE", "OLD_IMAGE", "NEW_AND_OLD_IMAGES"]


@pytest.fixture(scope="module")
def streams(endpoint):
    return make_client(endpoint, "dynamodbstreams")


def stream_table(table, view="NEW_AND_OLD_IMAGES"):
    return table(range=None, StreamSpecification={"StreamEnabled": True, "StreamViewType": view})


def latest_arn(ddb, name):
    return ddb.describe_table(TableName=name)["Table"]["LatestStreamArn"]


def read_all(streams, arn, start="TRIM_HORIZON", limit=None):
    """Every record of every shard, parents first, following NextShardIterator until a page
    comes back empty (open shard) or there is no next iterator (closed shard drained)."""
    records = []
    shards = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]
    for shard in shards:
        it = streams.get_shard_iterator(
            StreamArn=arn, ShardId=shard["ShardId"], ShardIteratorType=start
        )["ShardIterator"]
        while it:
            kwargs = {"ShardIterator": it}
            if limit:
                kwargs["Limit"] = limit
            page = streams.get_records(**kwargs)
            records.extend(page["Records"])
            it = page.get("NextShardIterator")
            if not page["Records"] and "EndingSequenceNumber" not in shard["SequenceNumberRange"]:
                break
    return records


def test_describe_table_shows_the_stream_until_disabled(ddb, table):
    name = stream_table(table, "NEW_IMAGE")
    desc = ddb.describe_table(TableName=name)["Table"]
    assert desc["StreamSpecification"] == {"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"}
    label = desc["LatestStreamLabel"]
    assert desc["LatestStreamArn"].endswith(f":table/{name}/stream/{label}")
    assert desc["LatestStreamArn"].startswith("arn:aws:dynamodb:")

    with raises_client_error(
        "ValidationException",
        Texts(
            aws=f"Table already has an enabled stream: TableName: {name}",
            local="Table already has an enabled stream",
        ),
    ):
        ddb.update_table(
            TableName=name,
            StreamSpecification={"StreamEnabled": True, "StreamViewType": "KEYS_ONLY"},
        )
    ddb.update_table(TableName=name, StreamSpecification={"StreamEnabled": False})
    after = ddb.describe_table(TableName=name)["Table"]
    assert "StreamSpecification" not in after
    assert after["LatestStreamArn"] == desc["LatestStreamArn"]
    with raises_client_error(
        "ValidationException",
        Texts(
            aws=f"Table has no stream to disable: TableName: {name}",
            local="Table has no stream to disable",
        ),
    ):
        ddb.update_table(TableName=name, StreamSpecification={"StreamEnabled": False})

    ddb.update_table(
        TableName=name, StreamSpecification={"StreamEnabled": True, "StreamViewType": "KEYS_ONLY"}
    )
    again = ddb.describe_table(TableName=name)["Table"]
    assert again["LatestStreamArn"] != desc["LatestStreamArn"]
    assert again["StreamSpecification"]["StreamViewType"] == "KEYS_ONLY"


@pytest.mark.parametrize("view", VIEWS)
def test_records_carry_the_images_their_view_type_promises(ddb, streams, table, is_peer, view):
    name = stream_table(table, view)
    arn = latest_arn(ddb, name)
    v1 = {"pk": {"S": "a"}, "n": {"N": "1"}}
    v2 = {"pk": {"S": "a"}, "n": {"N": "2"}}
    ddb.put_item(TableName=name, Item=v1)
    ddb.put_item(TableName=name, Item=v2)
    ddb.put_item(TableName=name, Item=v2)  # changes nothing: no record
    ddb.delete_item(TableName=name, Key={"pk": {"S": "a"}})
    ddb.delete_item(TableName=name, Key={"pk": {"S": "a"}})  # nothing to delete: no record
    records = read_all(streams, arn)
    assert [r["eventName"] for r in records] == ["INSERT", "MODIFY", "REMOVE"]
    seqs = [int(r["dynamodb"]["SequenceNumber"]) for r in records]
    assert seqs == sorted(seqs) and len(set(seqs)) == 3
    for r in records:
        assert r["eventSource"] == "aws:dynamodb"
        assert r["eventVersion"] == "1.1"
        if not is_peer:
            assert r["awsRegion"] == REGION
        assert r["dynamodb"]["Keys"] == {"pk": {"S": "a"}}
        assert r["dynamodb"]["StreamViewType"] == view
        assert r["dynamodb"]["SizeBytes"] > 0
        assert r["dynamodb"]["SequenceNumber"].isdecimal()
        assert "ApproximateCreationDateTime" in r["dynamodb"]
        assert "userIdentity" not in r
    new = view in ("NEW_IMAGE", "NEW_AND_OLD_IMAGES")
    old = view in ("OLD_IMAGE", "NEW_AND_OLD_IMAGES")
    images = [(r["dynamodb"].get("OldImage"), r["dynamodb"].get("NewImage")) for r in records]
    assert images == [
        (None, v1 if new else None),
        (v1 if old else None, v2 if new else None),
        (v2 if old else None, None),
    ]


def test_iterator_types_and_paging(ddb, streams, table):
    name = stream_table(table, "KEYS_ONLY")
    arn = latest_arn(ddb, name)
    for i in range(5):
        ddb.put_item(TableName=name, Item={"pk": {"S": f"k{i}"}})
    shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]
    assert len(shard["ShardId"]) >= 28
    assert "EndingSequenceNumber" not in shard["SequenceNumberRange"]
    paged = read_all(streams, arn, limit=2)
    assert [r["dynamodb"]["Keys"]["pk"]["S"] for r in paged] == [f"k{i}" for i in range(5)]
    third = paged[2]["dynamodb"]["SequenceNumber"]

    def keys_from(iterator_type, seq=None):
        kwargs = {"StreamArn": arn, "ShardId": shard["ShardId"], "ShardIteratorType": iterator_type}
        if seq:
            kwargs["SequenceNumber"] = seq
        it = streams.get_shard_iterator(**kwargs)["ShardIterator"]
        page = streams.get_records(ShardIterator=it)
        return [r["dynamodb"]["Keys"]["pk"]["S"] for r in page["Records"]], page

    assert keys_from("AT_SEQUENCE_NUMBER", third)[0] == ["k2", "k3", "k4"]
    assert keys_from("AFTER_SEQUENCE_NUMBER", third)[0] == ["k3", "k4"]
    latest_keys, latest_page = keys_from("LATEST")
    assert latest_keys == []
    ddb.put_item(TableName=name, Item={"pk": {"S": "later"}})
    page = streams.get_records(ShardIterator=latest_page["NextShardIterator"])
    assert [r["dynamodb"]["Keys"]["pk"]["S"] for r in page["Records"]] == ["later"]


def test_transactions_and_batches_write_records_failed_conditions_none(ddb, streams, table):
    name = stream_table(table, "NEW_IMAGE")
    arn = latest_arn(ddb, name)
    ddb.batch_write_item(
        RequestItems={name: [{"PutRequest": {"Item": {"pk": {"S": f"b{i}"}}}} for i in range(3)]}
    )
    ddb.transact_write_items(
        TransactItems=[
            {"Put": {"TableName": name, "Item": {"pk": {"S": "t1"}}}},
            {"Update": {
                "TableName": name,
                "Key": {"pk": {"S": "b0"}},
                "UpdateExpression": "SET v = :v",
                "ExpressionAttributeValues": {":v": {"N": "1"}},
            }},
        ]
    )
    with raises_client_error("ConditionalCheckFailedException"):
        ddb.put_item(
            TableName=name, Item={"pk": {"S": "t1"}}, ConditionExpression="attribute_not_exists(pk)"
        )
    with raises_client_error("TransactionCanceledException"):
        ddb.transact_write_items(
            TransactItems=[
                {"Put": {"TableName": name, "Item": {"pk": {"S": "never"}}}},
                {"ConditionCheck": {
                    "TableName": name,
                    "Key": {"pk": {"S": "missing"}},
                    "ConditionExpression": "attribute_exists(pk)",
                }},
            ]
        )
    records = read_all(streams, arn)
    assert sorted(r["dynamodb"]["Keys"]["pk"]["S"] for r in records) == ["b0", "b0", "b1", "b2", "t1"]
    assert records[-1]["eventName"] in ("INSERT", "MODIFY")


def test_disabled_stream_is_closed_and_drains(ddb, streams, table):
    name = stream_table(table, "KEYS_ONLY")
    arn = latest_arn(ddb, name)
    ddb.put_item(TableName=name, Item={"pk": {"S": "a"}})
    ddb.update_table(TableName=name, StreamSpecification={"StreamEnabled": False})
    ddb.put_item(TableName=name, Item={"pk": {"S": "b"}})  # after disabling: not recorded
    desc = streams.describe_stream(StreamArn=arn)["StreamDescription"]
    assert desc["StreamStatus"] == "DISABLED"
    shard = desc["Shards"][-1]
    assert "EndingSequenceNumber" in shard["SequenceNumberRange"]
    it = streams.get_shard_iterator(
        StreamArn=arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
    )["ShardIterator"]
    page = streams.get_records(ShardIterator=it)
    assert [r["dynamodb"]["Keys"]["pk"]["S"] for r in page["Records"]] == ["a"]
    assert "NextShardIterator" not in page
    listed = streams.list_streams(TableName=name)["Streams"]
    assert arn in [s["StreamArn"] for s in listed]


def test_describe_stream_fields(ddb, streams, table):
    name = stream_table(table, "OLD_IMAGE")
    arn = latest_arn(ddb, name)
    desc = streams.describe_stream(StreamArn=arn)["StreamDescription"]
    assert desc["StreamArn"] == arn
    assert desc["StreamStatus"] == "ENABLED"
    assert desc["StreamViewType"] == "OLD_IMAGE"
    assert desc["TableName"] == name
    assert desc["KeySchema"] == [{"AttributeName": "pk", "KeyType": "HASH"}]
    assert desc["StreamLabel"] == arn.rsplit("/", 1)[1]
    assert "CreationRequestDateTime" in desc
    start = desc["Shards"][0]["SequenceNumberRange"]["StartingSequenceNumber"]
    assert start.isdecimal()


def test_list_streams_pages(ddb, streams, table):
    names = [stream_table(table, "KEYS_ONLY") for _ in range(3)]
    seen = []
    kwargs = {"Limit": 1}
    while True:
        page = streams.list_streams(**kwargs)
        assert len(page["Streams"]) <= 1
        seen += [s["TableName"] for s in page["Streams"]]
        if "LastEvaluatedStreamArn" not in page:
            break
        kwargs["ExclusiveStartStreamArn"] = page["LastEvaluatedStreamArn"]
    for name in names:
        assert seen.count(name) == 1
    assert streams.list_streams(TableName=names[1])["Streams"][0]["TableName"] == names[1]


def test_errors(ddb, streams, table, is_peer):
    name = stream_table(table, "KEYS_ONLY")
    arn = latest_arn(ddb, name)
    shard_id = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
    with raises_client_error("ValidationException", "Invalid ShardIterator"):
        streams.get_records(ShardIterator="garbage-garbage-garbage")
    with raises_client_error("ResourceNotFoundException", "Shard does not exist"):
        streams.get_shard_iterator(
            StreamArn=arn,
            ShardId="shardId-00000000000000000000-00000000",
            ShardIteratorType="LATEST",
        )
    missing = "arn:aws:dynamodb:us-east-1:000000000000:table/nope/stream/2020-01-01T00:00:00.000"
    with raises_client_error("ResourceNotFoundException"):
        streams.describe_stream(StreamArn=missing)
    with raises_client_error("ValidationException"):
        streams.get_shard_iterator(
            StreamArn=arn, ShardId=shard_id, ShardIteratorType="AT_SEQUENCE_NUMBER"
        )
    if is_peer:
        return  # DynamoDB Local answers an out-of-shard sequence number with InternalFailure
    with raises_client_error(
        "ValidationException", "One or more parameter values were invalid: Invalid SequenceNumber"
    ):
        streams.get_shard_iterator(
            StreamArn=arn,
            ShardId=shard_id,
            ShardIteratorType="AT_SEQUENCE_NUMBER",
            SequenceNumber="999999999999999999999",
        )


def test_update_table_stream_validation(ddb, table):
    name = table(range=None)
    with raises_client_error("ValidationException"):
        ddb.update_table(TableName=name, StreamSpecification={"StreamEnabled": True})
    with raises_client_error("ValidationException"):
        ddb.update_table(
            TableName=name,
            StreamSpecification={"StreamEnabled": False, "StreamViewType": "KEYS_ONLY"},
        )
    assert "StreamSpecification" not in ddb.describe_table(TableName=name)["Table"]


def test_aws_cli_reads_streams(ddb, table, aws_cli):
    name = stream_table(table, "NEW_IMAGE")
    ddb.put_item(TableName=name, Item={"pk": {"S": "cli"}})
    listed = aws_cli.json("dynamodbstreams", "list-streams", "--table-name", name)
    arn = listed["Streams"][0]["StreamArn"]
    desc = aws_cli.json("dynamodbstreams", "describe-stream", "--stream-arn", arn)
    shard_id = desc["StreamDescription"]["Shards"][0]["ShardId"]
    it = aws_cli.json(
        "dynamodbstreams", "get-shard-iterator", "--stream-arn", arn, "--shard-id", shard_id,
        "--shard-iterator-type", "TRIM_HORIZON",
    )["ShardIterator"]
    records = aws_cli.json("dynamodbstreams", "get-records", "--shard-iterator", it)["Records"]
    assert records[0]["dynamodb"]["NewImage"] == {"pk": {"S": "cli"}}
