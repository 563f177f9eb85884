#!/usr/bin/env python3
"""Soak test: a long mixed load on one `cruddur serve` process, with its memory sampled.

    CRUDDUR_BIN=build-release/src/cli/cruddur /usr/bin/python3 bench/soak.py [--seconds 600]

Starts `cruddur serve --demo` on a fresh on-disk data folder (engine and messaging API in one
process, as users run it) and, for --seconds, keeps these clients busy at once:
  - engine writers: PutItem / UpdateItem (ADD) / DeleteItem / TransactWriteItems on a `soak`
    table with a GSI and a NEW_AND_OLD_IMAGES stream, over a bounded key space (so the data
    set plateaus and memory should too);
  - engine readers: GetItem, Query (base table and GSI), Scan pages, BatchGetItem;
  - a streams consumer following every shard of the `soak` table with GetRecords;
  - messaging API users: list groups, list messages, post messages (the stream handler then
    updates both participants' group rows), as the demo users.
Every --sample seconds it records the server's resident set size (VmRSS) and the requests
done so far into a CSV (--csv, default bench/results/soak-<date>.csv).

Verdict (exit 1 on failure): the first fifth of the run is warm-up; the largest RSS of the last
fifth may exceed the largest RSS of the second fifth by at most 20% + 32 MB, i.e. memory must
level off rather than grow with time. The least-squares trend after the warm-up (MB/min) is
printed too. Any client error (other than the
documented conditional-check failures the load provokes on purpose) also fails the run.
Not part of CI: it takes ten minutes and wants an otherwise idle machine.
"""

import argparse
import csv
import datetime
import os
import pathlib
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

import boto3
import botocore.config
import botocore.exceptions
import requests

REPO = pathlib.Path(__file__).resolve().parents[1]
USERS = ["andrewbrown", "bayko", "londo", "altbrown"]
KEYS = 5000  # bounded key space of the engine load


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rss_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


class Counters:
    def __init__(self):
        self.lock = threading.Lock()
        self.done = {}
        self.errors = []

    def add(self, kind, n=1):
        with self.lock:
            self.done[kind] = self.done.get(kind, 0) + n

    def error(self, where, exc):
        with self.lock:
            if len(self.errors) < 50:
                self.errors.append(f"{where}: {exc!r}")

    def total(self):
        with self.lock:
            return sum(self.done.values())


def ddb_client(port):
    return boto3.client(
        "dynamodb", endpoint_url=f"http://127.0.0.1:{port}", region_name="us-east-1",
        aws_access_key_id="soak", aws_secret_access_key="soak",
        config=botocore.config.Config(retries={"max_attempts": 2}, read_timeout=30))


def streams_client(port):
    return boto3.client(
        "dynamodbstreams", endpoint_url=f"http://127.0.0.1:{port}", region_name="us-east-1",
        aws_access_key_id="soak", aws_secret_access_key="soak",
        config=botocore.config.Config(retries={"max_attempts": 2}, read_timeout=30))


def create_soak_table(client):
    client.create_table(
        TableName="soak",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"},
                   {"AttributeName": "sk", "KeyType": "RANGE"}],
        AttributeDefinitions=[{"AttributeName": a, "AttributeType": "S"}
                              for a in ("pk", "sk", "g")],
        GlobalSecondaryIndexes=[{
            "IndexName": "by-g",
            "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"},
                          {"AttributeName": "sk", "KeyType": "RANGE"}],
            "Projection": {"ProjectionType": "ALL"}}],
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
        BillingMode="PAY_PER_REQUEST")


def key(i):
    return {"pk": {"S": f"p{i % 100}"}, "sk": {"S": f"s{i:06d}"}}


def engine_writer(port, stop, counters, seed):
    client = ddb_client(port)
    rnd = random.Random(seed)
    while not stop.is_set():
        i = rnd.randrange(KEYS)
        op = rnd.random()
        try:
            if op < 0.5:
                item = dict(key(i), g={"S": f"g{i % 10}"}, body={"S": "x" * rnd.randrange(10, 900)})
                client.put_item(TableName="soak", Item=item)
            elif op < 0.75:
                client.update_item(TableName="soak", Key=key(i), UpdateExpression="ADD n :one",
                                   ExpressionAttributeValues={":one": {"N": "1"}})
            elif op < 0.85:
                client.delete_item(TableName="soak", Key=key(i))
            else:
                j = (i + 1) % KEYS
                client.transact_write_items(TransactItems=[
                    {"Update": {"TableName": "soak", "Key": key(i),
                                "UpdateExpression": "ADD t :one",
                                "ExpressionAttributeValues": {":one": {"N": "1"}}}},
                    {"Update": {"TableName": "soak", "Key": key(j),
                                "UpdateExpression": "ADD t :minus",
                                "ExpressionAttributeValues": {":minus": {"N": "-1"}}}}])
            counters.add("engine-write")
        except botocore.exceptions.ClientError as e:
            # Two writers may pick the same pair at once: a cancelled transaction is expected.
            if e.response["Error"]["Code"] != "TransactionCanceledException":
                counters.error("engine-write", e)
        except Exception as e:  # noqa: BLE001 - any failure is a finding
            counters.error("engine-write", e)


def engine_reader(port, stop, counters, seed):
    client = ddb_client(port)
    rnd = random.Random(seed)
    scan_start = None
    while not stop.is_set():
        op = rnd.random()
        try:
            if op < 0.4:
                client.get_item(TableName="soak", Key=key(rnd.randrange(KEYS)))
            elif op < 0.6:
                client.query(TableName="soak", KeyConditionExpression="pk = :p",
                             ExpressionAttributeValues={":p": {"S": f"p{rnd.randrange(100)}"}},
                             Limit=50)
            elif op < 0.75:
                client.query(TableName="soak", IndexName="by-g",
                             KeyConditionExpression="g = :g",
                             ExpressionAttributeValues={":g": {"S": f"g{rnd.randrange(10)}"}},
                             Limit=50, ScanIndexForward=False)
            elif op < 0.9:
                kwargs = {"TableName": "soak", "Limit": 200}
                if scan_start:
                    kwargs["ExclusiveStartKey"] = scan_start
                scan_start = client.scan(**kwargs).get("LastEvaluatedKey")
            else:
                keys = [key(k) for k in rnd.sample(range(KEYS), 20)]
                client.batch_get_item(RequestItems={"soak": {"Keys": keys}})
            counters.add("engine-read")
        except Exception as e:  # noqa: BLE001
            counters.error("engine-read", e)


def stream_consumer(port, stop, counters):
    ddb = ddb_client(port)
    streams = streams_client(port)
    arn = ddb.describe_table(TableName="soak")["Table"]["LatestStreamArn"]
    iterators = {}  # shard id -> iterator (None once a closed shard is drained)
    while not stop.is_set():
        try:
            for shard in streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]:
                sid = shard["ShardId"]
                if sid not in iterators:
                    iterators[sid] = streams.get_shard_iterator(
                        StreamArn=arn, ShardId=sid,
                        ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
            idle = True
            for sid, it in list(iterators.items()):
                if it is None:
                    continue
                page = streams.get_records(ShardIterator=it, Limit=1000)
                iterators[sid] = page.get("NextShardIterator")
                if page["Records"]:
                    idle = False
                    counters.add("stream-record", len(page["Records"]))
            if idle:
                stop.wait(0.2)
        except Exception as e:  # noqa: BLE001
            counters.error("stream", e)
            stop.wait(1)


def messaging_user(api, tokens, group, stop, counters, seed):
    rnd = random.Random(seed)
    session = requests.Session()
    n = 0
    while not stop.is_set():
        op = rnd.random()
        user = rnd.choice(USERS)
        headers = {"Authorization": f"Bearer {tokens[user]}", "Accept": "application/json"}
        try:
            if op < 0.6:
                r = session.get(f"{api}/api/message_groups", headers=headers, timeout=30)
            elif op < 0.85:
                r = session.get(f"{api}/api/messages/{group}",
                                headers={"Authorization": f"Bearer {tokens['andrewbrown']}"},
                                timeout=30)
            else:
                n += 1
                poster = rnd.choice(["andrewbrown", "bayko"])
                r = session.post(f"{api}/api/messages", timeout=30,
                                 headers={"Authorization": f"Bearer {tokens[poster]}"},
                                 json={"message": f"soak {seed}-{n}: keeping the lights on",
                                       "message_group_uuid": group})
            if r.status_code >= 300:
                counters.error("messaging", f"{r.status_code} {r.text[:200]}")
            else:
                counters.add("messaging")
        except Exception as e:  # noqa: BLE001
            counters.error("messaging", e)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seconds", type=int, default=int(os.environ.get("SOAK_SECONDS", 600)))
    ap.add_argument("--sample", type=float, default=5.0)
    ap.add_argument("--csv", default=None)
    args = ap.parse_args()
    binary = os.environ.get("CRUDDUR_BIN", str(REPO / "build-release/src/cli/cruddur"))
    if not os.access(binary, os.X_OK):
        sys.exit(f"soak: no cruddur binary at {binary} (set CRUDDUR_BIN)")
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M")
    csv_path = pathlib.Path(args.csv or REPO / "bench/results" / f"soak-{stamp}.csv")
    csv_path.parent.mkdir(parents=True, exist_ok=True)

    work = pathlib.Path(tempfile.mkdtemp(prefix="cruddur-soak."))
    private = work / "cruddur"  # a rebuild of the build folder cannot swap the binary mid-run
    shutil.copy(binary, private)
    data = work / "data"
    api_port, ddb_port = free_port(), free_port()
    log = open(work / "serve.log", "wb")
    server = subprocess.Popen(
        [str(private), "serve", "--demo", "--data-dir", str(data), "--host", "127.0.0.1",
         "--api-port", str(api_port), "--dynamodb-port", str(ddb_port)],
        stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        group = None
        while time.monotonic() < deadline and group is None:
            if server.poll() is not None:
                sys.exit(f"soak: serve exited:\n{(work / 'serve.log').read_text()[-3000:]}")
            m = re.search(r"^demo: .*\(group ([0-9a-f-]+)\)$",
                          (work / "serve.log").read_text(errors="replace"), re.M)
            group = m.group(1) if m else None
            time.sleep(0.1)
        if group is None:
            sys.exit("soak: serve printed no demo group within 60 s")
        tokens = {u: subprocess.check_output(
            [str(private), "auth", "token", u, "--data-dir", str(data)], text=True).strip()
            for u in USERS}
        create_soak_table(ddb_client(ddb_port))

        stop = threading.Event()
        counters = Counters()
        api = f"http://127.0.0.1:{api_port}"
        threads = [threading.Thread(target=engine_writer, args=(ddb_port, stop, counters, s))
                   for s in range(3)]
        threads += [threading.Thread(target=engine_reader, args=(ddb_port, stop, counters, s))
                    for s in range(10, 13)]
        threads.append(threading.Thread(target=stream_consumer, args=(ddb_port, stop, counters)))
        threads += [threading.Thread(target=messaging_user,
                                     args=(api, tokens, group, stop, counters, s))
                    for s in range(20, 23)]
        for t in threads:
            t.start()

        samples = []
        start = time.monotonic()
        with open(csv_path, "w", newline="") as f:
            out = csv.writer(f)
            out.writerow(["seconds", "rss_kb", "requests"])
            while time.monotonic() - start < args.seconds:
                time.sleep(args.sample)
                if server.poll() is not None:
                    stop.set()
                    sys.exit(f"soak: server died with {server.returncode}")
                row = (round(time.monotonic() - start, 1), rss_kb(server.pid), counters.total())
                samples.append(row)
                out.writerow(row)
                f.flush()
                print(f"[soak] t={row[0]:>6}s rss={row[1] / 1024:7.1f} MB requests={row[2]}",
                      flush=True)
        stop.set()
        for t in threads:
            t.join(timeout=60)

        fifth = max(1, len(samples) // 5)
        baseline = max(r[1] for r in samples[fifth:2 * fifth] or samples)
        final = max(r[1] for r in samples[-fifth:])
        steady = samples[fifth:] or samples
        slope = 0.0  # least-squares MB per minute after the warm-up
        if len(steady) > 1:
            mt = sum(r[0] for r in steady) / len(steady)
            mr = sum(r[1] for r in steady) / len(steady)
            var = sum((r[0] - mt) ** 2 for r in steady)
            slope = sum((r[0] - mt) * (r[1] - mr) for r in steady) / var * 60 / 1024
        allowed = baseline * 1.2 + 32 * 1024
        print(f"[soak] done in {args.seconds}s: {counters.done}")
        print(f"[soak] RSS second fifth max {baseline / 1024:.1f} MB, last fifth max "
              f"{final / 1024:.1f} MB (allowed {allowed / 1024:.1f} MB), trend after warm-up "
              f"{slope:+.2f} MB/min; curve in {csv_path}")
        failed = False
        if final > allowed:
            print("[soak] FAIL: memory keeps growing", file=sys.stderr)
            failed = True
        if counters.errors:
            print("[soak] FAIL: client errors:\n  " + "\n  ".join(counters.errors),
                  file=sys.stderr)
            failed = True
        return 1 if failed else 0
    finally:
        try:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=30)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            os.killpg(server.pid, signal.SIGKILL)
        log.close()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
