"""Time to Live: UpdateTimeToLive / DescribeTimeToLive on any endpoint, and the sweeper of our
own server (started with --ttl-period-seconds) deleting expired items as the service, which
DynamoDB Streams shows as REMOVE records with the service's userIdentity."""

import subprocess
import time

import pytest

from compat_helpers import Texts, raises_client_error, unique_name
from conftest import cruddur_bin, make_client


def enable(ddb, name, attribute="exp"):
    return ddb.update_time_to_live(
        TableName=name, TimeToLiveSpecification={"Enabled": True, "AttributeName": attribute}
    )


def test_disabled_until_enabled_then_disabled_again(ddb, table):
    name = table(range=None)
    assert ddb.describe_time_to_live(TableName=name)["TimeToLiveDescription"] == {
        "TimeToLiveStatus": "DISABLED"
    }
    answer = enable(ddb, name)
    assert answer["TimeToLiveSpecification"] == {"Enabled": True, "AttributeName": "exp"}
    assert ddb.describe_time_to_live(TableName=name)["TimeToLiveDescription"] == {
        "TimeToLiveStatus": "ENABLED",
        "AttributeName": "exp",
    }
    answer = ddb.update_time_to_live(
        TableName=name, TimeToLiveSpecification={"Enabled": False, "AttributeName": "exp"}
    )
    assert answer["TimeToLiveSpecification"] == {"Enabled": False, "AttributeName": "exp"}
    assert ddb.describe_time_to_live(TableName=name)["TimeToLiveDescription"] == {
        "TimeToLiveStatus": "DISABLED"
    }


def test_state_errors(ddb, table):
    name = table(range=None)
    with raises_client_error("ValidationException", "TimeToLive is already disabled"):
        ddb.update_time_to_live(
            TableName=name, TimeToLiveSpecification={"Enabled": False, "AttributeName": "exp"}
        )
    enable(ddb, name)
    with raises_client_error("ValidationException", "TimeToLive is already enabled"):
        enable(ddb, name)
    different = Texts(
        aws="TimeToLive is active on a different AttributeName: current AttributeName is exp",
        local="TimeToLive is active on a different AttributeName",
    )
    with raises_client_error("ValidationException", different):
        enable(ddb, name, "other")
    with raises_client_error("ValidationException", different):
        ddb.update_time_to_live(
            TableName=name, TimeToLiveSpecification={"Enabled": False, "AttributeName": "other"}
        )


def test_missing_table(ddb):
    missing = unique_name("nope")
    text = Texts(
        aws=f"Requested resource not found: Table: {missing} not found",
        local="Cannot do operations on a non-existent table",
    )
    with raises_client_error("ResourceNotFoundException", text):
        ddb.describe_time_to_live(TableName=missing)
    with raises_client_error("ResourceNotFoundException", text):
        enable(ddb, missing)


def test_specification_validation(unchecked, table):
    name = table(range=None)
    with raises_client_error(
        "ValidationException",
        Texts(
            aws="1 validation error detected: Value null at 'timeToLiveSpecification' failed to "
            "satisfy constraint: Member must not be null",
            local="TimeToLiveSpecification cannot be null",
        ),
    ):
        unchecked.update_time_to_live(TableName=name)
    with raises_client_error(
        "ValidationException",
        Texts(
            aws="1 validation error detected: Value null at "
            "'timeToLiveSpecification.attributeName' failed to satisfy constraint: Member must "
            "not be null",
            local="AttributeName cannot be null when time to live is being enabled",
        ),
    ):
        unchecked.update_time_to_live(TableName=name, TimeToLiveSpecification={"Enabled": True})
    local_length = (
        "Names of key attributes and attributes projected into an index must be between 1 and "
        "255 characters, inclusive"
    )
    with raises_client_error(
        "ValidationException",
        Texts(
            aws="1 validation error detected: Value '' at 'timeToLiveSpecification.attributeName' "
            "failed to satisfy constraint: Member must have length greater than or equal to 1",
            local=local_length,
        ),
    ):
        unchecked.update_time_to_live(
            TableName=name, TimeToLiveSpecification={"Enabled": True, "AttributeName": ""}
        )
    with raises_client_error(
        "ValidationException",
        Texts(
            aws=f"1 validation error detected: Value '{'x' * 256}' at "
            "'timeToLiveSpecification.attributeName' failed to satisfy constraint: Member must "
            "have length less than or equal to 255",
            local=local_length,
        ),
    ):
        unchecked.update_time_to_live(
            TableName=name, TimeToLiveSpecification={"Enabled": True, "AttributeName": "x" * 256}
        )


# ---------------------------------------------------------------------------------------------
# The sweeper (our own server: how often it runs is our flag)


def read_records(streams, arn):
    records = []
    for shard in streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]:
        it = streams.get_shard_iterator(
            StreamArn=arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        while it:
            page = streams.get_records(ShardIterator=it)
            records.extend(page["Records"])
            it = page.get("NextShardIterator")
            if not page["Records"]:
                break
    return records


def ttl_table(ddb, stream=True):
    name = unique_name("ttl")
    params = {
        "TableName": name,
        "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
        "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
        "BillingMode": "PAY_PER_REQUEST",
    }
    if stream:
        params["StreamSpecification"] = {
            "StreamEnabled": True,
            "StreamViewType": "NEW_AND_OLD_IMAGES",
        }
    ddb.create_table(**params)
    enable(ddb, name)
    return name


def wait_for(predicate, timeout=15.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.2)
    return predicate()


@pytest.mark.own_server
def test_sweeper_deletes_expired_items_as_the_service(spawn_server):
    server = spawn_server("--in-memory", "--ttl-period-seconds", "1")
    ddb = server.client()
    streams = make_client(server.endpoint, "dynamodbstreams")
    name = ttl_table(ddb)
    now = int(time.time())
    items = {
        "expired": {"N": str(now - 60)},
        "fraction": {"N": f"{now - 60}.5"},
        "future": {"N": str(now + 3600)},
        "text": {"S": str(now - 60)},
        "ancient": {"N": str(now - 6 * 365 * 86400)},  # more than five years ago: ignored
        "millis": {"N": str((now - 60) * 1000)},  # milliseconds read as seconds: the future
    }
    for pk, exp in items.items():
        ddb.put_item(TableName=name, Item={"pk": {"S": pk}, "exp": exp, "v": {"S": pk}})
    ddb.put_item(TableName=name, Item={"pk": {"S": "none"}})

    def keys():
        return {i["pk"]["S"] for i in ddb.scan(TableName=name, ConsistentRead=True)["Items"]}

    assert wait_for(lambda: "expired" not in keys() and "fraction" not in keys())
    assert keys() == {"future", "text", "ancient", "millis", "none"}

    arn = ddb.describe_table(TableName=name)["Table"]["LatestStreamArn"]
    removes = [r for r in read_records(streams, arn) if r["eventName"] == "REMOVE"]
    assert sorted(r["dynamodb"]["Keys"]["pk"]["S"] for r in removes) == ["expired", "fraction"]
    for r in removes:
        assert r["userIdentity"] == {"PrincipalId": "dynamodb.amazonaws.com", "Type": "Service"}
        pk = r["dynamodb"]["Keys"]["pk"]["S"]
        assert r["dynamodb"]["OldImage"] == {
            "pk": {"S": pk},
            "exp": items[pk],
            "v": {"S": pk},
        }
        assert "NewImage" not in r["dynamodb"]

    # A client's own delete carries no userIdentity.
    ddb.delete_item(TableName=name, Key={"pk": {"S": "none"}})
    last = read_records(streams, arn)[-1]
    assert last["eventName"] == "REMOVE" and "userIdentity" not in last
    assert server.terminate() == 0


@pytest.mark.own_server
def test_an_item_whose_ttl_moves_to_the_future_is_kept(spawn_server):
    server = spawn_server("--in-memory", "--ttl-period-seconds", "1")
    ddb = server.client()
    name = ttl_table(ddb, stream=False)
    soon = int(time.time()) + 3
    for pk in ("moved", "control"):
        ddb.put_item(TableName=name, Item={"pk": {"S": pk}, "exp": {"N": str(soon)}})
    ddb.update_item(
        TableName=name,
        Key={"pk": {"S": "moved"}},
        UpdateExpression="SET exp = :later",
        ExpressionAttributeValues={":later": {"N": str(soon + 3600)}},
    )

    def exists(pk):
        return "Item" in ddb.get_item(TableName=name, Key={"pk": {"S": pk}}, ConsistentRead=True)

    assert wait_for(lambda: not exists("control"))
    time.sleep(1.5)  # at least one more pass
    assert exists("moved")
    assert server.terminate() == 0


@pytest.mark.own_server
def test_expired_items_stay_readable_until_swept(spawn_server):
    # The first pass runs at start-up, before the table exists; the next one is an hour away.
    server = spawn_server("--in-memory", "--ttl-period-seconds", "3600")
    ddb = server.client()
    name = ttl_table(ddb, stream=False)
    past = str(int(time.time()) - 60)
    ddb.put_item(TableName=name, Item={"pk": {"S": "a"}, "exp": {"N": past}})
    got = ddb.get_item(TableName=name, Key={"pk": {"S": "a"}}, ConsistentRead=True)
    assert got["Item"] == {"pk": {"S": "a"}, "exp": {"N": past}}
    assert ddb.query(
        TableName=name,
        KeyConditionExpression="pk = :a",
        ExpressionAttributeValues={":a": {"S": "a"}},
    )["Count"] == 1
    assert ddb.scan(TableName=name)["Count"] == 1
    assert server.terminate() == 0


@pytest.mark.own_server
def test_disabled_ttl_deletes_nothing(spawn_server):
    server = spawn_server("--in-memory", "--ttl-period-seconds", "1")
    ddb = server.client()
    name = ttl_table(ddb, stream=False)
    ddb.update_time_to_live(
        TableName=name, TimeToLiveSpecification={"Enabled": False, "AttributeName": "exp"}
    )
    ddb.put_item(TableName=name, Item={"pk": {"S": "a"}, "exp": {"N": "1700000000"}})
    time.sleep(2.5)
    assert "Item" in ddb.get_item(TableName=name, Key={"pk": {"S": "a"}}, ConsistentRead=True)
    assert server.terminate() == 0


@pytest.mark.own_server
def test_ttl_period_flag_is_checked():
    proc = subprocess.run(
        [str(cruddur_bin()), "dynamodb", "--in-memory", "--ttl-period-seconds", "0"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert proc.returncode != 0
    assert "--ttl-period-seconds" in proc.stderr + proc.stdout
