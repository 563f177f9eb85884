"""Starts one server on a free loopback port and times it to its first ListTables answer.

    start_server.py --log FILE [--timeout 60] -- CMD ARG... ({port} in an ARG is replaced)

Picks a free port on 127.0.0.1, starts CMD in its own session (so its process group id is
its pid) with stdout/stderr to FILE, and polls POST / ListTables over one HTTP/1.1
request per connection attempt until a 200 arrives. The clock starts just before the
process is spawned, so start-up includes exec, runtime start (JVM, node) and binding.
Polling is a tight loop (1 ms sleep after a refused connection), so the measured time is
at most about a millisecond late.

Prints "PID PORT MS" and exits 0 with the server left running for the caller to stop.
On timeout or early exit it kills the process group it started and exits 1.
"""

import argparse
import http.client
import os
import signal
import socket
import subprocess
import sys
import time

HEADERS = {
    "Content-Type": "application/x-amz-json-1.0",
    "X-Amz-Target": "DynamoDB_20120810.ListTables",
}


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


SIGNATURE = "5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7"


def auth_headers():
    amz_date = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    scope = f"{amz_date[:8]}/us-east-1/dynamodb/aws4_request"
    return dict(HEADERS, **{
        "X-Amz-Date": amz_date,
        "Authorization": f"AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/{scope}, "
                         "SignedHeaders=content-type;host;x-amz-date;x-amz-target, "
                         "Signature=" + SIGNATURE,
    })


def list_tables_ok(port, headers):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
    try:
        conn.request("POST", "/", body=b"{}", headers=headers)
        resp = conn.getresponse()
        resp.read()
        return resp.status == 200
    except (ConnectionError, OSError, http.client.HTTPException):
        return False
    finally:
        conn.close()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--log", required=True)
    parser.add_argument("--timeout", type=float, default=60.0)
    parser.add_argument("cmd", nargs=argparse.REMAINDER)
    args = parser.parse_args()
    cmd = args.cmd[1:] if args.cmd[:1] == ["--"] else args.cmd
    if not cmd:
        parser.error("missing command")

    port = free_port()
    cmd = [a.replace("{port}", str(port)) for a in cmd]
    headers = auth_headers()
    log = open(args.log, "wb")
    start = time.monotonic()
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                            start_new_session=True)
    deadline = start + args.timeout
    while True:
        if list_tables_ok(port, headers):
            elapsed_ms = (time.monotonic() - start) * 1000.0
            print(f"{proc.pid} {port} {elapsed_ms:.1f}")
            return 0
        if proc.poll() is not None:
            print(f"start_server.py: {cmd[0]} exited with {proc.returncode} before answering "
                  f"ListTables (log: {args.log})", file=sys.stderr)
            return 1
        if time.monotonic() > deadline:
            print(f"start_server.py: no ListTables answer within {args.timeout:.0f} s "
                  f"(log: {args.log})", file=sys.stderr)
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            return 1
        time.sleep(0.001)


if __name__ == "__main__":
    sys.exit(main())
