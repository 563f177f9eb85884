"""Local triggers (event-source mappings) of `cruddur dynamodb`, black-box: a command handler
written in Python with boto3 that does what the seed's message-stream Lambda does, kill -9 and
restart without losing a batch, retries and the on-failure destination, and `cruddur triggers`.
Each test starts its own server (spawn_server)."""

import json
import pathlib
import subprocess
import sys
import time

import pytest

from conftest import cruddur_bin

HANDLER = pathlib.Path(__file__).parent / "handlers" / "message_stream.py"
GROUP = "5ae290ed-55d1-47a0-bc6d-fe2bc2700399"
USERS = [("uuid-andrew", "andrewbrown", "Andrew Brown"), ("uuid-bayko", "bayko", "Andrew Bayko")]

pytestmark = pytest.mark.own_server


def create_messages_table(ddb):
    ddb.create_table(
        TableName="cruddur-messages",
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
            {"AttributeName": "message_group_uuid", "AttributeType": "S"},
        ],
        KeySchema=[
            {"AttributeName": "pk", "KeyType": "HASH"},
            {"AttributeName": "sk", "KeyType": "RANGE"},
        ],
        GlobalSecondaryIndexes=[{
            "IndexName": "message-group-sk-index",
            "KeySchema": [
                {"AttributeName": "message_group_uuid", "KeyType": "HASH"},
                {"AttributeName": "sk", "KeyType": "RANGE"},
            ],
            "Projection": {"ProjectionType": "ALL"},
        }],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"},
    )


def put_group_rows(ddb, sk="2026-01-01T00:00:00.000000+00:00"):
    for (owner, _, _), (other, handle, name) in [(USERS[0], USERS[1]), (USERS[1], USERS[0])]:
        ddb.put_item(TableName="cruddur-messages", Item={
            "pk": {"S": f"GRP#{owner}"},
            "sk": {"S": sk},
            "message_group_uuid": {"S": GROUP},
            "message": {"S": "hello"},
            "user_uuid": {"S": other},
            "user_display_name": {"S": name},
            "user_handle": {"S": handle},
        })


def put_message(ddb, i):
    sk = f"2026-02-01T00:{i // 60:02d}:{i % 60:02d}.000000+00:00"
    ddb.put_item(TableName="cruddur-messages", Item={
        "pk": {"S": f"MSG#{GROUP}"},
        "sk": {"S": sk},
        "message_uuid": {"S": f"m-{i}"},
        "message": {"S": f"message {i}"},
        "user_uuid": {"S": USERS[i % 2][0]},
        "user_display_name": {"S": USERS[i % 2][2]},
        "user_handle": {"S": USERS[i % 2][1]},
    })
    return sk


def group_rows(ddb):
    return ddb.query(
        TableName="cruddur-messages",
        IndexName="message-group-sk-index",
        KeyConditionExpression="message_group_uuid = :g",
        ExpressionAttributeValues={":g": {"S": GROUP}},
    )["Items"]


def wait_for(predicate, timeout=30.0, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def handler_command(log, gate=None):
    env = f"HANDLED_LOG={log}"
    gate_check = f"test ! -e {gate} && " if gate else ""
    return f"{gate_check}{env} {sys.executable} {HANDLER}"


def test_command_trigger_keeps_group_rows_current(spawn_server, tmp_path):
    log = tmp_path / "handled.log"
    server = spawn_server(
        "--in-memory",
        "--trigger",
        f"name=groups,table=cruddur-messages,batch-size=10,command={handler_command(log)}",
    )
    ddb = server.client()
    create_messages_table(ddb)
    put_group_rows(ddb)
    last = None
    for i in range(25):
        last = put_message(ddb, i)

    def current():
        rows = group_rows(ddb)
        return len(rows) == 2 and all(r["sk"]["S"] == last for r in rows)

    wait_for(current, what="both group rows on the newest message")
    rows = group_rows(ddb)
    assert {r["message"]["S"] for r in rows} == {"message 24"}
    assert {r["pk"]["S"] for r in rows} == {"GRP#uuid-andrew", "GRP#uuid-bayko"}
    # Each message record was handled once (no failures, so no redelivery).
    wait_for(lambda: log.exists() and len(log.read_text().split()) == 25, what="25 deliveries")
    assert len(set(log.read_text().split())) == 25


def test_kill_9_between_write_and_delivery_loses_no_batch(spawn_server, tmp_path):
    """Writes land while the handler cannot run (its gate file exists), the engine is killed with
    SIGKILL, the gate is opened and the engine restarted on the same data: every message is
    delivered exactly once, and the group rows end on the newest message."""
    data = tmp_path / "data"
    log = tmp_path / "handled.log"
    gate = tmp_path / "closed"
    gate.write_text("closed")
    spec = (
        "name=groups,table=cruddur-messages,batch-size=5,retries=-1,"
        f"command={handler_command(log, gate)}"
    )
    server = spawn_server("--data-dir", str(data), "--trigger", spec)
    ddb = server.client()
    create_messages_table(ddb)
    put_group_rows(ddb)
    last = None
    for i in range(12):
        last = put_message(ddb, i)
    time.sleep(0.5)  # the handler is being called and failing behind the gate
    assert not log.exists()
    server.kill()

    gate.unlink()
    restarted = spawn_server("--data-dir", str(data), "--trigger", spec)
    ddb = restarted.client()
    wait_for(lambda: log.exists() and len(log.read_text().split()) == 12, what="12 deliveries")
    wait_for(lambda: all(r["sk"]["S"] == last for r in group_rows(ddb)), what="rows current")
    handled = log.read_text().split()
    assert len(handled) == len(set(handled)) == 12

    # A batch that finished is not re-run after a clean restart either.
    restarted.terminate()
    again = spawn_server("--data-dir", str(data), "--trigger", spec)
    put_message(again.client(), 40)
    wait_for(lambda: len(log.read_text().split()) == 13, what="the new message's delivery")
    time.sleep(0.5)
    assert len(log.read_text().split()) == 13


def test_failing_handler_is_retried_then_lands_in_the_failure_file(spawn_server, tmp_path):
    attempts = tmp_path / "attempts"
    failed = tmp_path / "failed.jsonl"
    command = f"echo x >> {attempts}; cat > /dev/null; exit 3"
    server = spawn_server(
        "--in-memory",
        "--trigger",
        f"name=broken,table=cruddur-messages,batch-size=100,retries=2,"
        f"on-failure=file:{failed},command={command}",
    )
    ddb = server.client()
    create_messages_table(ddb)
    for i in range(3):
        put_message(ddb, i)
    wait_for(lambda: failed.exists() and failed.read_text().strip(), timeout=60,
             what="the failed batch")
    entries = [json.loads(line) for line in failed.read_text().splitlines()]
    records = [r for e in entries for r in json.dumps(e) and find_records(e)]
    assert sorted(r["dynamodb"]["Keys"]["sk"]["S"] for r in records) == sorted(
        f"2026-02-01T00:00:{i:02d}.000000+00:00" for i in range(3)
    )
    # One first attempt and two retries per batch.
    assert len(attempts.read_text().split()) == 3 * len(entries)


def find_records(entry):
    """The event's records, wherever the failure entry keeps the event."""
    if isinstance(entry, dict):
        if "Records" in entry:
            return entry["Records"]
        for value in entry.values():
            found = find_records(value)
            if found:
                return found
    return []


def test_triggers_command_lists_creates_and_deletes(spawn_server, tmp_path):
    server = spawn_server("--in-memory")
    create_messages_table(server.client())
    cli = [str(cruddur_bin()), "triggers"]
    endpoint = ["--endpoint-url", server.endpoint]
    target = tmp_path / "out.json"
    created = subprocess.run(
        cli + ["create", f"name=copy,table=cruddur-messages,command=cat > {target}"] + endpoint,
        capture_output=True, text=True, timeout=30,
    )
    assert created.returncode == 0, created.stderr
    listed = subprocess.run(cli + ["list", "--json"] + endpoint, capture_output=True, text=True,
                            timeout=30)
    assert listed.returncode == 0, listed.stderr
    assert [m["name"] for m in json.loads(listed.stdout)["Mappings"]] == ["copy"]
    put_message(server.client(), 1)
    wait_for(lambda: target.exists() and target.read_text(), what="the handler's output")
    event = json.loads(target.read_text())
    record = event["Records"][0]
    assert record["eventName"] == "INSERT"
    assert record["eventVersion"] == "1.1"
    assert record["eventSource"] == "aws:dynamodb"
    assert record["eventSourceARN"].startswith("arn:aws:dynamodb:us-east-1:")
    duplicate = subprocess.run(
        cli + ["create", "name=copy,table=cruddur-messages,command=true"] + endpoint,
        capture_output=True, text=True, timeout=30,
    )
    assert duplicate.returncode != 0
    deleted = subprocess.run(cli + ["delete", "copy"] + endpoint, capture_output=True, text=True,
                             timeout=30)
    assert deleted.returncode == 0, deleted.stderr
    listed = subprocess.run(cli + ["list", "--json"] + endpoint, capture_output=True, text=True,
                            timeout=30)
    assert json.loads(listed.stdout)["Mappings"] == []
