"""Black-box DynamoDB compatibility suite for `cruddur dynamodb`.

Every test talks to a DynamoDB endpoint only through the wire protocol (boto3, the AWS CLI
or raw HTTP), so the same suite runs against any DynamoDB implementation.

How to run:

    # Our own server: starts `cruddur dynamodb --in-memory` on a free port for the session.
    # The binary is $CRUDDUR_BIN, default <repo>/build/src/cli/cruddur.
    /usr/bin/python3 -m pytest tests/compat

    # Another implementation (e.g. AWS's DynamoDB Local on port 8001):
    /usr/bin/python3 -m pytest tests/compat --endpoint-url http://127.0.0.1:8001 --peer

`--peer` says the endpoint is not our server: tests marked `aws_only` (behaviour where
DynamoDB Local is known to differ from real AWS DynamoDB; each says why) are skipped, and
so are tests that start and stop our own server process (marked `own_server`), and error
texts stated as Texts(aws=..., local=...) are compared with their DynamoDB Local side. Without
`--peer`, `--endpoint-url` points the suite at an already running server of ours; the
process tests are skipped then too, since they need the binary.

CRUDDUR_START_TIMEOUT (seconds, default 10) raises the start-up wait for slow builds.

Tests create uniquely named tables through the `table` factory and delete them afterwards,
so they depend neither on each other nor on what else lives in the endpoint.
"""

import contextlib
import json
import os
import pathlib
import signal
import socket
import subprocess
import time

import boto3
import botocore.config
import botocore.exceptions
import pytest

import compat_helpers
from compat_helpers import (
    ACCESS_KEY,
    REGION,
    SECRET_KEY,
    delete_table_quietly,
    unique_name,
    wait_active,
)

REPO_ROOT = pathlib.Path(__file__).resolve().parents[2]
DEFAULT_BIN = REPO_ROOT / "build" / "src" / "cli" / "cruddur"
AWS_CLI = "/usr/bin/aws"


def pytest_addoption(parser):
    parser.addoption(
        "--endpoint-url",
        default=None,
        help="run against this DynamoDB endpoint instead of starting our server",
    )
    parser.addoption(
        "--peer",
        action="store_true",
        default=False,
        help="the endpoint is another implementation: skip aws_only and own_server tests",
    )


def pytest_configure(config):
    # Error texts stated as Texts(aws=..., local=...) compare DynamoDB Local's side with --peer.
    compat_helpers.PEER_IS_LOCAL = config.getoption("--peer")
    config.addinivalue_line(
        "markers",
        "aws_only: real AWS behaviour that DynamoDB Local does not follow; skipped with --peer",
    )
    config.addinivalue_line(
        "markers",
        "own_server: starts our own cruddur process; skipped with --endpoint-url or --peer",
    )


def pytest_collection_modifyitems(config, items):
    peer = config.getoption("--peer")
    external = config.getoption("--endpoint-url") is not None
    skip_aws = pytest.mark.skip(reason="aws_only: the --peer endpoint differs from AWS here")
    skip_own = pytest.mark.skip(reason="own_server: needs our binary, not an external endpoint")
    for item in items:
        if peer and "aws_only" in item.keywords:
            item.add_marker(skip_aws)
        if (peer or external) and "own_server" in item.keywords:
            item.add_marker(skip_own)


# ---------------------------------------------------------------------------------------------
# Our server process


def cruddur_bin():
    return pathlib.Path(os.environ.get("CRUDDUR_BIN", str(DEFAULT_BIN)))


def free_port():
    with contextlib.closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def make_client(endpoint, service="dynamodb", validate=True):
    """A client of `endpoint`; with validate=False it sends what it is given (no client-side
    parameter validation), so the server's own validation is what a test sees."""
    return boto3.client(
        service,
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=SECRET_KEY,
        config=botocore.config.Config(
            retries={"max_attempts": 1}, connect_timeout=5, read_timeout=60,
            parameter_validation=validate,
        ),
    )


class ServerProcess:
    """One `cruddur dynamodb` process on a free loopback port."""

    def __init__(self, extra_args, log_path):
        self.port = free_port()
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self.args = [
            str(cruddur_bin()),
            "dynamodb",
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--region",
            REGION,
            *extra_args,
        ]
        self.log_path = pathlib.Path(log_path)
        self.proc = None
        self.log = None

    def start(self, timeout=None):
        # 10 s by default; CRUDDUR_START_TIMEOUT raises it for slow (e.g. sanitizer) builds.
        timeout = timeout or float(os.environ.get("CRUDDUR_START_TIMEOUT", "10"))
        binary = cruddur_bin()
        if not binary.exists():
            pytest.fail(f"cruddur binary not found at {binary} (set CRUDDUR_BIN)")
        self.log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(self.args, stdout=self.log, stderr=subprocess.STDOUT)
        client = make_client(self.endpoint)
        deadline = time.monotonic() + timeout
        last_error = None
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                pytest.fail(
                    f"cruddur exited with {self.proc.returncode} during start-up:\n"
                    + self.log_path.read_text(errors="replace")[-4000:]
                )
            try:
                client.list_tables()
                return self
            except (botocore.exceptions.EndpointConnectionError,
                    botocore.exceptions.ConnectionClosedError,
                    botocore.exceptions.ReadTimeoutError) as e:
                last_error = e
                time.sleep(0.05)
        self.kill()
        pytest.fail(f"cruddur did not answer ListTables within {timeout}s: {last_error}")

    def client(self):
        return make_client(self.endpoint)

    def terminate(self, timeout=15.0, sig=signal.SIGTERM):
        """Sends `sig` (SIGTERM) and waits; returns the exit code."""
        self.proc.send_signal(sig)
        try:
            code = self.proc.wait(timeout=timeout)
        finally:
            self.log.close()
        return code

    def kill(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(timeout=15)
        if self.log and not self.log.closed:
            self.log.close()

    def output(self):
        return self.log_path.read_text(errors="replace")


@pytest.fixture
def spawn_server(tmp_path_factory):
    """spawn_server(*args) starts another `cruddur dynamodb` (on a free port) with extra
    arguments and returns its ServerProcess; any still running after the test are killed."""
    started = []

    def start(*extra_args):
        log = tmp_path_factory.mktemp("cruddur-log") / "server.log"
        server = ServerProcess(list(extra_args), log)
        started.append(server)
        return server.start()

    yield start
    for server in started:
        server.kill()


@pytest.fixture(scope="session")
def endpoint(request, tmp_path_factory):
    url = request.config.getoption("--endpoint-url")
    if url:
        yield url.rstrip("/")
        return
    log = tmp_path_factory.mktemp("cruddur-main") / "server.log"
    server = ServerProcess(["--in-memory"], log).start()
    yield server.endpoint
    code = server.terminate()
    assert code == 0, f"cruddur exited with {code} on SIGTERM:\n{server.output()[-4000:]}"


@pytest.fixture(scope="session")
def is_peer(request):
    return request.config.getoption("--peer")


@pytest.fixture(scope="session")
def own_fresh_server(request):
    """True when the endpoint is our own server started by this session (empty at start)."""
    return request.config.getoption("--endpoint-url") is None


@pytest.fixture(scope="session")
def ddb(endpoint):
    return make_client(endpoint)


@pytest.fixture(scope="session")
def unchecked(endpoint):
    """A client without client-side parameter validation."""
    return make_client(endpoint, validate=False)


@pytest.fixture(scope="session")
def ddb_resource(endpoint):
    return boto3.resource(
        "dynamodb",
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=SECRET_KEY,
        config=botocore.config.Config(retries={"max_attempts": 1}),
    )


@pytest.fixture
def table(ddb):
    """Factory: table(hash=('pk','S'), range=('sk','S'), gsis=[...], **create_kwargs) -> name.

    Creates a uniquely named PAY_PER_REQUEST table (unless the caller passes BillingMode or
    ProvisionedThroughput) and deletes it after the test.
    """
    created = []

    def make(hash=("pk", "S"), range=("sk", "S"), gsis=(), stem="t", **kwargs):
        name = unique_name(stem)
        attrs = {}
        key_schema = [{"AttributeName": hash[0], "KeyType": "HASH"}]
        attrs[hash[0]] = hash[1]
        if range:
            key_schema.append({"AttributeName": range[0], "KeyType": "RANGE"})
            attrs[range[0]] = range[1]
        gsi_specs = []
        for gsi in gsis:
            gname, ghash, grange = gsi[0], gsi[1], gsi[2] if len(gsi) > 2 else None
            projection = gsi[3] if len(gsi) > 3 else {"ProjectionType": "ALL"}
            gks = [{"AttributeName": ghash[0], "KeyType": "HASH"}]
            attrs[ghash[0]] = ghash[1]
            if grange:
                gks.append({"AttributeName": grange[0], "KeyType": "RANGE"})
                attrs[grange[0]] = grange[1]
            spec = {"IndexName": gname, "KeySchema": gks, "Projection": projection}
            if "ProvisionedThroughput" in kwargs:
                spec["ProvisionedThroughput"] = {"ReadCapacityUnits": 5, "WriteCapacityUnits": 5}
            gsi_specs.append(spec)
        params = {
            "TableName": name,
            "KeySchema": key_schema,
            "AttributeDefinitions": [
                {"AttributeName": k, "AttributeType": v} for k, v in attrs.items()
            ],
        }
        if gsi_specs:
            params["GlobalSecondaryIndexes"] = gsi_specs
        if "ProvisionedThroughput" not in kwargs and "BillingMode" not in kwargs:
            params["BillingMode"] = "PAY_PER_REQUEST"
        params.update(kwargs)
        ddb.create_table(**params)
        created.append(name)
        wait_active(ddb, name)
        return name

    yield make
    for name in created:
        delete_table_quietly(ddb, name)


@pytest.fixture
def table_names(ddb):
    """Registers names of tables a test creates itself, deleting them afterwards."""
    names = []
    yield names
    for name in names:
        delete_table_quietly(ddb, name)


class AwsCli:
    """Runs /usr/bin/aws against the endpoint with dummy credentials."""

    def __init__(self, endpoint, tmp_path):
        self.endpoint = endpoint
        self.env = {
            "PATH": "/usr/bin:/bin",
            "HOME": str(tmp_path),
            "AWS_ACCESS_KEY_ID": ACCESS_KEY,
            "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
            "AWS_DEFAULT_REGION": REGION,
            "AWS_PAGER": "",
            "AWS_MAX_ATTEMPTS": "1",
            "AWS_CONFIG_FILE": str(tmp_path / "aws-config-absent"),
            "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "aws-credentials-absent"),
        }

    def run(self, *args, check=True):
        cmd = [AWS_CLI, *args, "--endpoint-url", self.endpoint]
        proc = subprocess.run(cmd, env=self.env, capture_output=True, text=True, timeout=60)
        if check and proc.returncode != 0:
            raise AssertionError(
                f"{' '.join(cmd)} exited {proc.returncode}\nstdout:{proc.stdout}\n"
                f"stderr:{proc.stderr}"
            )
        return proc

    def json(self, *args):
        proc = self.run(*args, "--output", "json")
        return json.loads(proc.stdout) if proc.stdout.strip() else None


@pytest.fixture(scope="session")
def aws_cli(endpoint, tmp_path_factory):
    return AwsCli(endpoint, tmp_path_factory.mktemp("awscli-home"))
