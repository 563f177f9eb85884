"""Creates and loads the benchmark table on one DynamoDB-compatible endpoint.

Run by bench/run.sh with /usr/bin/python3 (boto3 from Debian) before the wrk scripts:

    setup_table.py --endpoint http://127.0.0.1:PORT [--table bench] [--get-items 1000]

The table has pk (S, hash) and sk (S, range), on-demand billing, and a stream of view type
$BENCH_STREAM when that is set. It loads:
  * pk "USER#<i>", sk "PROFILE" for i in [0, get-items): the items getitem.lua reads;
  * pk "MSG#bench-group" with 50 messages whose sk starts with "2025-": the partition
    query.lua reads newest-first with Limit 20, like the seed's list_messages.
It then checks both access patterns once, so a target that answers them wrongly fails
here instead of producing a fast but meaningless row. Exits non-zero on any failure.
"""

import argparse
import os
import sys
import time

import boto3
from botocore.config import Config

QUERY_PARTITION = "MSG#bench-group"
QUERY_ITEMS = 50


def client(endpoint):
    return boto3.client(
        "dynamodb",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="AKIDEXAMPLE",
        aws_secret_access_key="bench-secret-key",
        config=Config(retries={"max_attempts": 2}, connect_timeout=5, read_timeout=30),
    )


def create_table(ddb, table):
    extra = {}
    # BENCH_STREAM=<view type> creates the table with a stream, to measure what it costs.
    if os.environ.get("BENCH_STREAM"):
        extra["StreamSpecification"] = {
            "StreamEnabled": True,
            "StreamViewType": os.environ["BENCH_STREAM"],
        }
    ddb.create_table(
        **extra,
        TableName=table,
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
        ],
        KeySchema=[
            {"AttributeName": "pk", "KeyType": "HASH"},
            {"AttributeName": "sk", "KeyType": "RANGE"},
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    # boto3's table_exists waiter polls every 20 s; poll quickly but bounded instead.
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        status = ddb.describe_table(TableName=table)["Table"]["TableStatus"]
        if status == "ACTIVE":
            return
        time.sleep(0.05)
    raise RuntimeError(f"table {table} not ACTIVE after 30 s")


def message_item(i):
    return {
        "pk": {"S": QUERY_PARTITION},
        "sk": {"S": f"2025-01-01T00:00:{i:02d}.000000+00:00"},
        "message_group_uuid": {"S": "5ae290ed-55d1-47a0-bc6d-fe2bc2700399"},
        "message_uuid": {"S": f"00000000-0000-4000-8000-{i:012d}"},
        "user_uuid": {"S": "5d4c3b2a-1f0e-4d9c-8b7a-6f5e4d3c2b1a"},
        "user_display_name": {"S": "Andrew Brown"},
        "user_handle": {"S": "andrewbrown"},
        "message": {"S": f"Seeded message {i}: the quick brown fox jumps over the lazy dog."},
    }


def user_item(i):
    return {
        "pk": {"S": f"USER#{i}"},
        "sk": {"S": "PROFILE"},
        "user_uuid": {"S": f"00000000-0000-4000-9000-{i:012d}"},
        "display_name": {"S": f"Bench User {i}"},
        "handle": {"S": f"benchuser{i}"},
        "bio": {"S": "Loaded by bench/setup_table.py for the GetItem benchmark."},
    }


def batch_put(ddb, table, items):
    for start in range(0, len(items), 25):
        pending = {table: [{"PutRequest": {"Item": it}} for it in items[start:start + 25]]}
        for _ in range(10):
            pending = ddb.batch_write_item(RequestItems=pending).get("UnprocessedItems") or {}
            if not pending:
                break
            time.sleep(0.05)
        if pending:
            raise RuntimeError("BatchWriteItem kept returning UnprocessedItems")


def check(ddb, table, get_items):
    got = ddb.get_item(TableName=table, Key={"pk": {"S": f"USER#{get_items - 1}"},
                                             "sk": {"S": "PROFILE"}})
    if "Item" not in got:
        raise RuntimeError("GetItem of a loaded item returned no Item")
    res = ddb.query(
        TableName=table,
        KeyConditionExpression="pk = :pk AND begins_with(sk,:year)",
        ScanIndexForward=False,
        Limit=20,
        ExpressionAttributeValues={":year": {"S": "2025"}, ":pk": {"S": QUERY_PARTITION}},
    )
    sks = [it["sk"]["S"] for it in res["Items"]]
    want = [message_item(i)["sk"]["S"] for i in range(QUERY_ITEMS - 1, QUERY_ITEMS - 21, -1)]
    if sks != want:
        raise RuntimeError(f"Query returned {sks[:3]}... ({len(sks)} items), "
                           f"want the newest 20 first")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--endpoint", required=True)
    parser.add_argument("--table", default="bench")
    parser.add_argument("--get-items", type=int, default=1000)
    args = parser.parse_args()

    ddb = client(args.endpoint)
    create_table(ddb, args.table)
    batch_put(ddb, args.table, [message_item(i) for i in range(QUERY_ITEMS)])
    batch_put(ddb, args.table, [user_item(i) for i in range(args.get_items)])
    check(ddb, args.table, args.get_items)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except Exception as exc:  # noqa: BLE001 - report any setup failure as one line
        print(f"setup_table.py: {type(exc).__name__}: {exc}", file=sys.stderr)
        sys.exit(1)
