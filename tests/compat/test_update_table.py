"""UpdateTable beyond indexes and streams: billing mode switches (and the index throughput they
need), provisioned throughput changes, table class, deletion protection, and DeleteTable of a
table that clients are still writing to.

Texts follow the live service as recorded by dynalite's validation tests; DynamoDB Local words
several of them differently (Texts pairs) and fails with InternalFailure where the service
answers ValidationException (those tests are aws_only). This botocore predates
DeletionProtectionEnabled, so those calls are signed by hand (call_raw).
"""

import threading
import time

import botocore.exceptions
import pytest

from compat_helpers import Texts, call_raw, raises_client_error

S = lambda v: {"S": v}  # noqa: E731
INVALID = "One or more parameter values were invalid: "
LOCAL_INTERNAL_FAILURE = "DynamoDB Local answers InternalFailure instead of the service's error"


def provisioned(read, write):
    return {"ReadCapacityUnits": read, "WriteCapacityUnits": write}


def index_update(name, read, write):
    return {"Update": {"IndexName": name, "ProvisionedThroughput": provisioned(read, write)}}


def throughput(desc):
    return desc["ProvisionedThroughput"]["ReadCapacityUnits"], \
        desc["ProvisionedThroughput"]["WriteCapacityUnits"]


def index(desc, name):
    return next(g for g in desc["GlobalSecondaryIndexes"] if g["IndexName"] == name)


@pytest.fixture
def on_demand(table):
    return table(range=None, gsis=[("by_g", ("g", "S"))])


def test_switch_to_provisioned_and_back(ddb, on_demand, is_peer):
    desc = ddb.describe_table(TableName=on_demand)["Table"]
    assert desc["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"

    desc = ddb.update_table(TableName=on_demand, BillingMode="PROVISIONED",
                            ProvisionedThroughput=provisioned(3, 4),
                            GlobalSecondaryIndexUpdates=[index_update("by_g", 1, 2)])
    desc = desc["TableDescription"]
    assert throughput(desc) == (3, 4)
    assert throughput(index(desc, "by_g")) == (1, 2)
    # A table that was on demand keeps a summary saying when it last was.
    assert desc["BillingModeSummary"]["BillingMode"] == "PROVISIONED"
    assert "LastUpdateToPayPerRequestDateTime" in desc["BillingModeSummary"]
    again = ddb.describe_table(TableName=on_demand)["Table"]
    assert throughput(again) == (3, 4) and throughput(index(again, "by_g")) == (1, 2)

    desc = ddb.update_table(TableName=on_demand, BillingMode="PAY_PER_REQUEST")
    desc = desc["TableDescription"]
    assert desc["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    # On demand, neither the table nor its indexes have provisioned units. (DynamoDB Local
    # keeps reporting the index's old units; the service answers 0, as dynalite recorded.)
    assert throughput(desc) == (0, 0)
    if not is_peer:
        assert throughput(index(desc, "by_g")) == (0, 0)
        again = ddb.describe_table(TableName=on_demand)["Table"]
        assert throughput(index(again, "by_g")) == (0, 0)
    # Items stay readable and writable across the switches.
    ddb.put_item(TableName=on_demand, Item={"pk": S("a"), "g": S("x")})
    assert ddb.get_item(TableName=on_demand, Key={"pk": S("a")})["Item"]["g"] == S("x")


def test_switch_to_provisioned_needs_throughput(ddb, on_demand):
    with raises_client_error("ValidationException", Texts(
            aws=INVALID + "ProvisionedThroughput must be specified when BillingMode is PROVISIONED",
            local="No provisioned throughput specified for the table")):
        ddb.update_table(TableName=on_demand, BillingMode="PROVISIONED")
    assert ddb.describe_table(TableName=on_demand)["Table"]["BillingModeSummary"][
        "BillingMode"] == "PAY_PER_REQUEST"


@pytest.mark.aws_only(reason=LOCAL_INTERNAL_FAILURE)
def test_switch_to_provisioned_needs_every_index_throughput(ddb, table):
    name = table(range=None, gsis=[("by_g", ("g", "S")), ("by_h", ("h", "S"))])
    with raises_client_error("ValidationException",
                             INVALID + "ProvisionedThroughput must be specified for index: "
                             "by_g,by_h"):
        ddb.update_table(TableName=name, BillingMode="PROVISIONED",
                         ProvisionedThroughput=provisioned(3, 4))
    with raises_client_error("ValidationException",
                             INVALID + "ProvisionedThroughput must be specified for index: by_h"):
        ddb.update_table(TableName=name, BillingMode="PROVISIONED",
                         ProvisionedThroughput=provisioned(3, 4),
                         GlobalSecondaryIndexUpdates=[index_update("by_g", 1, 1)])
    # Nothing of a refused switch is applied.
    desc = ddb.describe_table(TableName=name)["Table"]
    assert desc["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    assert throughput(desc) == (0, 0) and throughput(index(desc, "by_g")) == (0, 0)


@pytest.mark.aws_only(reason="DynamoDB Local accepts and ignores the units")
def test_throughput_of_an_on_demand_table_is_refused(ddb, on_demand):
    with raises_client_error("ValidationException",
                             INVALID + "Neither ReadCapacityUnits nor WriteCapacityUnits can be "
                             "specified when BillingMode is PAY_PER_REQUEST"):
        ddb.update_table(TableName=on_demand, ProvisionedThroughput=provisioned(1, 1))


@pytest.mark.aws_only(reason=LOCAL_INTERNAL_FAILURE)
def test_index_throughput_of_an_on_demand_table_is_refused(ddb, on_demand):
    with raises_client_error("ValidationException",
                             INVALID + "ProvisionedThroughput should not be specified for index: "
                             "by_g when BillingMode is PAY_PER_REQUEST"):
        ddb.update_table(TableName=on_demand,
                         GlobalSecondaryIndexUpdates=[index_update("by_g", 1, 1)])


def test_change_provisioned_throughput(ddb, table):
    name = table(range=None, gsis=[("by_g", ("g", "S"))],
                 ProvisionedThroughput=provisioned(5, 5))
    desc = ddb.update_table(TableName=name, ProvisionedThroughput=provisioned(7, 9))
    assert throughput(desc["TableDescription"]) == (7, 9)
    desc = ddb.update_table(TableName=name,
                            GlobalSecondaryIndexUpdates=[index_update("by_g", 2, 3)])
    assert throughput(index(desc["TableDescription"], "by_g")) == (2, 3)
    desc = ddb.describe_table(TableName=name)["Table"]
    assert throughput(desc) == (7, 9) and throughput(index(desc, "by_g")) == (2, 3)
    # A table created PROVISIONED has never been on demand: no BillingModeSummary.
    assert "BillingModeSummary" not in desc

    with raises_client_error("ValidationException", Texts(
            aws="The provisioned throughput for the table will not change. The requested value "
                "equals the current value. Current ReadCapacityUnits provisioned for the table: "
                "7. Requested ReadCapacityUnits: 7. Current WriteCapacityUnits provisioned for "
                "the table: 9. Requested WriteCapacityUnits: 9. Refer to the Amazon DynamoDB "
                "Developer Guide for current limits and how to request higher limits.",
            local="The requested throughput value equals the current value")):
        ddb.update_table(TableName=name, ProvisionedThroughput=provisioned(7, 9))


def test_index_update_errors(endpoint, on_demand):
    # The same index twice in one call.
    status, body = call_raw(endpoint, "UpdateTable", {
        "TableName": on_demand,
        "GlobalSecondaryIndexUpdates": [{"Delete": {"IndexName": "by_g"}},
                                        {"Delete": {"IndexName": "by_g"}}]})
    assert status == 400 and body["__type"].endswith("#ValidationException")
    assert (body.get("message") or body.get("Message")).startswith(
        Texts(aws=INVALID, local="").expected()
        + "Only one global secondary index update per index is allowed simultaneously.")
    # An index the table does not have.
    status, body = call_raw(endpoint, "UpdateTable", {
        "TableName": on_demand,
        "GlobalSecondaryIndexUpdates": [{"Delete": {"IndexName": "nope"}}]})
    assert status == 400 and body["__type"].endswith("#ResourceNotFoundException")


def test_nothing_to_update(ddb, on_demand):
    with raises_client_error("ValidationException", Texts(
            aws="At least one of ProvisionedThroughput, BillingMode, UpdateStreamEnabled, "
                "GlobalSecondaryIndexUpdates or SSESpecification or ReplicaUpdates is required",
            local="Nothing to update")):
        ddb.update_table(TableName=on_demand)


def test_missing_table(ddb):
    with raises_client_error("ResourceNotFoundException"):
        ddb.update_table(TableName="compat-no-such-table", BillingMode="PAY_PER_REQUEST")


@pytest.mark.aws_only(reason="DynamoDB Local refuses TableClass alone with 'Nothing to update'")
def test_table_class(ddb, on_demand):
    desc = ddb.update_table(TableName=on_demand, TableClass="STANDARD_INFREQUENT_ACCESS")
    summary = desc["TableDescription"]["TableClassSummary"]
    assert summary["TableClass"] == "STANDARD_INFREQUENT_ACCESS"
    assert "LastUpdateDateTime" in summary
    desc = ddb.describe_table(TableName=on_demand)["Table"]
    assert desc["TableClassSummary"]["TableClass"] == "STANDARD_INFREQUENT_ACCESS"


def test_deletion_protection(endpoint, ddb, on_demand):
    status, body = call_raw(endpoint, "UpdateTable",
                            {"TableName": on_demand, "DeletionProtectionEnabled": True})
    assert status == 200 and body["TableDescription"]["DeletionProtectionEnabled"] is True
    status, body = call_raw(endpoint, "DeleteTable", {"TableName": on_demand})
    assert status == 400 and body["__type"].endswith("#ValidationException")
    assert (body.get("message") or body.get("Message")) == (
        "Resource cannot be deleted as it is currently protected against deletion. Disable "
        "deletion protection first.")
    status, body = call_raw(endpoint, "DescribeTable", {"TableName": on_demand})
    assert body["Table"]["TableStatus"] == "ACTIVE"
    assert body["Table"]["DeletionProtectionEnabled"] is True
    status, body = call_raw(endpoint, "UpdateTable",
                            {"TableName": on_demand, "DeletionProtectionEnabled": False})
    assert status == 200 and body["TableDescription"]["DeletionProtectionEnabled"] is False
    ddb.delete_table(TableName=on_demand)


def test_delete_table_while_clients_write(ddb, table, endpoint):
    """Writers and readers keep going while the table is deleted: each call either succeeds
    (before the deletion) or gets ResourceNotFoundException (after), never another error; and
    a table created again under the name starts empty."""
    name = table(range=("sk", "S"), gsis=[("by_g", ("g", "S"))],
                 StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"})
    stop = threading.Event()
    unexpected, outcomes = [], {"ok": 0, "not_found": 0}
    lock = threading.Lock()

    def work(worker):
        i = 0
        while not stop.is_set():
            i += 1
            key = {"pk": S(f"w{worker}"), "sk": S(f"{i:06d}")}
            calls = [
                lambda: ddb.put_item(TableName=name, Item={**key, "g": S(f"g{i % 5}")}),
                lambda: ddb.batch_write_item(RequestItems={name: [
                    {"PutRequest": {"Item": {"pk": S(f"b{worker}"), "sk": S(f"{i}-{j}")}}}
                    for j in range(5)]}),
                lambda: ddb.update_item(TableName=name, Key=key, UpdateExpression="SET n = :n",
                                        ExpressionAttributeValues={":n": {"N": str(i)}}),
                lambda: ddb.query(TableName=name, KeyConditionExpression="pk = :p",
                                  ExpressionAttributeValues={":p": S(f"w{worker}")}, Limit=10),
                lambda: ddb.transact_write_items(TransactItems=[
                    {"Put": {"TableName": name, "Item": {"pk": S(f"t{worker}"), "sk": S(str(i))}}}]),
            ]
            try:
                calls[i % len(calls)]()
                kind = "ok"
            except botocore.exceptions.ClientError as e:
                code = e.response["Error"]["Code"]
                # A transaction on a vanishing table may be cancelled as a whole; its reason
                # names the missing table.
                if code in ("ResourceNotFoundException", "TransactionCanceledException"):
                    kind = "not_found"
                else:
                    kind = None
                    with lock:
                        unexpected.append((code, e.response["Error"].get("Message")))
            if kind:
                with lock:
                    outcomes[kind] += 1

    threads = [threading.Thread(target=work, args=(w,)) for w in range(4)]
    for t in threads:
        t.start()
    try:
        time.sleep(1.0)
        ddb.delete_table(TableName=name)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                ddb.describe_table(TableName=name)
            except botocore.exceptions.ClientError as e:
                assert e.response["Error"]["Code"] == "ResourceNotFoundException"
                break
            time.sleep(0.1)
        else:
            pytest.fail("the table was still described 30 s after DeleteTable")
        time.sleep(0.5)  # writers now meet the missing table
    finally:
        stop.set()
        for t in threads:
            t.join(timeout=60)
    assert not unexpected, unexpected[:5]
    assert outcomes["ok"] > 0 and outcomes["not_found"] > 0, outcomes

    ddb.create_table(TableName=name, KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"},
                                                {"AttributeName": "sk", "KeyType": "RANGE"}],
                     AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                                           {"AttributeName": "sk", "AttributeType": "S"}],
                     BillingMode="PAY_PER_REQUEST")
    try:
        deadline = time.monotonic() + 30
        while ddb.describe_table(TableName=name)["Table"]["TableStatus"] != "ACTIVE":
            assert time.monotonic() < deadline
            time.sleep(0.1)
        assert ddb.scan(TableName=name)["Items"] == []
        assert ddb.describe_table(TableName=name)["Table"]["ItemCount"] == 0
    finally:
        ddb.delete_table(TableName=name)
