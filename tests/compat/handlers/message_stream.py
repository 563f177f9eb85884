"""The seed's message-stream Lambda, as a `cruddur dynamodb --trigger ... command=` handler.

Reads the Lambda DynamoDB event on stdin and, for every INSERT of a message row (pk MSG#<group>),
moves both participants' group rows (found through the sparse GSI message-group-sk-index) to
the new message's sk and text. Unlike the seed's Lambda it handles every record of the batch
(not just Records[0]), never moves a row back in time, and moves each row atomically (delete of
the old row and put of the new one in one transaction), so a reader never sees a participant
without a group row. Appends one line per handled message to $HANDLED_LOG when set, so tests can
count deliveries. Exit code 0 = the batch is done.
"""

import json
import os
import sys

import boto3
import botocore.exceptions

TABLE = "cruddur-messages"
INDEX = "message-group-sk-index"


def client():
    return boto3.client(
        "dynamodb",
        endpoint_url=os.environ["AWS_ENDPOINT_URL"],
        region_name=os.environ.get("AWS_REGION", "us-east-1"),
    )


def move_group_rows(ddb, group_uuid, sk, message):
    for _ in range(10):
        rows = ddb.query(
            TableName=TABLE,
            IndexName=INDEX,
            KeyConditionExpression="message_group_uuid = :g",
            ExpressionAttributeValues={":g": {"S": group_uuid}},
        )["Items"]
        stale = [r for r in rows if r["sk"]["S"] < sk]
        if not stale:
            return
        try:
            for row in stale:
                moved = dict(row, sk={"S": sk}, message={"S": message})
                ddb.transact_write_items(
                    TransactItems=[
                        {"Delete": {
                            "TableName": TABLE,
                            "Key": {"pk": row["pk"], "sk": row["sk"]},
                            "ConditionExpression": "attribute_exists(pk)",
                        }},
                        {"Put": {
                            "TableName": TABLE,
                            "Item": moved,
                            "ConditionExpression": "attribute_not_exists(pk)",
                        }},
                    ]
                )
        except botocore.exceptions.ClientError as e:
            if e.response["Error"]["Code"] != "TransactionCanceledException":
                raise
            # Someone moved a row meanwhile: look again.
    raise RuntimeError(f"group {group_uuid} kept changing")


def main():
    event = json.load(sys.stdin)
    ddb = client()
    log = os.environ.get("HANDLED_LOG")
    for record in event["Records"]:
        assert record["eventSource"] == "aws:dynamodb"
        assert record["eventSourceARN"].startswith("arn:aws:dynamodb:")
        if record["eventName"] != "INSERT":
            continue
        keys = record["dynamodb"]["Keys"]
        pk = keys["pk"]["S"]
        if not pk.startswith("MSG#"):
            continue
        sk = keys["sk"]["S"]
        message = record["dynamodb"]["NewImage"]["message"]["S"]
        move_group_rows(ddb, pk[len("MSG#"):], sk, message)
        if log:
            with open(log, "a") as f:
                f.write(record["dynamodb"]["SequenceNumber"] + "\n")


if __name__ == "__main__":
    main()
