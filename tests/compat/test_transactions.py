"""TransactWriteItems and TransactGetItems."""

import uuid

import pytest

from compat_helpers import Texts, raises_client_error, unique_name

S = lambda v: {"S": v}  # noqa: E731
N = lambda v: {"N": str(v)}  # noqa: E731


# Live AWS capture: nubo-db/dynamodb-conformance tests/tier3/error-messages/
# transactWriteItems.test.ts.
MISSING_TABLE = Texts(aws="Requested resource not found",
                      local="Cannot do operations on a non-existent table")


def K(k):
    return {"pk": S(k)}


@pytest.fixture
def tbl(ddb, table):
    name = table(range=None)
    ddb.put_item(TableName=name, Item={**K("a"), "v": N(1)})
    ddb.put_item(TableName=name, Item={**K("b"), "v": N(10)})
    return name


def get(ddb, name, k):
    return ddb.get_item(TableName=name, Key=K(k), ConsistentRead=True).get("Item")


def test_all_action_kinds_commit(ddb, tbl):
    resp = ddb.transact_write_items(TransactItems=[
        {"Put": {"TableName": tbl, "Item": {**K("c"), "v": N(3)},
                 "ConditionExpression": "attribute_not_exists(pk)"}},
        {"Update": {"TableName": tbl, "Key": K("a"), "UpdateExpression": "SET v = v + :one",
                    "ExpressionAttributeValues": {":one": N(1)}}},
        {"Delete": {"TableName": tbl, "Key": K("b"), "ConditionExpression": "v = :ten",
                    "ExpressionAttributeValues": {":ten": N(10)}}},
        {"ConditionCheck": {"TableName": tbl, "Key": K("zz"),
                            "ConditionExpression": "attribute_not_exists(pk)"}},
    ])
    assert "ConsumedCapacity" not in resp
    assert get(ddb, tbl, "c") == {**K("c"), "v": N(3)}
    assert get(ddb, tbl, "a") == {**K("a"), "v": N(2)}
    assert get(ddb, tbl, "b") is None
    assert get(ddb, tbl, "zz") is None


def test_cancellation_is_all_or_nothing(ddb, tbl):
    with raises_client_error("TransactionCanceledException") as holder:
        ddb.transact_write_items(TransactItems=[
            {"Put": {"TableName": tbl, "Item": {**K("c"), "v": N(3)}}},
            {"Update": {"TableName": tbl, "Key": K("a"), "UpdateExpression": "SET v = :x",
                        "ExpressionAttributeValues": {":x": N(100)}}},
            {"ConditionCheck": {"TableName": tbl, "Key": K("b"), "ConditionExpression": "v = :x",
                                "ExpressionAttributeValues": {":x": N(99)}}},
            {"Delete": {"TableName": tbl, "Key": K("zz")}},
        ])
    reasons = holder.error.response["CancellationReasons"]
    assert [r["Code"] for r in reasons] == ["None", "None", "ConditionalCheckFailed", "None"]
    message = holder.error.response["Error"]["Message"]
    assert message.startswith("Transaction cancelled, please refer cancellation reasons for "
                              "specific reasons [None, None, ConditionalCheckFailed, None]")
    assert get(ddb, tbl, "c") is None
    assert get(ddb, tbl, "a") == {**K("a"), "v": N(1)}
    assert get(ddb, tbl, "b") == {**K("b"), "v": N(10)}


def test_cancellation_reasons_in_order_with_old_item(ddb, tbl):
    with raises_client_error("TransactionCanceledException") as holder:
        ddb.transact_write_items(TransactItems=[
            {"Put": {"TableName": tbl, "Item": K("a"),
                     "ConditionExpression": "attribute_not_exists(pk)",
                     "ReturnValuesOnConditionCheckFailure": "ALL_OLD"}},
            {"Put": {"TableName": tbl, "Item": K("new")}},
            {"Delete": {"TableName": tbl, "Key": K("b"), "ConditionExpression": "v < :x",
                        "ExpressionAttributeValues": {":x": N(5)}}},
        ])
    reasons = holder.error.response["CancellationReasons"]
    assert [r["Code"] for r in reasons] == [
        "ConditionalCheckFailed", "None", "ConditionalCheckFailed"]
    assert reasons[0]["Item"] == {**K("a"), "v": N(1)}
    assert "Item" not in reasons[2]
    assert get(ddb, tbl, "new") is None


def test_update_of_key_attribute_inside_transaction(ddb, tbl):
    # DynamoDB Local reports this as a cancellation with a ValidationError reason; AWS may
    # reject the request up front. Either way the message names the key and nothing is written.
    message = ("One or more parameter values were invalid: Cannot update attribute pk. This "
               "attribute is part of the key")
    try:
        ddb.transact_write_items(TransactItems=[
            {"Update": {"TableName": tbl, "Key": K("a"), "UpdateExpression": "SET pk = :x",
                        "ExpressionAttributeValues": {":x": S("z")}}},
        ])
    except ddb.exceptions.TransactionCanceledException as e:
        reasons = e.response["CancellationReasons"]
        assert reasons == [{"Code": "ValidationError", "Message": message}]
    except ddb.exceptions.ClientError as e:
        assert e.response["Error"]["Code"] == "ValidationException"
        assert e.response["Error"]["Message"] == message
    else:
        raise AssertionError("updating a key attribute in a transaction succeeded")
    assert get(ddb, tbl, "a") == {**K("a"), "v": N(1)}
    assert get(ddb, tbl, "z") is None


@pytest.mark.parametrize(
    "second",
    [
        {"Delete": {"Key": K("a")}},
        {"ConditionCheck": {"Key": K("a"), "ConditionExpression": "attribute_exists(pk)"}},
        {"Update": {"Key": K("a"), "UpdateExpression": "REMOVE v"}},
    ],
)
def test_two_actions_on_one_item(ddb, tbl, second):
    kind, body = next(iter(second.items()))
    with raises_client_error(
        "ValidationException",
        "Transaction request cannot include multiple operations on one item",
    ):
        ddb.transact_write_items(TransactItems=[
            {"Put": {"TableName": tbl, "Item": {**K("a"), "v": N(5)}}},
            {kind: {"TableName": tbl, **body}},
        ])
    assert get(ddb, tbl, "a") == {**K("a"), "v": N(1)}


def test_more_than_100_actions(ddb, tbl):
    with raises_client_error("ValidationException",
                             match="Member must have length less than or equal to 100"):
        ddb.transact_write_items(TransactItems=[
            {"Put": {"TableName": tbl, "Item": K(f"k{i}")}} for i in range(101)])
    assert get(ddb, tbl, "k0") is None


def test_100_actions(ddb, tbl):
    ddb.transact_write_items(TransactItems=[
        {"Put": {"TableName": tbl, "Item": K(f"k{i}")}} for i in range(100)])
    assert ddb.scan(TableName=tbl, Select="COUNT")["Count"] == 102


def test_one_request_with_two_kinds(ddb, tbl):
    with raises_client_error(
        "ValidationException",
        "TransactItems can only contain one of Check, Put, Update or Delete",
    ):
        ddb.transact_write_items(TransactItems=[
            {"Put": {"TableName": tbl, "Item": K("q")},
             "Delete": {"TableName": tbl, "Key": K("q")}}])


def test_missing_table(ddb, tbl):
    with raises_client_error("ResourceNotFoundException", MISSING_TABLE):
        ddb.transact_write_items(TransactItems=[
            {"Put": {"TableName": tbl, "Item": K("x")}},
            {"Put": {"TableName": unique_name("missing"), "Item": K("x")}},
        ])
    assert get(ddb, tbl, "x") is None


def test_invalid_item_rejects_request(ddb, tbl):
    # PutItem's text for the same item (dynalite db/index.js validateItem).
    with raises_client_error("ValidationException", Texts(
            aws="One or more parameter values were invalid: Missing the key pk in the item",
            local="One of the required keys was not given a value")):
        ddb.transact_write_items(TransactItems=[
            {"Put": {"TableName": tbl, "Item": K("x")}},
            {"Put": {"TableName": tbl, "Item": {"nokey": S("1")}}},
        ])
    assert get(ddb, tbl, "x") is None


def test_client_request_token_idempotency(ddb, tbl):
    token = str(uuid.uuid4())
    items = [{"Update": {"TableName": tbl, "Key": K("a"), "UpdateExpression": "SET v = v + :one",
                         "ExpressionAttributeValues": {":one": N(1)}}}]
    ddb.transact_write_items(TransactItems=items, ClientRequestToken=token)
    # Same token, same request: succeeds without applying the update again.
    ddb.transact_write_items(TransactItems=items, ClientRequestToken=token)
    assert get(ddb, tbl, "a")["v"] == N(2)
    # Same token, different request.
    with raises_client_error("IdempotentParameterMismatchException"):
        ddb.transact_write_items(
            TransactItems=[{"Put": {"TableName": tbl, "Item": {**K("a"), "v": N(7)}}}],
            ClientRequestToken=token)
    assert get(ddb, tbl, "a")["v"] == N(2)
    # A different token applies again.
    ddb.transact_write_items(TransactItems=items, ClientRequestToken=str(uuid.uuid4()))
    assert get(ddb, tbl, "a")["v"] == N(3)


# AWS charges two write units per KB for transactional writes (documented); DynamoDB Local
# reports one.
@pytest.mark.aws_only
def test_transact_write_consumed_capacity(ddb, tbl):
    resp = ddb.transact_write_items(
        TransactItems=[{"Put": {"TableName": tbl, "Item": K("x")}},
                       {"Put": {"TableName": tbl, "Item": K("y")}}],
        ReturnConsumedCapacity="TOTAL")
    assert resp["ConsumedCapacity"] == [{"TableName": tbl, "CapacityUnits": 4.0}]


def test_transact_get(ddb, tbl):
    resp = ddb.transact_get_items(
        TransactItems=[
            {"Get": {"TableName": tbl, "Key": K("a")}},
            {"Get": {"TableName": tbl, "Key": K("nope")}},
            {"Get": {"TableName": tbl, "Key": K("b"), "ProjectionExpression": "#v",
                     "ExpressionAttributeNames": {"#v": "v"}}},
        ],
        ReturnConsumedCapacity="TOTAL",
    )
    assert resp["Responses"] == [{"Item": {**K("a"), "v": N(1)}}, {}, {"Item": {"v": N(10)}}]
    # Transactional reads cost two units per 4 KB, per item, found or not.
    assert resp["ConsumedCapacity"] == [{"TableName": tbl, "CapacityUnits": 6.0}]


def test_transact_get_errors(ddb, tbl):
    with raises_client_error("ValidationException",
                             match="Member must have length less than or equal to 100"):
        ddb.transact_get_items(TransactItems=[
            {"Get": {"TableName": tbl, "Key": K(str(i))}} for i in range(101)])
    with raises_client_error("ValidationException",
                             "Transaction request cannot include multiple operations on one item"):
        ddb.transact_get_items(TransactItems=[{"Get": {"TableName": tbl, "Key": K("a")}}] * 2)
    with raises_client_error("ResourceNotFoundException", MISSING_TABLE):
        ddb.transact_get_items(TransactItems=[
            {"Get": {"TableName": unique_name("missing"), "Key": K("a")}}])


def test_transaction_item_size_limit(ddb, tbl):
    with raises_client_error("ValidationException",
                             "Item size has exceeded the maximum allowed size"):
        ddb.transact_write_items(TransactItems=[
            {"Put": {"TableName": tbl, "Item": {**K("big"), "d": S("x" * (400 * 1024))}}}])
