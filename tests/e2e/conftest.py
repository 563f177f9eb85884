"""Fixtures for the end-to-end suite: a real `cruddur serve` process on free ports."""

import os
import pathlib
import re
import signal
import socket
import subprocess
import time

import pytest
import requests

REPO = pathlib.Path(__file__).resolve().parents[2]
DEFAULT_BIN = REPO / "build" / "src" / "cli" / "cruddur"


def cruddur_bin():
    return pathlib.Path(os.environ.get("CRUDDUR_BIN", str(DEFAULT_BIN)))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Serve:
    """One `cruddur serve --demo` with its own data folder."""

    def __init__(self, data_dir, extra=()):
        self.data_dir = pathlib.Path(data_dir)
        self.api_port = free_port()
        self.ddb_port = free_port()
        self.api = f"http://127.0.0.1:{self.api_port}"
        self.engine = f"http://127.0.0.1:{self.ddb_port}"
        self.log_path = self.data_dir.parent / f"serve-{self.api_port}.log"
        self.args = [
            str(cruddur_bin()), "serve", "--demo", "--data-dir", str(self.data_dir),
            "--api-port", str(self.api_port), "--dynamodb-port", str(self.ddb_port), *extra,
        ]
        self.proc = None

    def start(self, timeout=30):
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "CONNECTION_URL"))}
        self.log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(self.args, stdout=self.log, stderr=subprocess.STDOUT, env=env)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                pytest.fail("cruddur serve exited:\n" + self.output())
            if "curl" in self.output():
                return self
            time.sleep(0.05)
        pytest.fail("cruddur serve did not print its curl line:\n" + self.output())

    def output(self):
        return self.log_path.read_text(errors="replace")

    def curl_line(self):
        return re.search(r"^\s*(curl .*)$", self.output(), re.M).group(1)

    def token(self, handle="andrewbrown"):
        out = subprocess.run(
            [str(cruddur_bin()), "auth", "token", handle, "--data-dir", str(self.data_dir)],
            capture_output=True, text=True, timeout=30,
        )
        assert out.returncode == 0, out.stderr
        return out.stdout.strip()

    def get(self, path, token=None, **kwargs):
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return requests.get(self.api + path, headers=headers, timeout=30, **kwargs)

    def post(self, path, body, token=None, raw=None):
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        headers["Content-Type"] = "application/json"
        data = raw if raw is not None else __import__("json").dumps(body)
        return requests.post(self.api + path, data=data, headers=headers, timeout=30)

    def stop(self, sig=signal.SIGTERM):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode


@pytest.fixture
def serve(tmp_path):
    started = []

    def start(data_dir=None, extra=()):
        s = Serve(data_dir or tmp_path / f"data{len(started)}", extra)
        started.append(s)
        return s.start()

    yield start
    for s in started:
        s.stop(signal.SIGKILL)
