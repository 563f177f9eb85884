"""An acknowledged write is durable: SIGKILL `cruddur dynamodb` under load, restart it on the same
data folder, and check what came back.

Each round starts the server, lets writer threads run PutItem, UpdateItem (ADD counters),
TransactWriteItems (two items that always change together) and BatchWriteItem against a table
with a GSI and a NEW_AND_OLD_IMAGES stream, kills the server at a random moment, and restarts
it. Every key has one writer, which sends strictly increasing versions (`v`), so the state of a
key after a restart must lie between the last acknowledged version and the last one sent (a
request in flight at the kill may or may not have landed). After each restart:

  - every acknowledged write is there, with at least its acknowledged version (no lost write);
  - the two items of each transaction have the same version (never half-applied);
  - the GSI holds exactly the table's items (Query on the GSI against a Scan);
  - DescribeTable's ItemCount is the number of items;
  - the stream's sequence numbers strictly increase, the stream read before the restart is a
    prefix of the one read after it, each record's images are versions that were sent, in
    increasing order per key, each OldImage is the key's previous NewImage, and the newest
    NewImage of each key is the item in the table;
  - the server serves writes again (the next round's writers, and a final write and read).

Both durability modes run: the default (the write-ahead log reaches the operating system before
the answer) and --sync (group commit: the answer waits for the fsync).
"""

import os
import random
import threading
import time

import botocore.exceptions
import pytest

from conftest import Server, make_client

ROUNDS = int(os.environ.get("CRUDDUR_CRASH_ROUNDS", "10"))
TABLE = "crash"
INDEX = "by-group"
GROUPS = ["g0", "g1", "g2"]


def N(v):
    return {"N": str(v)}


def S(v):
    return {"S": v}


class History:
    """Per key: the highest version sent and the highest acknowledged (or seen after a restart)."""

    def __init__(self):
        self.lock = threading.Lock()
        self.sent = {}
        self.acked = {}
        self.acknowledged_writes = 0

    def next_version(self, key):
        with self.lock:
            v = self.sent.get(key, 0) + 1
            self.sent[key] = v
            return v

    def ack(self, key, v):
        with self.lock:
            self.acked[key] = max(self.acked.get(key, 0), v)
            self.acknowledged_writes += 1


def item(key, v, writer):
    return {"pk": S(key), "g": S(GROUPS[sum(map(ord, key)) % len(GROUPS)]), "v": N(v), "w": S(writer)}


def put_writer(client, history, w, stop):
    keys = [f"p-{w}-{k}" for k in range(5)]
    i = 0
    while not stop.is_set():
        key = keys[i % len(keys)]
        i += 1
        v = history.next_version(key)
        client.put_item(TableName=TABLE, Item=item(key, v, f"put-{w}"))
        history.ack(key, v)


def counter_writer(client, history, w, stop):
    key = f"c-{w}"
    group = GROUPS[sum(map(ord, key)) % len(GROUPS)]
    while not stop.is_set():
        v = history.next_version(key)
        out = client.update_item(
            TableName=TABLE, Key={"pk": S(key)},
            UpdateExpression="ADD v :one SET g = :g, w = :w",
            ExpressionAttributeValues={":one": N(1), ":g": S(group), ":w": S(f"counter-{w}")},
            ReturnValues="UPDATED_NEW")
        got = int(out["Attributes"]["v"]["N"])
        assert got == v, f"{key}: ADD gave {got}, expected {v}"
        history.ack(key, v)


def transact_writer(client, history, w, stop):
    pair = f"t-{w}"
    while not stop.is_set():
        v = history.next_version(pair)
        client.transact_write_items(TransactItems=[
            {"Put": {"TableName": TABLE, "Item": item(f"ta-{w}", v, f"txn-{w}")}},
            {"Put": {"TableName": TABLE, "Item": item(f"tb-{w}", v, f"txn-{w}")}},
        ])
        history.ack(pair, v)


def batch_writer(client, history, w, stop):
    keys = [f"b-{w}-{k}" for k in range(3)]
    while not stop.is_set():
        versions = {key: history.next_version(key) for key in keys}
        out = client.batch_write_item(RequestItems={TABLE: [
            {"PutRequest": {"Item": item(key, v, f"batch-{w}")}} for key, v in versions.items()
        ]})
        unprocessed = {r["PutRequest"]["Item"]["pk"]["S"]
                       for r in out.get("UnprocessedItems", {}).get(TABLE, [])}
        for key, v in versions.items():
            if key not in unprocessed:
                history.ack(key, v)


WRITERS = [put_writer, counter_writer, transact_writer, batch_writer]


def create_table(client):
    client.create_table(
        TableName=TABLE,
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                              {"AttributeName": "g", "AttributeType": "S"},
                              {"AttributeName": "v", "AttributeType": "N"}],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        GlobalSecondaryIndexes=[{
            "IndexName": INDEX,
            "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"},
                          {"AttributeName": "v", "KeyType": "RANGE"}],
            "Projection": {"ProjectionType": "ALL"},
        }],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    )
    for _ in range(100):
        if client.describe_table(TableName=TABLE)["Table"]["TableStatus"] == "ACTIVE":
            return
        time.sleep(0.05)
    pytest.fail("table did not become ACTIVE")


def scan_all(client, **kwargs):
    items, start = [], None
    while True:
        page = client.scan(TableName=TABLE, ConsistentRead=True,
                           **kwargs, **({"ExclusiveStartKey": start} if start else {}))
        items.extend(page["Items"])
        start = page.get("LastEvaluatedKey")
        if not start:
            return items


def query_index(client, group):
    items, start = [], None
    while True:
        page = client.query(TableName=TABLE, IndexName=INDEX,
                            KeyConditionExpression="g = :g",
                            ExpressionAttributeValues={":g": S(group)},
                            **({"ExclusiveStartKey": start} if start else {}))
        items.extend(page["Items"])
        start = page.get("LastEvaluatedKey")
        if not start:
            return items


def read_stream(endpoint, stream_arn):
    streams = make_client(endpoint, "dynamodbstreams")
    shards, start = [], None
    while True:
        desc = streams.describe_stream(
            StreamArn=stream_arn, **({"ExclusiveStartShardId": start} if start else {}))
        shards.extend(desc["StreamDescription"]["Shards"])
        start = desc["StreamDescription"].get("LastEvaluatedShardId")
        if not start:
            break
    records = []
    for shard in shards:
        iterator = streams.get_shard_iterator(StreamArn=stream_arn, ShardId=shard["ShardId"],
                                              ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        while iterator:
            page = streams.get_records(ShardIterator=iterator, Limit=1000)
            records.extend(page["Records"])
            if not page["Records"]:
                break
            iterator = page.get("NextShardIterator")
    return records


def version_of(image):
    return int(image["v"]["N"])


class Checker:
    def __init__(self, endpoint_history):
        self.history = endpoint_history
        self.seen_records = []  # (sequence number, key, NewImage) read after the last restart

    def check(self, client, endpoint, where):
        history = self.history
        items = {i["pk"]["S"]: i for i in scan_all(client)}

        lost = []
        for key, sent in history.sent.items():
            if key.startswith("t-"):
                w = key[2:]
                a, b = items.get(f"ta-{w}"), items.get(f"tb-{w}")
                va = version_of(a) if a else 0
                vb = version_of(b) if b else 0
                assert va == vb, f"{where}: transaction {key} half-applied: ta v={va}, tb v={vb}"
                actual = va
            else:
                actual = version_of(items[key]) if key in items else 0
            acked = history.acked.get(key, 0)
            if actual < acked:
                lost.append(f"{key}: acknowledged v={acked}, found v={actual}")
            assert actual <= sent, f"{where}: {key} has v={actual}, never sent past v={sent}"
            # What the restarted server shows must never go back either.
            history.acked[key] = actual
            history.sent[key] = actual
        assert not lost, f"{where}: {len(lost)} lost acknowledged writes: {lost[:10]}"

        for key, value in items.items():
            assert value["w"]["S"] and value["g"]["S"] in GROUPS, f"{where}: odd item {value}"

        indexed = {}
        for group in GROUPS:
            for entry in query_index(client, group):
                assert entry["pk"]["S"] not in indexed, f"{where}: two GSI entries for {entry}"
                indexed[entry["pk"]["S"]] = entry
        differ = sorted(k for k in set(indexed) | set(items) if indexed.get(k) != items.get(k))
        assert not differ, f"{where}: GSI entries differ from their items: {differ[:10]}"

        table = client.describe_table(TableName=TABLE)["Table"]
        assert table["ItemCount"] == len(items), f"{where}: ItemCount {table['ItemCount']}"

        records = read_stream(endpoint, table["LatestStreamArn"])
        flat = [(int(r["dynamodb"]["SequenceNumber"]), r["dynamodb"]["Keys"]["pk"]["S"],
                 r["dynamodb"].get("NewImage")) for r in records]
        seqs = [seq for seq, _, _ in flat]
        assert all(a < b for a, b in zip(seqs, seqs[1:])), f"{where}: sequence numbers not increasing"
        assert flat[:len(self.seen_records)] == self.seen_records, (
            f"{where}: stream records read before the restart changed or vanished")
        self.seen_records = flat
        newest = {}
        for record in records:
            data = record["dynamodb"]
            key = data["Keys"]["pk"]["S"]
            assert record["eventName"] in ("INSERT", "MODIFY"), f"{where}: {record['eventName']}"
            new = data["NewImage"]
            prev = newest.get(key)
            assert data.get("OldImage") == prev, f"{where}: {key}: OldImage is not the last image"
            if prev is not None:
                assert version_of(new) > version_of(prev), f"{where}: {key}: version went back"
            newest[key] = new
        assert newest == items, f"{where}: the newest stream images differ from the table"
        return len(items), len(records)


@pytest.mark.parametrize("mode", ["default", "sync"])
def test_acknowledged_writes_survive_sigkill(tmp_path, servers, mode):
    seed = int(os.environ.get("CRUDDUR_CRASH_SEED", str(random.randrange(1 << 30))))
    rng = random.Random(seed)
    print(f"\nmode={mode} seed={seed} rounds={ROUNDS}")
    extra = ["--sync"] if mode == "sync" else []
    data_dir = tmp_path / "data"
    history = History()
    checker = Checker(history)
    for round_number in range(ROUNDS + 1):
        server = Server(data_dir, extra, tmp_path / "server.log")
        servers.append(server)
        client = server.start()
        where = f"mode {mode}, seed {seed}, after restart {round_number}"
        if round_number == 0:
            create_table(client)
        items, records = checker.check(client, server.endpoint, where)
        if round_number == ROUNDS:
            client.put_item(TableName=TABLE, Item=item("final", 1, "final"))
            got = client.get_item(TableName=TABLE, Key={"pk": S("final")}, ConsistentRead=True)
            assert got["Item"]["v"] == N(1)
            server.kill()
            print(f"{history.acknowledged_writes} acknowledged writes, 0 lost; "
                  f"{items} items, {records} stream records")
            return

        stop = threading.Event()
        killing = threading.Event()
        errors = []

        def run(writer, w, client):
            try:
                writer(client, history, w, stop)
            except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError) as e:
                if not killing.is_set():
                    errors.append(f"{writer.__name__} {w}: {e!r}")

        threads = []
        for w in range(2):
            for writer in WRITERS:
                writer_client = make_client(server.endpoint, read_timeout=5)
                threads.append(threading.Thread(target=run, args=(writer, w, writer_client)))
        for thread in threads:
            thread.start()
        time.sleep(rng.uniform(0.2, 1.0))
        killing.set()
        server.kill()
        stop.set()
        for thread in threads:
            thread.join(timeout=30)
        assert not errors, f"{where}: writers failed before the kill: {errors[:5]}"
