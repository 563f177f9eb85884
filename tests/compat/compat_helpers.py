"""Small helpers shared by the compat tests (imported by test modules and conftest)."""

import contextlib
import json
import time
import urllib.error
import urllib.request
import uuid

import botocore.exceptions
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

TABLE_PREFIX = "compat-"
REGION = "us-east-1"
ACCESS_KEY = "compatkey"
SECRET_KEY = "compatsecret"


# True when the session runs with --peer against AWS's DynamoDB Local (set by conftest's
# pytest_configure). Selects which side of a Texts pair raises_client_error compares.
PEER_IS_LOCAL = False


class Texts:
    """An error text that real AWS DynamoDB and DynamoDB Local word differently.

    `aws` is what live AWS returns (our server claims AWS fidelity, so it is compared when the
    suite runs against our server); `local` is DynamoDB Local's text, compared with --peer."""

    def __init__(self, aws, local):
        self.aws = aws
        self.local = local

    def expected(self):
        return self.local if PEER_IS_LOCAL else self.aws


@contextlib.contextmanager
def raises_client_error(code, message=None, match=None):
    """Asserts the block raises botocore ClientError `code` (exact), optionally its exact
    message or a substring `match`. `message` and `match` are plain strings when AWS and
    DynamoDB Local agree, or Texts(aws=..., local=...) when they differ. Yields a holder whose
    .error is the ClientError."""

    class Holder:
        error = None

    holder = Holder()
    if isinstance(message, Texts):
        message = message.expected()
    if isinstance(match, Texts):
        match = match.expected()
    try:
        yield holder
    except botocore.exceptions.ClientError as e:
        holder.error = e
        got = e.response["Error"]["Code"]
        got_msg = e.response["Error"].get("Message", "")
        assert got == code, f"expected {code}, got {got}: {got_msg}"
        if message is not None:
            assert got_msg == message, f"message: {got_msg!r} != {message!r}"
        if match is not None:
            assert match in got_msg, f"message {got_msg!r} lacks {match!r}"
    else:
        raise AssertionError(f"expected ClientError {code}, nothing was raised")


def unique_name(stem="t"):
    return f"{TABLE_PREFIX}{stem}-{uuid.uuid4().hex[:12]}"


def delete_table_quietly(client, name):
    try:
        client.delete_table(TableName=name)
    except botocore.exceptions.ClientError as e:
        if e.response["Error"]["Code"] != "ResourceNotFoundException":
            raise


def wait_active(client, name, timeout=10.0):
    deadline = time.monotonic() + timeout
    while True:
        desc = client.describe_table(TableName=name)["Table"]
        indexes_ready = all(
            g.get("IndexStatus", "ACTIVE") == "ACTIVE"
            for g in desc.get("GlobalSecondaryIndexes", [])
        )
        if desc["TableStatus"] == "ACTIVE" and indexes_ready:
            return desc
        if time.monotonic() > deadline:
            raise AssertionError(f"table {name} not ACTIVE after {timeout}s: {desc}")
        time.sleep(0.05)


def call_raw(endpoint, op, payload):
    """Signed JSON 1.0 call, for members this botocore does not model (it predates
    ReturnValuesOnConditionCheckFailure on single writes and DeletionProtectionEnabled).
    Returns (status, document)."""
    body = json.dumps(payload).encode()
    headers = {"Content-Type": "application/x-amz-json-1.0",
               "X-Amz-Target": "DynamoDB_20120810." + op}
    req = AWSRequest(method="POST", url=endpoint + "/", data=body, headers=headers)
    SigV4Auth(Credentials(ACCESS_KEY, SECRET_KEY), "dynamodb", REGION).add_auth(req)
    http_req = urllib.request.Request(endpoint + "/", data=body, method="POST",
                                      headers=dict(req.headers.items()))
    try:
        with urllib.request.urlopen(http_req, timeout=60) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())
