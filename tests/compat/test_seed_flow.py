"""The seed document's own DynamoDB flow (week 5 of Cruddur), step by step: schema-load,
list-tables, create_message_group (batch_write_item), list_message_groups, list_messages,
create_message, the message-stream Lambda's GSI query and rewrite, scan, drop."""

import uuid
from datetime import datetime, timedelta, timezone

import pytest
from boto3.dynamodb.conditions import Key

from compat_helpers import unique_name, wait_active

SEED_TABLE = "cruddur-messages"
SEED_INDEX = "message-group-sk-index"

# Exactly the schema of the seed's bin/ddb/schema-load.
TABLE_SCHEMA = {
    "AttributeDefinitions": [
        {"AttributeName": "message_group_uuid", "AttributeType": "S"},
        {"AttributeName": "pk", "AttributeType": "S"},
        {"AttributeName": "sk", "AttributeType": "S"},
    ],
    "KeySchema": [
        {"AttributeName": "pk", "KeyType": "HASH"},
        {"AttributeName": "sk", "KeyType": "RANGE"},
    ],
    "BillingMode": "PROVISIONED",
    "ProvisionedThroughput": {"ReadCapacityUnits": 5, "WriteCapacityUnits": 5},
    "GlobalSecondaryIndexes": [{
        "IndexName": SEED_INDEX,
        "KeySchema": [
            {"AttributeName": "message_group_uuid", "KeyType": "HASH"},
            {"AttributeName": "sk", "KeyType": "RANGE"},
        ],
        "Projection": {"ProjectionType": "ALL"},
        "ProvisionedThroughput": {"ReadCapacityUnits": 5, "WriteCapacityUnits": 5},
    }],
}


@pytest.fixture
def seed_table_name(own_fresh_server, table_names):
    # On our own fresh server use the seed's real name; on a shared endpoint a unique variant.
    name = SEED_TABLE if own_fresh_server else unique_name("cruddur-messages")
    table_names.append(name)
    return name


def iso(ts):
    return ts.astimezone().isoformat()


def list_message_groups(client, table_name, my_user_uuid):
    year = str(datetime.now().year)
    resp = client.query(
        TableName=table_name,
        KeyConditionExpression="pk = :pk AND begins_with(sk,:year)",
        ScanIndexForward=False,
        Limit=20,
        ExpressionAttributeValues={":year": {"S": year}, ":pk": {"S": f"GRP#{my_user_uuid}"}},
    )
    return [{
        "uuid": it["message_group_uuid"]["S"],
        "display_name": it["user_display_name"]["S"],
        "handle": it["user_handle"]["S"],
        "message": it["message"]["S"],
        "created_at": it["sk"]["S"],
    } for it in resp["Items"]]


def list_messages(client, table_name, message_group_uuid):
    year = str(datetime.now().year)
    resp = client.query(
        TableName=table_name,
        KeyConditionExpression="pk = :pk AND begins_with(sk,:year)",
        ScanIndexForward=False,
        Limit=20,
        ExpressionAttributeValues={":year": {"S": year},
                                   ":pk": {"S": f"MSG#{message_group_uuid}"}},
    )
    items = resp["Items"]
    items.reverse()
    return [{"uuid": it["message_uuid"]["S"], "handle": it["user_handle"]["S"],
             "message": it["message"]["S"], "created_at": it["sk"]["S"]} for it in items]


def create_message_group(client, table_name, now, message, me, other):
    message_group_uuid = str(uuid.uuid4())
    created_at = iso(now)

    def group_row(owner, partner):
        return {
            "pk": {"S": f"GRP#{owner['uuid']}"},
            "sk": {"S": created_at},
            "message_group_uuid": {"S": message_group_uuid},
            "message": {"S": message},
            "user_uuid": {"S": partner["uuid"]},
            "user_display_name": {"S": partner["display_name"]},
            "user_handle": {"S": partner["handle"]},
        }

    msg = {
        "pk": {"S": f"MSG#{message_group_uuid}"},
        "sk": {"S": created_at},
        "message": {"S": message},
        "message_uuid": {"S": str(uuid.uuid4())},
        "user_uuid": {"S": me["uuid"]},
        "user_display_name": {"S": me["display_name"]},
        "user_handle": {"S": me["handle"]},
    }
    resp = client.batch_write_item(RequestItems={table_name: [
        {"PutRequest": {"Item": group_row(me, other)}},
        {"PutRequest": {"Item": group_row(other, me)}},
        {"PutRequest": {"Item": msg}},
    ]})
    assert resp["UnprocessedItems"] == {}
    return message_group_uuid


def create_message(client, table_name, now, message_group_uuid, message, me):
    created_at = iso(now)
    client.put_item(TableName=table_name, Item={
        "pk": {"S": f"MSG#{message_group_uuid}"},
        "sk": {"S": created_at},
        "message": {"S": message},
        "message_uuid": {"S": str(uuid.uuid4())},
        "user_uuid": {"S": me["uuid"]},
        "user_display_name": {"S": me["display_name"]},
        "user_handle": {"S": me["handle"]},
    })
    return created_at


def message_stream_lambda(resource, table_name, pk, sk, message):
    """The seed's Lambda body for an INSERT of a MSG# item."""
    group_uuid = pk.replace("MSG#", "")
    table = resource.Table(table_name)
    data = table.query(IndexName=SEED_INDEX,
                       KeyConditionExpression=Key("message_group_uuid").eq(group_uuid))
    for i in data["Items"]:
        table.delete_item(Key={"pk": i["pk"], "sk": i["sk"]})
        table.put_item(Item={
            "pk": i["pk"], "sk": sk, "message_group_uuid": i["message_group_uuid"],
            "message": message, "user_display_name": i["user_display_name"],
            "user_handle": i["user_handle"], "user_uuid": i["user_uuid"],
        })
    return data["Items"]


def cli_table_names(aws_cli):
    proc = aws_cli.run("dynamodb", "list-tables", "--query", "TableNames", "--output", "table")
    rows = [line.strip().strip("|").strip() for line in proc.stdout.splitlines()
            if line.startswith("|")]
    return proc.stdout, rows


def test_seed_flow(ddb, ddb_resource, aws_cli, seed_table_name):
    name = seed_table_name
    # bin/ddb/schema-load
    resp = ddb.create_table(TableName=name, **TABLE_SCHEMA)
    assert resp["TableDescription"]["TableName"] == name
    desc = wait_active(ddb, name)
    assert desc["KeySchema"] == TABLE_SCHEMA["KeySchema"]
    assert desc["ProvisionedThroughput"]["ReadCapacityUnits"] == 5
    gsi = desc["GlobalSecondaryIndexes"][0]
    assert gsi["IndexName"] == SEED_INDEX
    assert gsi["KeySchema"] == TABLE_SCHEMA["GlobalSecondaryIndexes"][0]["KeySchema"]
    assert gsi["Projection"] == {"ProjectionType": "ALL"}
    assert gsi["IndexStatus"] == "ACTIVE"
    assert gsi["IndexArn"] == desc["TableArn"] + "/index/" + SEED_INDEX

    # bin/ddb/list-tables
    text, rows = cli_table_names(aws_cli)
    assert "ListTables" in text
    assert name in rows

    me = {"uuid": str(uuid.uuid4()), "display_name": "Andrew Brown", "handle": "andrewbrown"}
    bayko = {"uuid": str(uuid.uuid4()), "display_name": "Andrew Bayko", "handle": "bayko"}
    londo = {"uuid": str(uuid.uuid4()), "display_name": "Londo Mollari", "handle": "londo"}
    t0 = datetime.now(timezone.utc).replace(microsecond=0)

    # Ddb.create_message_group, twice, the second one later.
    g1 = create_message_group(ddb, name, t0, "hello bayko", me, bayko)
    g2 = create_message_group(ddb, name, t0 + timedelta(seconds=5), "hello londo", me, londo)

    # Ddb.list_message_groups: newest first.
    groups = list_message_groups(ddb, name, me["uuid"])
    assert [g["uuid"] for g in groups] == [g2, g1]
    assert groups[0] == {"uuid": g2, "display_name": "Londo Mollari", "handle": "londo",
                         "message": "hello londo", "created_at": iso(t0 + timedelta(seconds=5))}
    other_side = list_message_groups(ddb, name, bayko["uuid"])
    assert [(g["uuid"], g["handle"]) for g in other_side] == [(g1, "andrewbrown")]

    # Ddb.create_message + Ddb.list_messages: oldest first after the reverse.
    later = t0 + timedelta(seconds=10)
    sk = create_message(ddb, name, later, g1, "second message", me)
    msgs = list_messages(ddb, name, g1)
    assert [m["message"] for m in msgs] == ["hello bayko", "second message"]
    assert msgs[1]["created_at"] == sk

    # Limit 20 caps a long conversation, newest first before the reverse.
    for i in range(22):
        create_message(ddb, name, later + timedelta(seconds=1 + i), g2, f"m{i:02d}", londo)
    msgs = list_messages(ddb, name, g2)
    assert len(msgs) == 20
    assert msgs[-1]["message"] == "m21"
    assert msgs[0]["message"] == "m02"

    # The message-stream Lambda: query the GSI, rewrite both participants' group rows.
    rows = message_stream_lambda(ddb_resource, name, f"MSG#{g1}", sk, "second message")
    assert sorted(r["pk"] for r in rows) == sorted([f"GRP#{me['uuid']}", f"GRP#{bayko['uuid']}"])
    assert all(r["sk"] == iso(t0) for r in rows)
    groups = list_message_groups(ddb, name, me["uuid"])
    assert [g["uuid"] for g in groups] == [g1, g2]
    assert groups[0]["message"] == "second message"
    assert groups[0]["created_at"] == sk
    resp = ddb.query(TableName=name, IndexName=SEED_INDEX,
                     KeyConditionExpression="message_group_uuid = :g",
                     ExpressionAttributeValues={":g": {"S": g1}})
    assert resp["Count"] == 2
    assert {it["sk"]["S"] for it in resp["Items"]} == {sk}

    # bin/ddb/scan (boto3 resource).
    items = ddb_resource.Table(name).scan()["Items"]
    # 2 groups x 3 rows + 1 message + 22 messages.
    assert len(items) == 6 + 1 + 22
    assert sum(1 for it in items if it["pk"].startswith("GRP#")) == 4

    # bin/ddb/drop
    aws_cli.run("dynamodb", "delete-table", "--table-name", name)
    text, rows = cli_table_names(aws_cli)
    assert name not in rows
