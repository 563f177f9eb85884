"""Our own server process: start-up, graceful shutdown, persistence, crash recovery.

These start `cruddur dynamodb` themselves, so they are skipped with --endpoint-url/--peer.
"""

import signal
import threading
import time

import pytest

pytestmark = pytest.mark.own_server

S = lambda v: {"S": v}  # noqa: E731
N = lambda v: {"N": str(v)}  # noqa: E731

TABLE = "cruddur-messages"
INDEX = "message-group-sk-index"


def create_seed_table(client):
    client.create_table(
        TableName=TABLE,
        AttributeDefinitions=[
            {"AttributeName": "message_group_uuid", "AttributeType": "S"},
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
        ],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"},
                   {"AttributeName": "sk", "KeyType": "RANGE"}],
        BillingMode="PAY_PER_REQUEST",
        GlobalSecondaryIndexes=[{
            "IndexName": INDEX,
            "KeySchema": [{"AttributeName": "message_group_uuid", "KeyType": "HASH"},
                          {"AttributeName": "sk", "KeyType": "RANGE"}],
            "Projection": {"ProjectionType": "ALL"},
        }],
    )
    deadline = time.monotonic() + 10
    while client.describe_table(TableName=TABLE)["Table"]["TableStatus"] != "ACTIVE":
        assert time.monotonic() < deadline
        time.sleep(0.05)


def row(i, group):
    return {"pk": S(f"GRP#{i % 5}"), "sk": S(f"2024-01-01T00:00:{i:05d}"),
            "message_group_uuid": S(group), "n": N(i), "message": S(f"message {i}")}


def all_items(client):
    items, kwargs = [], {}
    while True:
        resp = client.scan(TableName=TABLE, ConsistentRead=True, **kwargs)
        items.extend(resp["Items"])
        if "LastEvaluatedKey" not in resp:
            return items
        kwargs["ExclusiveStartKey"] = resp["LastEvaluatedKey"]


def gsi_items(client, group):
    items, kwargs = [], {}
    while True:
        resp = client.query(TableName=TABLE, IndexName=INDEX,
                            KeyConditionExpression="message_group_uuid = :g",
                            ExpressionAttributeValues={":g": S(group)}, **kwargs)
        items.extend(resp["Items"])
        if "LastEvaluatedKey" not in resp:
            return items
        kwargs["ExclusiveStartKey"] = resp["LastEvaluatedKey"]


def by_key(items):
    return {(it["pk"]["S"], it["sk"]["S"]): it for it in items}


def test_startup_answers_list_tables(spawn_server, tmp_path):
    server = spawn_server("--data-dir", str(tmp_path / "fresh"))
    assert server.client().list_tables()["TableNames"] == []
    assert server.terminate() == 0


def test_sigterm_is_graceful(spawn_server, tmp_path):
    server = spawn_server("--data-dir", str(tmp_path / "data"))
    client = server.client()
    create_seed_table(client)
    client.put_item(TableName=TABLE, Item=row(1, "g"))
    # An idle keep-alive connection must not hold the shutdown up.
    assert client.list_tables()["TableNames"] == [TABLE]
    started = time.monotonic()
    assert server.terminate() == 0, server.output()
    assert time.monotonic() - started < 10


def test_sigint_is_graceful(spawn_server):
    server = spawn_server("--in-memory")
    server.client().list_tables()
    assert server.terminate(sig=signal.SIGINT) == 0, server.output()


def test_persistence_across_restart(spawn_server, tmp_path):
    data_dir = str(tmp_path / "data")
    server = spawn_server("--data-dir", data_dir)
    client = server.client()
    create_seed_table(client)
    for i in range(30):
        client.put_item(TableName=TABLE, Item=row(i, "g1" if i % 2 else "g2"))
    client.update_item(TableName=TABLE, Key={"pk": S("GRP#1"), "sk": row(1, "")["sk"]},
                       UpdateExpression="SET message_group_uuid = :g",
                       ExpressionAttributeValues={":g": S("g3")})
    client.delete_item(TableName=TABLE, Key={"pk": S("GRP#2"), "sk": row(2, "")["sk"]})
    before = by_key(all_items(client))
    before_g1 = gsi_items(client, "g1")
    assert server.terminate() == 0

    server = spawn_server("--data-dir", data_dir)
    client = server.client()
    assert client.list_tables()["TableNames"] == [TABLE]
    desc = client.describe_table(TableName=TABLE)["Table"]
    assert desc["TableStatus"] == "ACTIVE"
    assert desc["GlobalSecondaryIndexes"][0]["IndexName"] == INDEX
    assert desc["ItemCount"] == 29
    assert by_key(all_items(client)) == before
    assert gsi_items(client, "g1") == before_g1
    assert [it["n"]["N"] for it in gsi_items(client, "g3")] == ["1"]
    assert len(gsi_items(client, "g2")) == 14
    assert server.terminate() == 0


def test_crash_keeps_every_acknowledged_write(spawn_server, tmp_path):
    data_dir = str(tmp_path / "data")
    server = spawn_server("--data-dir", data_dir)
    client = server.client()
    create_seed_table(client)

    acked = {}  # key -> item, for puts the server acknowledged
    deleted = set()  # keys whose delete the server acknowledged
    uncertain = set()  # the request in flight when the kill landed: either outcome is fine
    stop = threading.Event()
    errors = []

    def writer(worker):
        # Worker w owns the keys of i = w, w+4, w+8, ... so the acknowledged state per key is
        # exact; every tenth step deletes the worker's own item from two steps back.
        c = server.client()
        i = worker
        while not stop.is_set():
            if i % 10 == 7 and i >= 8:
                victim = row(i - 8, "")
                key = (victim["pk"]["S"], victim["sk"]["S"])
                action = lambda: c.delete_item(  # noqa: E731
                    TableName=TABLE, Key={"pk": victim["pk"], "sk": victim["sk"]})
            else:
                item = row(i, f"g{i % 3}")
                key = (item["pk"]["S"], item["sk"]["S"])
                action = lambda: c.put_item(TableName=TABLE, Item=item)  # noqa: E731
            try:
                action()
            except Exception as e:
                uncertain.add(key)
                if not stop.is_set():
                    errors.append(e)
                return
            if i % 10 == 7 and i >= 8:
                acked.pop(key, None)
                deleted.add(key)
            else:
                acked[key] = item
            i += 4

    threads = [threading.Thread(target=writer, args=(w,)) for w in range(4)]
    for t in threads:
        t.start()
    deadline = time.monotonic() + 20
    while len(acked) < 300 and time.monotonic() < deadline:
        time.sleep(0.01)
    server.proc.send_signal(signal.SIGKILL)
    stop.set()
    server.proc.wait(timeout=10)
    for t in threads:
        t.join(timeout=30)
    assert len(acked) >= 300, f"only {len(acked)} writes acknowledged; errors: {errors[:3]}"

    server = spawn_server("--data-dir", data_dir)
    client = server.client()
    present = by_key(all_items(client))
    missing = [k for k in acked if k not in present and k not in uncertain]
    assert not missing, f"{len(missing)} acknowledged items lost, e.g. {missing[:3]}"
    for k, item in acked.items():
        if k not in uncertain:
            assert present[k] == item
    resurrected = [k for k in deleted if k in present and k not in uncertain]
    assert not resurrected, f"deleted items came back: {resurrected[:3]}"
    # The index agrees with the table: no lost and no orphan entries.
    for g in ("g0", "g1", "g2"):
        index_keys = set(by_key(gsi_items(client, g)))
        table_keys = {k for k, it in present.items() if it["message_group_uuid"]["S"] == g}
        assert index_keys == table_keys, g
    # And the recovered server takes writes.
    client.put_item(TableName=TABLE, Item=row(999999, "g0"))
    assert server.terminate() == 0


def test_in_memory_keeps_nothing(spawn_server, tmp_path):
    server = spawn_server("--in-memory")
    client = server.client()
    create_seed_table(client)
    client.put_item(TableName=TABLE, Item=row(1, "g"))
    assert server.terminate() == 0
    server = spawn_server("--in-memory")
    assert server.client().list_tables()["TableNames"] == []
    assert server.terminate() == 0
