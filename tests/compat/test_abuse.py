"""Abuse: what a hostile or broken client can do to the server over the wire.

Each test starts its own `cruddur dynamodb` and checks the two promises that matter when a
client misbehaves: other clients are still served, and the server's memory stays bounded
(resident set size read from /proc before and after). Nothing here measures speed; waits are
generous upper bounds so a loaded machine does not make the tests flaky.
"""

import concurrent.futures
import json
import resource
import socket
import threading

import botocore.exceptions
import pytest

pytestmark = pytest.mark.own_server

# Generous: an uninstrumented build grows by a few MB here, an ASan build by more.
RSS_GROWTH_LIMIT_KB = 300 * 1024


def rss_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS in /proc status")


def connect(port, timeout=10.0):
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


def read_response(sock, limit=1 << 20):
    """Bytes until the server closes the connection (or `limit`)."""
    chunks = []
    total = 0
    while total < limit:
        try:
            data = sock.recv(65536)
        except (ConnectionResetError, socket.timeout):
            break
        if not data:
            break
        chunks.append(data)
        total += len(data)
    return b"".join(chunks)


def status_and_type(raw):
    head, _, body = raw.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    return status, json.loads(body)["__type"].split("#")[-1]


def still_serving(server):
    """A well-behaved client gets its answer while the abuse goes on."""
    client = server.client()
    for _ in range(3):
        assert "TableNames" in client.list_tables()


def raise_fd_limit(want):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(want, hard), hard))
    return min(want, hard)


def test_slowloris_clients_are_cut_off_and_others_served(spawn_server):
    server = spawn_server("--in-memory")
    port = server.port
    slow = []
    for _ in range(200):
        s = connect(port)
        s.sendall(b"POST / HTTP/1.1\r\nHost: x\r\n")
        slow.append(s)
    stop = threading.Event()

    def trickle():
        # One header byte per socket every half second: never finishing the headers.
        while not stop.is_set():
            for s in slow:
                try:
                    s.sendall(b"X")
                except OSError:
                    pass
            stop.wait(0.5)

    t = threading.Thread(target=trickle, daemon=True)
    t.start()
    try:
        still_serving(server)
    finally:
        stop.set()
        t.join()
    # The header deadline (10 s from a request's first byte) ends every one of them with a
    # 408 and a close; give it ample time on a loaded machine.
    cut = 0
    for s in slow:
        s.settimeout(30)
        raw = read_response(s)
        if raw:
            assert status_and_type(raw) == (408, "ValidationException")
        cut += 1
        s.close()
    assert cut == len(slow)
    still_serving(server)


def test_thousands_of_idle_connections(spawn_server):
    server = spawn_server("--in-memory")
    want = raise_fd_limit(4096)
    count = min(3000, want - 200)
    before = rss_kb(server.proc.pid)
    idle = []
    try:
        for _ in range(count):
            try:
                idle.append(connect(server.port))
            except OSError:
                break  # the server (or this process) is out of descriptors: it must cope
        assert len(idle) >= 900
        still_serving(server)
        grown = rss_kb(server.proc.pid) - before
        assert grown < RSS_GROWTH_LIMIT_KB, f"RSS grew by {grown} kB for {len(idle)} connections"
    finally:
        for s in idle:
            s.close()
    still_serving(server)


def test_oversized_headers_and_body_are_refused(spawn_server):
    server = spawn_server("--in-memory")
    s = connect(server.port)
    s.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * (128 << 10) + b"\r\n\r\n")
    assert status_and_type(read_response(s)) == (431, "ValidationException")
    s.close()

    s = connect(server.port)
    size = (16 << 20) + 1
    s.sendall(
        b"POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-amz-json-1.0\r\n"
        b"X-Amz-Target: DynamoDB_20120810.PutItem\r\nContent-Length: "
        + str(size).encode()
        + b"\r\n\r\n"
    )
    # The refusal comes from the declared length, before the body is read.
    assert status_and_type(read_response(s)) == (413, "ValidationException")
    s.close()
    still_serving(server)


def signed_post(server, target, body):
    """A raw POST with just enough of a SigV4 header for an auth-off server."""
    head = (
        "POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-amz-json-1.0\r\n"
        f"X-Amz-Target: DynamoDB_20120810.{target}\r\nX-Amz-Date: 20260101T000000Z\r\n"
        "Authorization: AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/dynamodb/"
        "aws4_request, SignedHeaders=host;x-amz-date, Signature=00\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    )
    s = connect(server.port, timeout=30)
    s.sendall(head.encode() + body)
    raw = read_response(s)
    s.close()
    return status_and_type(raw)


def test_deeply_nested_json_is_a_clear_error(spawn_server):
    server = spawn_server("--in-memory")
    before = rss_kb(server.proc.pid)
    # Nesting that would overflow a recursive parser's stack.
    for body in (b"[" * 200000, b'{"a":' * 100000 + b"1" + b"}" * 100000):
        assert signed_post(server, "ListTables", body) == (400, "SerializationException")
    # Deep but well-formed attribute values inside an otherwise valid PutItem.
    value = '{"L":[' * 5000 + '{"S":"x"}' + "]}" * 5000
    body = ('{"TableName":"t","Item":{"pk":{"S":"a"},"v":' + value + "}}").encode()
    status, kind = signed_post(server, "PutItem", body)
    assert status == 400 and kind in ("SerializationException", "ValidationException")
    assert rss_kb(server.proc.pid) - before < RSS_GROWTH_LIMIT_KB
    still_serving(server)


def test_garbage_bytes_get_a_400_and_a_close(spawn_server):
    server = spawn_server("--in-memory")
    for junk in (b"\x00\xff" * 512, b"GET\r\n\r\n", b"POST / HTTP/9.9\r\n\r\n"):
        s = connect(server.port)
        s.sendall(junk)
        raw = read_response(s)
        s.close()
        assert raw.startswith(b"HTTP/1.1 400"), raw[:80]
    still_serving(server)


def test_create_table_flood(spawn_server):
    server = spawn_server("--in-memory")
    before = rss_kb(server.proc.pid)
    names = [f"flood-{i:04d}" for i in range(400)]

    def create(name):
        client = server.client()
        client.create_table(
            TableName=name,
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        return name

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        created = list(pool.map(create, names))
        still_serving(server)
    assert created == names
    client = server.client()
    listed = []
    kwargs = {}
    while True:
        page = client.list_tables(**kwargs)
        listed += page["TableNames"]
        if "LastEvaluatedTableName" not in page:
            break
        kwargs = {"ExclusiveStartTableName": page["LastEvaluatedTableName"]}
    assert sorted(listed) == names
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda n: server.client().delete_table(TableName=n), names))
    assert server.client().list_tables()["TableNames"] == []
    grown = rss_kb(server.proc.pid) - before
    assert grown < RSS_GROWTH_LIMIT_KB, f"RSS grew by {grown} kB over 400 tables"


def test_abrupt_disconnects_mid_request(spawn_server):
    server = spawn_server("--in-memory")
    client = server.client()
    client.create_table(
        TableName="abuse",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    for i in range(300):
        s = connect(server.port)
        body = b'{"TableName": "abuse", "Item": {"pk": {"S": "%d"}}}' % i
        # Headers promise more body than is sent, then the client vanishes (an RST half the
        # time): the request never completed, so nothing may be written.
        s.sendall(
            b"POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-amz-json-1.0\r\n"
            b"X-Amz-Target: DynamoDB_20120810.PutItem\r\nContent-Length: 1000\r\n\r\n" + body
        )
        if i % 2:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        s.close()
    still_serving(server)
    assert client.scan(TableName="abuse")["Count"] == 0
    assert server.proc.poll() is None
