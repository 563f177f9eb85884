"""Cruddur beyond one machine (issue 7, part 5): the messaging service and its stream handler
against a second `cruddur dynamodb` process with `--auth` on, over HTTP with SigV4, and the
message-stream handler's credentials carrying exactly the seed's inline policy.

Every process is started here on free ports with an environment stripped of the caller's AWS_*
variables, so nothing leaks in from the machine running the suite.
"""

import json
import os
import signal
import subprocess
import time

import boto3
import botocore.config
import botocore.exceptions
import pytest

from conftest import REPO, Serve, cruddur_bin, free_port

ACCOUNT = "546310198960"
REGION = "us-east-1"
TABLE = "cruddur-messages"
INDEX = "message-group-sk-index"
HANDLER = REPO / "tests" / "compat" / "handlers" / "message_stream.py"
PYTHON = "/usr/bin/python3"

ADMIN_KEY, ADMIN_SECRET = "AKIACRUDDURADMIN001", "admin-secret"
SERVICE_KEY, SERVICE_SECRET = "AKIACRUDDURSERVE001", "messaging-service-secret"
LAMBDA_KEY, LAMBDA_SECRET = "AKIACRUDDURLAMBDA01", "message-stream-lambda-secret"

TABLE_ARN = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{TABLE}"

# The seed's inline policy ("Create an Inline Policy"), as written there. Its ARNs name region
# us-east-1 and account 546310198960, so the engine below runs with --region us-east-1 and the
# auth file's AccountId is 546310198960: the ARNs then match the engine's tables as they matched
# the seed's account in AWS. The actions are not touched.
SEED_INLINE_POLICY = """{
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "VisualEditor0",
            "Effect": "Allow",
            "Action": [
                "dynamodb:PutItem",
                "dynamodb:DeleteItem",
                "dynamodb:Query"
            ],
            "Resource": [
                "arn:aws:dynamodb:us-east-1:546310198960:table/cruddur-messages",
                "arn:aws:dynamodb:us-east-1:546310198960:table/cruddur-messages/index/message-group-sk-index"
            ]
        }
    ]
}"""

# What `cruddur serve` needs on the table, its index and its stream: CreateTable (--demo makes
# the table), Query/GetItem for reads, TransactWriteItems of Put/Update/Delete/ConditionCheck
# for writes and the stream handler, DescribeTable + the Streams reads for the stream poller.
SERVICE_POLICY = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "MessagingTable",
            "Effect": "Allow",
            "Action": [
                "dynamodb:CreateTable", "dynamodb:DescribeTable", "dynamodb:Query",
                "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem",
                "dynamodb:DeleteItem", "dynamodb:ConditionCheckItem",
            ],
            "Resource": [TABLE_ARN, f"{TABLE_ARN}/index/*"],
        },
        {
            "Sid": "MessagingStream",
            "Effect": "Allow",
            "Action": ["dynamodb:DescribeStream", "dynamodb:GetShardIterator",
                       "dynamodb:GetRecords"],
            "Resource": f"{TABLE_ARN}/stream/*",
        },
        {"Sid": "ListStreams", "Effect": "Allow", "Action": "dynamodb:ListStreams",
         "Resource": "*"},
    ],
}

FULL_ACCESS = {"Version": "2012-10-17",
               "Statement": [{"Effect": "Allow", "Action": "dynamodb:*", "Resource": "*"}]}

S = lambda v: {"S": v}  # noqa: E731


# The messages table and rows as in tests/compat/test_triggers.py (the seed's schema).
GROUP = "5ae290ed-55d1-47a0-bc6d-fe2bc2700399"
USERS = [("uuid-andrew", "andrewbrown", "Andrew Brown"), ("uuid-bayko", "bayko", "Andrew Bayko")]


def create_messages_table(ddb):
    ddb.create_table(
        TableName=TABLE,
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                              {"AttributeName": "sk", "AttributeType": "S"},
                              {"AttributeName": "message_group_uuid", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"},
                   {"AttributeName": "sk", "KeyType": "RANGE"}],
        GlobalSecondaryIndexes=[{
            "IndexName": INDEX,
            "KeySchema": [{"AttributeName": "message_group_uuid", "KeyType": "HASH"},
                          {"AttributeName": "sk", "KeyType": "RANGE"}],
            "Projection": {"ProjectionType": "ALL"}}],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"})


def put_group_rows(ddb, sk="2026-01-01T00:00:00.000000+00:00"):
    for (owner, _, _), (other, handle, name) in [(USERS[0], USERS[1]), (USERS[1], USERS[0])]:
        ddb.put_item(TableName=TABLE, Item={
            "pk": S(f"GRP#{owner}"), "sk": S(sk), "message_group_uuid": S(GROUP),
            "message": S("hello"), "user_uuid": S(other), "user_display_name": S(name),
            "user_handle": S(handle)})


def put_message(ddb, i):
    sk = f"2026-02-01T00:{i // 60:02d}:{i % 60:02d}.000000+00:00"
    user = USERS[i % 2]
    ddb.put_item(TableName=TABLE, Item={
        "pk": S(f"MSG#{GROUP}"), "sk": S(sk), "message_uuid": S(f"m-{i}"),
        "message": S(f"message {i}"), "user_uuid": S(user[0]), "user_display_name": S(user[2]),
        "user_handle": S(user[1])})
    return sk


def group_rows(ddb):
    return ddb.query(TableName=TABLE, IndexName=INDEX,
                     KeyConditionExpression="message_group_uuid = :g",
                     ExpressionAttributeValues={":g": S(GROUP)})["Items"]


def clean_env(**extra):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "CONNECTION_URL"))}
    env.update(extra)
    return env


def wait_for(predicate, timeout=20.0, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def client(endpoint, key, secret, service="dynamodb"):
    return boto3.client(
        service, endpoint_url=endpoint, region_name=REGION, aws_access_key_id=key,
        aws_secret_access_key=secret,
        config=botocore.config.Config(retries={"max_attempts": 1}, connect_timeout=5,
                                      read_timeout=30))


def expect_error(codes, call):
    with pytest.raises(botocore.exceptions.ClientError) as info:
        call()
    error = info.value.response["Error"]
    assert error["Code"] in codes, info.value.response
    return error["Message"]


class Engine:
    """`cruddur dynamodb --in-memory --auth <file>` on a free port."""

    def __init__(self, tmp, principals, extra=()):
        self.port = free_port()
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self.auth_path = tmp / f"auth-{self.port}.json"
        self.auth_path.write_text(json.dumps({"AccountId": ACCOUNT, "Principals": principals},
                                             indent=2))
        self.log_path = tmp / f"engine-{self.port}.log"
        self.args = [str(cruddur_bin()), "dynamodb", "--in-memory", "--host", "127.0.0.1",
                     "--port", str(self.port), "--region", REGION, "--auth",
                     str(self.auth_path), *extra]
        self.proc = None

    def start(self, probe_key, probe_secret, timeout=15):
        self.log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(self.args, stdout=self.log, stderr=subprocess.STDOUT,
                                     env=clean_env())
        probe = client(self.endpoint, probe_key, probe_secret)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                pytest.fail("cruddur dynamodb exited:\n" + self.output())
            try:
                probe.list_tables()
                return self
            except (botocore.exceptions.EndpointConnectionError,
                    botocore.exceptions.ConnectionClosedError):
                time.sleep(0.05)
        pytest.fail("cruddur dynamodb did not answer:\n" + self.output())

    def output(self):
        return self.log_path.read_text(errors="replace")

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(timeout=15)
        self.log.close()


class RemoteServe(Serve):
    """`cruddur serve --demo --endpoint-url <engine>` with the service principal's keys."""

    def __init__(self, data_dir, endpoint, key, secret):
        super().__init__(data_dir, ("--endpoint-url", endpoint))
        self.key, self.secret = key, secret

    def start(self, timeout=30):
        self.log = open(self.log_path, "wb")
        env = clean_env(AWS_ACCESS_KEY_ID=self.key, AWS_SECRET_ACCESS_KEY=self.secret,
                        AWS_REGION=REGION)
        self.proc = subprocess.Popen(self.args, stdout=self.log, stderr=subprocess.STDOUT,
                                     env=env)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                pytest.fail("cruddur serve exited:\n" + self.output())
            if "curl" in self.output():
                return self
            time.sleep(0.05)
        pytest.fail("cruddur serve did not print its curl line:\n" + self.output())


@pytest.fixture
def processes():
    started = []
    yield started
    for p in reversed(started):
        if isinstance(p, Engine):
            p.stop()
        else:
            p.stop(signal.SIGKILL)


def test_messaging_against_a_second_engine_with_auth(processes, tmp_path):
    engine = Engine(tmp_path, [
        {"AccessKeyId": SERVICE_KEY, "SecretAccessKey": SERVICE_SECRET,
         "Role": "cruddur-messaging-service-role", "SessionName": "cruddur-serve",
         "Policies": [{"PolicyName": "cruddur-messaging", "PolicyDocument": SERVICE_POLICY}]},
        {"AccessKeyId": ADMIN_KEY, "SecretAccessKey": ADMIN_SECRET, "User": "admin",
         "Policies": [FULL_ACCESS]},
    ])
    processes.append(engine)
    engine.start(ADMIN_KEY, ADMIN_SECRET)

    # A wrong secret or an unknown key is refused before anything is read.
    expect_error({"InvalidSignatureException"},
                 lambda: client(engine.endpoint, SERVICE_KEY, "wrong-secret").list_tables())
    expect_error({"UnrecognizedClientException"},
                 lambda: client(engine.endpoint, "AKIANOSUCHKEY000001", "x").list_tables())

    s = RemoteServe(tmp_path / "data", engine.endpoint, SERVICE_KEY, SERVICE_SECRET)
    processes.append(s)
    s.start()
    assert f"DynamoDB at {engine.endpoint}" in s.output()
    # The table lives in the engine, with a stream, made by serve --demo with the service keys.
    admin = client(engine.endpoint, ADMIN_KEY, ADMIN_SECRET)
    described = admin.describe_table(TableName=TABLE)["Table"]
    assert described["TableArn"] == TABLE_ARN
    assert described["StreamSpecification"]["StreamEnabled"] is True

    andrew, bayko = s.token("andrewbrown"), s.token("bayko")
    groups = s.get("/api/message_groups", andrew).json()
    assert [g["handle"] for g in groups] == ["bayko"]
    group = groups[0]["uuid"]

    seen, cursor = [], None
    while True:
        r = s.get(f"/api/messages/{group}", andrew, params={"cursor": cursor} if cursor else {})
        assert r.status_code == 200, r.text
        seen = r.json() + seen
        cursor = r.headers.get("X-Next-Cursor")
        if not cursor:
            break
    assert len(seen) == 104
    stamps = [m["created_at"] for m in seen]
    assert stamps == sorted(stamps)

    # bayko replies; the remote Streams poller hands the record to the stream handler, which
    # moves andrewbrown's group row in the engine: all over HTTP, signed with the service keys.
    r = s.post("/api/messages", {"message": "Over the wire?", "message_group_uuid": group},
               bayko)
    assert r.status_code == 200, r.text
    wait_for(lambda: s.get("/api/message_groups", andrew).json()[0]["message"]
             == "Over the wire?", what="andrewbrown's inbox to show the reply")
    rows = admin.query(TableName=TABLE, IndexName=INDEX,
                       KeyConditionExpression="message_group_uuid = :g",
                       ExpressionAttributeValues={":g": S(group)})["Items"]
    assert {r["message"]["S"] for r in rows} == {"Over the wire?"}

    # The service's keys reach nothing beyond its policy.
    service = client(engine.endpoint, SERVICE_KEY, SERVICE_SECRET)
    expect_error({"AccessDeniedException"}, lambda: service.scan(TableName=TABLE))
    expect_error({"AccessDeniedException"}, lambda: service.delete_table(TableName=TABLE))
    assert "AccessDenied" not in s.output(), s.output()


def test_stream_handler_with_exactly_the_seeds_inline_policy(processes, tmp_path):
    log = tmp_path / "handled.log"
    command = (f"AWS_ACCESS_KEY_ID={LAMBDA_KEY} AWS_SECRET_ACCESS_KEY={LAMBDA_SECRET} "
               f"HANDLED_LOG={log} {PYTHON} {HANDLER}")
    engine = Engine(tmp_path, [
        {"AccessKeyId": ADMIN_KEY, "SecretAccessKey": ADMIN_SECRET, "User": "admin",
         "Policies": [FULL_ACCESS]},
        {"AccessKeyId": LAMBDA_KEY, "SecretAccessKey": LAMBDA_SECRET,
         "Role": "cruddur-messaging-stream-role", "SessionName": "cruddur-messaging-stream",
         "Policies": [json.loads(SEED_INLINE_POLICY)]},
    ], extra=("--trigger", f"name=lambda,table={TABLE},batch-size=10,command={command}"))
    processes.append(engine)
    engine.start(ADMIN_KEY, ADMIN_SECRET)

    admin = client(engine.endpoint, ADMIN_KEY, ADMIN_SECRET)
    create_messages_table(admin)
    admin.create_table(TableName="other-table",
                       AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
                       KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
                       BillingMode="PAY_PER_REQUEST")
    wait_for(lambda: all(admin.describe_table(TableName=t)["Table"]["TableStatus"] == "ACTIVE"
                         for t in (TABLE, "other-table")), what="tables ACTIVE")
    put_group_rows(admin)
    last = None
    for i in range(12):
        last = put_message(admin, i)

    def current():
        rows = group_rows(admin)
        return len(rows) == 2 and all(r["sk"]["S"] == last for r in rows)

    wait_for(current, timeout=30, what="both group rows on the newest message")
    assert {r["message"]["S"] for r in group_rows(admin)} == {"message 11"}
    assert {r["message_group_uuid"]["S"] for r in group_rows(admin)} == {GROUP}
    wait_for(lambda: log.exists() and len(log.read_text().split()) == 12, what="12 deliveries")
    assert "AccessDenied" not in engine.output(), engine.output()

    # The same keys: Scan of the table and a write to another table are denied.
    lam = client(engine.endpoint, LAMBDA_KEY, LAMBDA_SECRET)
    message = expect_error({"AccessDeniedException"}, lambda: lam.scan(TableName=TABLE))
    assert f"is not authorized to perform: dynamodb:Scan on resource: {TABLE_ARN}" in message
    message = expect_error({"AccessDeniedException"},
                           lambda: lam.put_item(TableName="other-table", Item={"id": S("x")}))
    assert "dynamodb:PutItem on resource: " in message and message.count("other-table") == 1
    expect_error({"AccessDeniedException"},
                 lambda: lam.get_item(TableName=TABLE, Key={"pk": S("x"), "sk": S("y")}))
    expect_error({"InvalidSignatureException"},
                 lambda: client(engine.endpoint, LAMBDA_KEY, "wrong").query(
                     TableName=TABLE, KeyConditionExpression="pk = :p",
                     ExpressionAttributeValues={":p": S("x")}))
