"""`cruddur dynamodb --auth <file>`: SigV4 verification and IAM identity policies, black-box.

Each test starts its own server with an auth file, so the module is marked own_server, and it
is skipped while `cruddur dynamodb --help` does not list --auth.

The auth file gives the suite's default keys (compat_helpers.ACCESS_KEY) full DynamoDB access,
so spawn_server's start-up probe (ListTables with those keys) succeeds, and gives the
message-stream handler's keys exactly the seed's inline policy ("Create an Inline Policy").
AWS answers every authentication and authorization error of DynamoDB with HTTP 400
(Developer Guide, "Error handling with DynamoDB").
"""

import json
import os
import subprocess
import time

import boto3
import botocore
import botocore.config
import botocore.exceptions
import pytest

from compat_helpers import ACCESS_KEY, REGION, SECRET_KEY
from conftest import AWS_CLI, cruddur_bin


def _auth_flag_available():
    try:
        out = subprocess.run([str(cruddur_bin()), "dynamodb", "--help"], capture_output=True,
                             text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return "--auth" in out.stdout + out.stderr


pytestmark = [
    pytest.mark.own_server,
    pytest.mark.skipif(not _auth_flag_available(),
                       reason="cruddur dynamodb --help does not list --auth yet"),
]

ACCOUNT = "546310198960"
TABLE = "cruddur-messages"
INDEX = "message-group-sk-index"
OTHER = "other-table"
STREAM_KEY = "AKIASTREAMHANDLER01"
STREAM_SECRET = "stream-handler-secret"
STREAM_ARN = (f"arn:aws:sts::{ACCOUNT}:assumed-role/cruddur-messaging-stream-role/"
              "cruddur-messaging-stream")

# The seed's inline policy, as written there.
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

S = lambda v: {"S": v}  # noqa: E731


def client(endpoint, key, secret, service="dynamodb", unsigned=False):
    config = botocore.config.Config(retries={"max_attempts": 1}, connect_timeout=5,
                                    read_timeout=30)
    if unsigned:
        config = config.merge(botocore.config.Config(signature_version=botocore.UNSIGNED))
    return boto3.client(service, endpoint_url=endpoint, region_name=REGION,
                        aws_access_key_id=key, aws_secret_access_key=secret, config=config)


def expect_error(code, call, message=None):
    with pytest.raises(botocore.exceptions.ClientError) as info:
        call()
    error = info.value.response["Error"]
    assert error["Code"] == code, info.value.response
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    if message is not None:
        assert error["Message"] == message
    return error["Message"]


def denied(action, resource):
    return (f"User: {STREAM_ARN} is not authorized to perform: {action} on resource: "
            f"{resource} because no identity-based policy allows the {action} action")


@pytest.fixture
def server(spawn_server, tmp_path):
    auth = {
        "AccountId": ACCOUNT,
        "Principals": [
            {"AccessKeyId": ACCESS_KEY, "SecretAccessKey": SECRET_KEY, "User": "admin",
             "Policies": [{"Version": "2012-10-17", "Statement": [
                 {"Effect": "Allow", "Action": "dynamodb:*", "Resource": "*"}]}]},
            {"AccessKeyId": STREAM_KEY, "SecretAccessKey": STREAM_SECRET,
             "Role": "cruddur-messaging-stream-role", "SessionName": "cruddur-messaging-stream",
             "Policies": [json.loads(SEED_INLINE_POLICY)]},
        ],
    }
    path = tmp_path / "auth.json"
    path.write_text(json.dumps(auth, indent=2))
    srv = spawn_server("--in-memory", "--auth", str(path))
    admin = client(srv.endpoint, ACCESS_KEY, SECRET_KEY)
    admin.create_table(
        TableName=TABLE,
        AttributeDefinitions=[{"AttributeName": "message_group_uuid", "AttributeType": "S"},
                              {"AttributeName": "pk", "AttributeType": "S"},
                              {"AttributeName": "sk", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"},
                   {"AttributeName": "sk", "KeyType": "RANGE"}],
        BillingMode="PAY_PER_REQUEST",
        GlobalSecondaryIndexes=[{
            "IndexName": INDEX,
            "KeySchema": [{"AttributeName": "message_group_uuid", "KeyType": "HASH"},
                          {"AttributeName": "sk", "KeyType": "RANGE"}],
            "Projection": {"ProjectionType": "ALL"}}],
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"})
    admin.create_table(
        TableName=OTHER, AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}], BillingMode="PAY_PER_REQUEST")
    deadline = time.monotonic() + 10
    for name in (TABLE, OTHER):
        while admin.describe_table(TableName=name)["Table"]["TableStatus"] != "ACTIVE":
            assert time.monotonic() < deadline
            time.sleep(0.05)
    return srv


def test_seed_inline_policy_allows_the_stream_handler_and_nothing_else(server):
    table_arn = f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/{TABLE}"
    stream = client(server.endpoint, STREAM_KEY, STREAM_SECRET)
    stream.put_item(TableName=TABLE, Item={"pk": S("GRP#u1"), "sk": S("2026-01-01"),
                                           "message_group_uuid": S("g1")})
    got = stream.query(TableName=TABLE, IndexName=INDEX,
                       KeyConditionExpression="message_group_uuid = :g",
                       ExpressionAttributeValues={":g": S("g1")})
    assert got["Count"] == 1
    got = stream.query(TableName=TABLE, KeyConditionExpression="pk = :p",
                       ExpressionAttributeValues={":p": S("GRP#u1")})
    assert got["Count"] == 1
    stream.delete_item(TableName=TABLE, Key={"pk": S("GRP#u1"), "sk": S("2026-01-01")})

    expect_error("AccessDeniedException", lambda: stream.scan(TableName=TABLE),
                 denied("dynamodb:Scan", table_arn))
    expect_error("AccessDeniedException",
                 lambda: stream.put_item(TableName=OTHER, Item={"id": S("x")}),
                 denied("dynamodb:PutItem", f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/{OTHER}"))
    expect_error("AccessDeniedException",
                 lambda: stream.get_item(TableName=TABLE,
                                         Key={"pk": S("GRP#u1"), "sk": S("2026-01-01")}),
                 denied("dynamodb:GetItem", table_arn))
    streams = client(server.endpoint, STREAM_KEY, STREAM_SECRET, service="dynamodbstreams")
    expect_error("AccessDeniedException", lambda: streams.list_streams(),
                 denied("dynamodb:ListStreams", "*"))
    admin = client(server.endpoint, ACCESS_KEY, SECRET_KEY)
    assert admin.scan(TableName=OTHER)["Count"] == 0
    assert admin.describe_table(TableName=TABLE)["Table"]["TableArn"] == table_arn
    admin_streams = client(server.endpoint, ACCESS_KEY, SECRET_KEY, service="dynamodbstreams")
    assert len(admin_streams.list_streams(TableName=TABLE)["Streams"]) == 1


def test_wrong_credentials_with_boto3(server):
    expect_error("UnrecognizedClientException",
                 lambda: client(server.endpoint, "AKIANOSUCHKEY", "x").list_tables(),
                 "The security token included in the request is invalid.")
    expect_error("InvalidSignatureException",
                 lambda: client(server.endpoint, ACCESS_KEY, "wrong-secret").list_tables(),
                 "The request signature we calculated does not match the signature you "
                 "provided. Check your AWS Secret Access Key and signing method. Consult the "
                 "service documentation for details.")
    expect_error("MissingAuthenticationTokenException",
                 lambda: client(server.endpoint, ACCESS_KEY, SECRET_KEY,
                                unsigned=True).list_tables())
    expect_error("InvalidSignatureException",
                 lambda: client(server.endpoint, STREAM_KEY, "wrong",
                                service="dynamodbstreams").list_streams())


def run_cli(server, key, secret, *args):
    env = dict(os.environ, AWS_ACCESS_KEY_ID=key, AWS_SECRET_ACCESS_KEY=secret,
               AWS_DEFAULT_REGION=REGION, AWS_PAGER="", AWS_MAX_ATTEMPTS="1")
    env.pop("AWS_SESSION_TOKEN", None)
    env.pop("AWS_PROFILE", None)
    return subprocess.run([AWS_CLI, "dynamodb", *args, "--endpoint-url", server.endpoint,
                           "--output", "json"], capture_output=True, text=True, env=env,
                          timeout=60)


def test_aws_cli_with_right_and_wrong_credentials(server):
    ok = run_cli(server, ACCESS_KEY, SECRET_KEY, "list-tables")
    assert ok.returncode == 0, ok.stderr
    assert json.loads(ok.stdout)["TableNames"] == [TABLE, OTHER]

    bad = run_cli(server, ACCESS_KEY, "wrong-secret", "list-tables")
    assert bad.returncode != 0
    assert "InvalidSignatureException" in bad.stderr

    unknown = run_cli(server, "AKIANOSUCHKEY", "x", "list-tables")
    assert unknown.returncode != 0
    assert "UnrecognizedClientException" in unknown.stderr

    scan = run_cli(server, STREAM_KEY, STREAM_SECRET, "scan", "--table-name", TABLE)
    assert scan.returncode != 0
    assert "AccessDeniedException" in scan.stderr
    assert "is not authorized to perform: dynamodb:Scan" in scan.stderr

    put = run_cli(server, STREAM_KEY, STREAM_SECRET, "put-item", "--table-name", TABLE,
                  "--item", json.dumps({"pk": S("MSG#1"), "sk": S("1")}))
    assert put.returncode == 0, put.stderr
