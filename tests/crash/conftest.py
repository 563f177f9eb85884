"""Crash tests for `cruddur dynamodb`: acknowledged writes survive SIGKILL.

    /usr/bin/python3 -m pytest tests/crash

The binary is $CRUDDUR_BIN, default <repo>/build/src/cli/cruddur. CRUDDUR_CRASH_ROUNDS (default
10) sets the kill/restart rounds per durability mode; raise it for a local soak.
"""

import contextlib
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

REPO_ROOT = pathlib.Path(__file__).resolve().parents[2]
DEFAULT_BIN = REPO_ROOT / "build" / "src" / "cli" / "cruddur"
REGION = "us-east-1"


def cruddur_bin():
    return pathlib.Path(os.environ.get("CRUDDUR_BIN", str(DEFAULT_BIN)))


def free_port():
    with contextlib.closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


_SESSION = boto3.session.Session()


def make_client(endpoint, service="dynamodb", read_timeout=10):
    # No retries: a request either got its answer or its outcome is unknown.
    return _SESSION.client(
        service,
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id="crash",
        aws_secret_access_key="crash",
        config=botocore.config.Config(
            retries={"max_attempts": 1, "mode": "standard"},
            connect_timeout=2,
            read_timeout=read_timeout,
            max_pool_connections=4,
        ),
    )


class Server:
    """One `cruddur dynamodb --data-dir DIR` process on a free loopback port."""

    def __init__(self, data_dir, extra_args, log_path):
        self.port = free_port()
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self.args = [
            str(cruddur_bin()), "dynamodb", "--host", "127.0.0.1", "--port", str(self.port),
            "--region", REGION, "--data-dir", str(data_dir), *extra_args,
        ]
        self.log_path = log_path
        self.proc = None

    def start(self, timeout=20.0):
        binary = cruddur_bin()
        if not binary.exists():
            pytest.fail(f"cruddur binary not found at {binary} (set CRUDDUR_BIN)")
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(self.args, stdout=log, stderr=subprocess.STDOUT)
        client = make_client(self.endpoint)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                pytest.fail(f"cruddur exited with {self.proc.returncode} during start-up:\n"
                            + self.log_path.read_text(errors="replace")[-4000:])
            try:
                client.list_tables()
                return client
            except (botocore.exceptions.EndpointConnectionError,
                    botocore.exceptions.ConnectionClosedError,
                    botocore.exceptions.ReadTimeoutError):
                time.sleep(0.02)
        self.kill()
        pytest.fail(f"cruddur did not answer within {timeout}s")

    def kill(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(timeout=15)


@pytest.fixture
def servers():
    """Every Server appended here is killed after the test."""
    started = []
    yield started
    for server in started:
        server.kill()
