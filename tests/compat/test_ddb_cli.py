"""`cruddur ddb ...`, the seed's bin/ddb scripts as subcommands, run as a real process against
our own `cruddur dynamodb --in-memory` with a users directory made by `cruddur db schema-load`
and `cruddur db seed` in a temporary --data-dir.

Skipped when the binary has no `ddb` command (`cruddur ddb --help` does not list its
subcommands)."""

import json
import os
import re
import subprocess
import time
from datetime import datetime, timezone

import pytest

from compat_helpers import ACCESS_KEY, REGION, SECRET_KEY
from conftest import cruddur_bin, free_port

pytestmark = pytest.mark.own_server

TABLE = "cruddur-messages"
INDEX = "message-group-sk-index"
DEMO_MESSAGES = 104
# handle column (12), time column (22: "2026-11-24 09:02 AM" + padding), then the text.
LINE = re.compile(r"^(\S+)\s+(\d{4}-\d{2}-\d{2} \d{2}:\d{2} [AP]M)\s+(.+)$")


def _has_ddb_command():
    binary = cruddur_bin()
    if not binary.exists():
        return False
    try:
        proc = subprocess.run([str(binary), "ddb", "--help"], capture_output=True, text=True,
                              timeout=30)
    except OSError:
        return False
    # Without the command CLI11 prints the top-level help (exit 0), which lists no ddb scripts.
    return proc.returncode == 0 and "list-conversations" in proc.stdout


if not _has_ddb_command():
    pytest.skip("this cruddur binary has no `ddb` command", allow_module_level=True)


def clean_env(tmp_path, **extra):
    """The environment of a run: compat keys, UTC as local time, no AWS config on disk."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("AWS_") and k != "CONNECTION_URL"}
    env.update({
        "HOME": str(tmp_path),
        "TZ": "UTC",
        "AWS_ACCESS_KEY_ID": ACCESS_KEY,
        "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
        "AWS_DEFAULT_REGION": REGION,
        "AWS_CONFIG_FILE": str(tmp_path / "aws-config-absent"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "aws-credentials-absent"),
    })
    for key, value in extra.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return env


def cruddur(*args, env, timeout=120):
    return subprocess.run([str(cruddur_bin()), *args], capture_output=True, text=True, env=env,
                          timeout=timeout)


class Ddb:
    """Runs `cruddur ddb <sub> ...` against one server with one data folder."""

    def __init__(self, server, data_dir, env):
        self.server = server
        self.data_dir = data_dir
        self.env = env

    def run(self, sub, *args, users=False, endpoint=True):
        cmd = ["ddb", sub, *args]
        if endpoint:
            cmd += ["--endpoint-url", self.server.endpoint]
        if users:
            cmd += ["--data-dir", str(self.data_dir)]
        return cruddur(*cmd, env=self.env)

    def ok(self, sub, *args, **kwargs):
        proc = self.run(sub, *args, **kwargs)
        assert proc.returncode == 0, (
            f"cruddur ddb {sub} exited {proc.returncode}\nstdout:{proc.stdout}\n"
            f"stderr:{proc.stderr}")
        return proc.stdout

    def fails(self, sub, *args, **kwargs):
        proc = self.run(sub, *args, **kwargs)
        assert proc.returncode != 0, f"cruddur ddb {sub} succeeded:\n{proc.stdout}"
        assert "Traceback" not in proc.stderr and "terminate" not in proc.stderr
        return proc.stderr


@pytest.fixture
def ddb_cli(spawn_server, tmp_path):
    server = spawn_server("--in-memory")
    data_dir = tmp_path / "data"
    env = clean_env(tmp_path)
    for step in (["db", "schema-load"], ["db", "seed"]):
        proc = cruddur(*step, "--data-dir", str(data_dir), env=env)
        assert proc.returncode == 0, proc.stderr
    return Ddb(server, data_dir, env)


def conversation(ddb_cli, *args):
    out = ddb_cli.ok("get-conversation", *args, users=True)
    lines = out.splitlines()
    parsed = [LINE.match(line) for line in lines]
    assert all(parsed), f"unexpected lines: {[l for l, m in zip(lines, parsed) if not m]}"
    return [m.groups() for m in parsed]


def test_schema_load_creates_the_seed_table_and_is_rerunnable(ddb_cli):
    out = ddb_cli.ok("schema-load")
    description = json.loads(out)
    assert description["TableName"] == TABLE
    client = ddb_cli.server.client()
    table = client.describe_table(TableName=TABLE)["Table"]
    assert table["KeySchema"] == [
        {"AttributeName": "pk", "KeyType": "HASH"},
        {"AttributeName": "sk", "KeyType": "RANGE"},
    ]
    assert {a["AttributeName"] for a in table["AttributeDefinitions"]} == {
        "message_group_uuid", "pk", "sk"}
    [gsi] = table["GlobalSecondaryIndexes"]
    assert gsi["IndexName"] == INDEX
    assert gsi["KeySchema"] == [
        {"AttributeName": "message_group_uuid", "KeyType": "HASH"},
        {"AttributeName": "sk", "KeyType": "RANGE"},
    ]
    assert gsi["Projection"] == {"ProjectionType": "ALL"}
    assert table["ProvisionedThroughput"]["ReadCapacityUnits"] == 5
    assert table["StreamSpecification"]["StreamEnabled"] is True

    again = ddb_cli.ok("schema-load")
    assert "already exists" in again


def test_list_tables_pages_through_every_name(ddb_cli):
    ddb_cli.ok("schema-load")
    client = ddb_cli.server.client()
    # More than one ListTables page (100 names) to show it follows LastEvaluatedTableName.
    names = [f"ddbcli-{i:03d}" for i in range(105)]
    for name in names:
        client.create_table(
            TableName=name, BillingMode="PAY_PER_REQUEST",
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}])
    listed = ddb_cli.ok("list-tables").splitlines()
    assert listed == sorted(names + [TABLE])


def test_seed_writes_104_messages_ending_now_and_get_conversation_shows_them(ddb_cli):
    ddb_cli.ok("schema-load")
    before = datetime.now(timezone.utc)
    out = ddb_cli.ok("seed", users=True)
    after = datetime.now(timezone.utc)
    assert f"seeded {DEMO_MESSAGES} messages" in out
    group = re.search(r"message group ([0-9a-f-]{36})", out).group(1)

    lines = conversation(ddb_cli)
    assert len(lines) == DEMO_MESSAGES
    assert [h for h, _, _ in lines] == ["andrewbrown", "bayko"] * (DEMO_MESSAGES // 2)
    times = [datetime.strptime(t, "%Y-%m-%d %I:%M %p").replace(tzinfo=timezone.utc)
             for _, t, _ in lines]
    assert times == sorted(times)
    assert len({text for _, _, text in lines}) == DEMO_MESSAGES
    assert times[-1] <= after
    assert (times[-1] - times[0]).total_seconds() == pytest.approx(
        (DEMO_MESSAGES - 1) * 60, abs=60)
    # Explicitly named, the same group.
    assert conversation(ddb_cli, group) == lines

    # The stored timestamps: a minute apart, the last one between before and after (never in
    # the future).
    client = ddb_cli.server.client()
    items = []
    kwargs = {"TableName": TABLE, "KeyConditionExpression": "pk = :pk",
              "ExpressionAttributeValues": {":pk": {"S": f"MSG#{group}"}}}
    while True:
        page = client.query(**kwargs)
        items += page["Items"]
        if "LastEvaluatedKey" not in page:
            break
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    assert len(items) == DEMO_MESSAGES
    stamps = sorted(datetime.fromisoformat(i["sk"]["S"][:32]) for i in items)
    assert before.replace(microsecond=0) <= stamps[-1].replace(microsecond=0) <= after
    assert all((b - a).total_seconds() == 60 for a, b in zip(stamps, stamps[1:]))
    assert [i["message"]["S"] for i in sorted(items, key=lambda i: i["sk"]["S"])] == [
        text for _, _, text in lines]


def test_seed_twice_does_not_duplicate_the_conversation(ddb_cli):
    ddb_cli.ok("schema-load")
    first = ddb_cli.ok("seed", users=True)
    group = re.search(r"message group ([0-9a-f-]{36})", first).group(1)
    second = ddb_cli.ok("seed", users=True)
    assert "already have a conversation" in second and group in second
    assert len(conversation(ddb_cli)) == DEMO_MESSAGES
    scanned = [json.loads(line) for line in ddb_cli.ok("scan").splitlines()]
    assert len([i for i in scanned if i["pk"]["S"].startswith("GRP#")]) == 2


def test_list_conversations_shows_each_side(ddb_cli):
    ddb_cli.ok("schema-load")
    ddb_cli.ok("seed", users=True)
    client = ddb_cli.server.client()
    for handle, other in (("andrewbrown", "bayko"), ("bayko", "andrewbrown")):
        args = [] if handle == "andrewbrown" else [handle]
        out = ddb_cli.ok("list-conversations", *args, users=True)
        [line] = out.splitlines()
        shown_handle, shown_time, shown_text = LINE.match(line).groups()
        assert shown_handle == other
        # What the group row holds (moved to the last message only by the stream handler, which
        # a bare `cruddur dynamodb` does not run).
        [row] = [i for i in client.scan(TableName=TABLE)["Items"]
                 if i["pk"]["S"].startswith("GRP#") and i["user_handle"]["S"] == other]
        assert shown_text == row["message"]["S"]
        stored = datetime.fromisoformat(row["sk"]["S"][:32])
        assert shown_time == stored.strftime("%Y-%m-%d %I:%M %p")
    assert ddb_cli.ok("list-conversations", "@bayko", users=True).startswith("andrewbrown")


def test_scan_prints_every_item_across_pages(ddb_cli):
    ddb_cli.ok("schema-load")
    ddb_cli.ok("seed", users=True)
    client = ddb_cli.server.client()
    # Large items so the table spans several 1 MB Scan pages.
    filler = "x" * 100_000
    for i in range(25):
        client.put_item(TableName=TABLE, Item={"pk": {"S": f"BIG#{i}"}, "sk": {"S": "0"},
                                               "blob": {"S": filler}})
    items = [json.loads(line) for line in ddb_cli.ok("scan").splitlines()]
    keys = {(i["pk"]["S"], i["sk"]["S"]) for i in items}
    assert len(keys) == len(items)
    expected = set()
    kwargs = {"TableName": TABLE}
    pages = 0
    while True:
        page = client.scan(**kwargs)
        pages += 1
        expected |= {(i["pk"]["S"], i["sk"]["S"]) for i in page["Items"]}
        if "LastEvaluatedKey" not in page:
            break
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    assert pages > 1
    assert keys == expected
    # 104 messages, two group rows, two member rows, the pair row and the 25 big items.
    assert len([k for k in keys if k[0].startswith("MSG#")]) == DEMO_MESSAGES
    assert len([k for k in keys if k[0].startswith("BIG#")]) == 25


def test_drop_deletes_the_named_table(ddb_cli):
    ddb_cli.ok("schema-load")
    out = ddb_cli.ok("drop", TABLE)
    assert f"deleting table: {TABLE}" in out
    assert TABLE not in ddb_cli.ok("list-tables").splitlines()
    assert "no table" in ddb_cli.fails("drop", TABLE)


def test_drop_refuses_without_a_table_name(ddb_cli):
    ddb_cli.ok("schema-load")
    assert "no table name" in ddb_cli.fails("drop")
    assert TABLE in ddb_cli.ok("list-tables").splitlines()


def test_unreachable_endpoint_is_a_clear_error(ddb_cli):
    dead = f"http://127.0.0.1:{free_port()}"
    for sub in ("list-tables", "schema-load", "scan"):
        proc = cruddur("ddb", sub, "--endpoint-url", dead, env=ddb_cli.env)
        assert proc.returncode == 1, proc.stderr
        assert f"cannot reach the DynamoDB endpoint at {dead}" in proc.stderr


def test_missing_table_and_missing_users_name_the_command_to_run(ddb_cli, tmp_path):
    assert "cruddur ddb schema-load" in ddb_cli.fails("scan")
    assert "cruddur ddb schema-load" in ddb_cli.fails("get-conversation", users=True)
    ddb_cli.ok("schema-load")
    empty = tmp_path / "no-users"
    proc = cruddur("ddb", "seed", "--endpoint-url", ddb_cli.server.endpoint, "--data-dir",
                   str(empty), env=ddb_cli.env)
    assert proc.returncode == 1
    assert "cruddur db seed" in proc.stderr
    assert "no message group" in ddb_cli.fails(
        "get-conversation", "00000000-0000-4000-8000-000000000000", users=True)
    assert "has no conversations" in ddb_cli.fails("get-conversation", users=True)


def test_local_default_needs_no_aws_configuration_and_prod_uses_it(ddb_cli, tmp_path):
    ddb_cli.ok("schema-load")
    # No keys and no region anywhere: the local endpoint still works with dummy ones.
    bare = clean_env(tmp_path, AWS_ACCESS_KEY_ID=None, AWS_SECRET_ACCESS_KEY=None,
                     AWS_DEFAULT_REGION=None)
    proc = cruddur("ddb", "list-tables", "--endpoint-url", ddb_cli.server.endpoint, env=bare)
    assert proc.returncode == 0, proc.stderr
    assert TABLE in proc.stdout.splitlines()
    # `prod`: the AWS configuration decides (here AWS_ENDPOINT_URL points at our server).
    prod_env = dict(ddb_cli.env, AWS_ENDPOINT_URL=ddb_cli.server.endpoint)
    proc = cruddur("ddb", "list-tables", "prod", env=prod_env)
    assert proc.returncode == 0, proc.stderr
    assert TABLE in proc.stdout.splitlines()
    # `prod` with an incomplete configuration is refused with the configuration's reason.
    proc = cruddur("ddb", "list-tables", "prod", env=dict(bare, AWS_ENDPOINT_URL="http://x"))
    assert proc.returncode == 1
    assert "Unable to locate credentials" in proc.stderr
    no_region = clean_env(tmp_path, AWS_DEFAULT_REGION=None)
    proc = cruddur("ddb", "list-tables", "prod", env=no_region)
    assert proc.returncode == 1
    assert "region" in proc.stderr
    # Anything but `prod` is a usage error.
    assert "unexpected argument 'staging'" in ddb_cli.fails("list-tables", "staging")


def test_with_the_stream_handler_list_conversations_shows_the_last_message(tmp_path):
    """Under `cruddur serve` the message-stream handler moves both group rows to each new
    message, so the seed's list-conversations shows the conversation's last message."""
    data_dir = tmp_path / "data"
    env = clean_env(tmp_path)
    for step in (["db", "schema-load"], ["db", "seed"]):
        proc = cruddur(*step, "--data-dir", str(data_dir), env=env)
        assert proc.returncode == 0, proc.stderr
    engine_port, api_port = free_port(), free_port()
    engine = f"http://127.0.0.1:{engine_port}"
    log = open(tmp_path / "serve.log", "wb")
    serve = subprocess.Popen(
        [str(cruddur_bin()), "serve", "--in-memory", "--data-dir", str(data_dir),
         "--dynamodb-port", str(engine_port), "--api-port", str(api_port)],
        stdout=log, stderr=subprocess.STDOUT, env=env)
    try:
        def run(sub, *args):
            return cruddur("ddb", sub, *args, "--endpoint-url", engine, env=env)

        deadline = time.monotonic() + 30
        while TABLE not in run("list-tables").stdout.splitlines():
            assert serve.poll() is None, (tmp_path / "serve.log").read_text(errors="replace")
            assert time.monotonic() < deadline, "cruddur serve did not create its table"
            time.sleep(0.1)
        seeded = run("seed", "--data-dir", str(data_dir))
        assert seeded.returncode == 0, seeded.stderr
        last = run("get-conversation", "--data-dir", str(data_dir)).stdout.splitlines()[-1]
        _, last_time, last_text = LINE.match(last).groups()
        expected = {"andrewbrown": ("bayko", last_time, last_text),
                    "bayko": ("andrewbrown", last_time, last_text)}
        deadline = time.monotonic() + 30
        while True:
            shown = {h: LINE.match(run("list-conversations", h, "--data-dir",
                                       str(data_dir)).stdout.strip()).groups()
                     for h in expected}
            if shown == expected:
                break
            assert time.monotonic() < deadline, f"group rows never reached {last}: {shown}"
            time.sleep(0.1)
    finally:
        serve.terminate()
        serve.wait(timeout=30)
        log.close()
