"""The DynamoDB JSON 1.0 wire protocol, spoken raw over HTTP/1.1.

Requests are signed with SigV4 (botocore's signer) unless a test is about missing auth, so the
suite works against servers that verify signatures.
"""

import http.client
import json
import socket
import urllib.parse
import zlib

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from compat_helpers import ACCESS_KEY, REGION, SECRET_KEY

TARGET = "DynamoDB_20120810."
JSON_10 = "application/x-amz-json-1.0"


class Raw:
    def __init__(self, endpoint):
        parts = urllib.parse.urlsplit(endpoint)
        self.endpoint = endpoint
        self.host = parts.hostname
        self.port = parts.port or 80

    def headers(self, target, body, content_type=JSON_10, sign=True):
        headers = {"Content-Type": content_type}
        if target is not None:
            headers["X-Amz-Target"] = target
        if sign:
            req = AWSRequest(method="POST", url=self.endpoint + "/", data=body, headers=headers)
            SigV4Auth(Credentials(ACCESS_KEY, SECRET_KEY), "dynamodb", REGION).add_auth(req)
            headers = dict(req.headers.items())
        return headers

    def post(self, target, body, **kw):
        conn = http.client.HTTPConnection(self.host, self.port, timeout=60)
        try:
            conn.request("POST", "/", body=body, headers=self.headers(target, body, **kw))
            resp = conn.getresponse()
            data = resp.read()
            return resp.status, {k.lower(): v for k, v in resp.getheaders()}, data
        finally:
            conn.close()

    def call(self, op, payload):
        return self.post(TARGET + op, json.dumps(payload).encode())


@pytest.fixture
def raw(endpoint):
    return Raw(endpoint)


def error_type(data):
    """The error name after the '#' of __type, as SDKs read it."""
    doc = json.loads(data)
    return doc["__type"].rsplit("#", 1)[-1], doc


def assert_still_serves(raw):
    status, headers, data = raw.call("ListTables", {"Limit": 1})
    assert status == 200, data
    assert "TableNames" in json.loads(data)


def test_success_headers_and_crc32(raw):
    status, headers, data = raw.call("ListTables", {"Limit": 5})
    assert status == 200
    assert headers["content-type"] == JSON_10
    assert headers["x-amzn-requestid"]
    assert int(headers["x-amz-crc32"]) == zlib.crc32(data)
    assert isinstance(json.loads(data)["TableNames"], list)


def test_request_ids_are_unique(raw):
    ids = {raw.call("ListTables", {"Limit": 1})[1]["x-amzn-requestid"] for _ in range(5)}
    assert len(ids) == 5


def test_error_response_shape(raw):
    status, headers, data = raw.call("DescribeTable", {"TableName": "compat-no-such-table-xyz"})
    assert status == 400
    assert headers["content-type"] == JSON_10
    assert headers["x-amzn-requestid"]
    name, doc = error_type(data)
    assert name == "ResourceNotFoundException"
    assert doc["__type"].endswith("#ResourceNotFoundException")
    assert doc.get("Message", doc.get("message"))
    if "x-amz-crc32" in headers:
        assert int(headers["x-amz-crc32"]) == zlib.crc32(data)


def test_unknown_operation(raw):
    status, headers, data = raw.post(TARGET + "FooBar", b"{}")
    assert status == 400
    assert error_type(data)[0] == "UnknownOperationException"
    assert_still_serves(raw)


def test_wrong_target_prefix(raw):
    status, headers, data = raw.post("Foo.ListTables", b"{}")
    assert status == 400
    assert json.loads(data)["__type"]
    assert_still_serves(raw)


def test_missing_authorization(raw):
    status, headers, data = raw.post(TARGET + "ListTables", b"{}", sign=False)
    assert status == 400
    name, doc = error_type(data)
    # AWS: MissingAuthenticationTokenException; DynamoDB Local drops the suffix.
    assert name in ("MissingAuthenticationTokenException", "MissingAuthenticationToken")
    assert_still_serves(raw)


@pytest.mark.aws_only
def test_missing_authorization_exact_name(raw):
    status, headers, data = raw.post(TARGET + "ListTables", b"{}", sign=False)
    assert error_type(data)[0] == "MissingAuthenticationTokenException"


@pytest.mark.parametrize("body", [b'{"Limit": ', b"[1,2]", b"not json"])
def test_malformed_json_does_not_break_server(raw, body):
    status, headers, data = raw.post(TARGET + "ListTables", body)
    # AWS answers 400 SerializationException (see the aws_only test); DynamoDB Local answers
    # 500 InternalFailure. Either way: an error document, and the server goes on serving.
    assert status in (400, 500)
    assert json.loads(data)["__type"]
    assert_still_serves(raw)


# DynamoDB Local answers malformed JSON with 500 InternalFailure; AWS with 400
# SerializationException.
@pytest.mark.aws_only
@pytest.mark.parametrize("body", [b'{"Limit": ', b"not json", b""])
def test_malformed_json_is_serialization_exception(raw, body):
    status, headers, data = raw.post(TARGET + "ListTables", body)
    assert status == 400
    assert error_type(data)[0] == "SerializationException"


@pytest.mark.aws_only
def test_wrong_field_type_is_serialization_exception(raw):
    status, headers, data = raw.post(TARGET + "ListTables", b'{"Limit": "abc"}')
    assert status == 400
    assert error_type(data)[0] == "SerializationException"


def test_unknown_fields_are_ignored(raw):
    status, headers, data = raw.post(TARGET + "ListTables", b'{"Bogus": 1, "Limit": 1}')
    assert status == 200, data


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-amz-json-1.1"])
def test_other_content_type(raw, content_type):
    status, headers, data = raw.post(TARGET + "ListTables", b"{}", content_type=content_type)
    # DynamoDB Local serves these; a stricter server may refuse with a JSON error. Never 5xx.
    if status == 200:
        assert "TableNames" in json.loads(data)
    else:
        assert 400 <= status < 500
        assert json.loads(data)["__type"]
    assert_still_serves(raw)


@pytest.mark.parametrize("opener,closer", [(b"[", b"]"), (b'{"a":', b"}")])
def test_deeply_nested_json(raw, opener, closer):
    depth = 100000
    body = b'{"x":' + opener * depth + b"1" * (opener == b'{"a":') + closer * depth + b"}"
    status, headers, data = raw.post(TARGET + "ListTables", body)
    assert status in (400, 500)
    assert json.loads(data)["__type"]
    assert_still_serves(raw)


def test_oversized_body(raw):
    body = b'{"TableName": "' + b"x" * (17 * 1024 * 1024) + b'"}'
    try:
        status, headers, data = raw.post(TARGET + "DescribeTable", body)
    except (ConnectionError, http.client.HTTPException):
        # Closing the connection after answering early is fine; the server must still serve.
        status = 413
    assert status == 413
    assert_still_serves(raw)


def test_truncated_body_then_close(raw):
    with socket.create_connection((raw.host, raw.port), timeout=10) as s:
        s.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Type: " + JSON_10.encode()
                  + b"\r\nX-Amz-Target: DynamoDB_20120810.ListTables\r\n"
                  b"Content-Length: 100\r\n\r\n{}")
    assert_still_serves(raw)


def test_garbage_request_line(raw):
    with socket.create_connection((raw.host, raw.port), timeout=10) as s:
        s.sendall(b"\x00\x01GARBAGE\r\n\r\n")
        try:
            s.recv(4096)
        except (ConnectionError, socket.timeout):
            pass
    assert_still_serves(raw)


def test_keep_alive_serves_many_requests(raw):
    conn = http.client.HTTPConnection(raw.host, raw.port, timeout=30)
    try:
        for _ in range(20):
            body = b'{"Limit": 1}'
            conn.request("POST", "/", body=body, headers=raw.headers(TARGET + "ListTables", body))
            resp = conn.getresponse()
            assert resp.status == 200
            resp.read()
    finally:
        conn.close()


def test_numbers_are_strings_on_the_wire(raw, table):
    name = table(range=None)
    status, _, data = raw.call("PutItem", {"TableName": name, "Item": {
        "pk": {"S": "a"}, "n": {"N": "12345678901234567890.123456789012345678"}}})
    assert status == 200, data
    status, _, data = raw.call("GetItem", {"TableName": name, "Key": {"pk": {"S": "a"}},
                                           "ConsistentRead": True})
    assert status == 200
    doc = json.loads(data)
    assert doc["Item"]["n"] == {"N": "12345678901234567890.123456789012345678"}


# DynamoDB Local accepts a JSON number where the protocol says string; AWS refuses it with
# SerializationException.
@pytest.mark.aws_only
def test_number_must_be_json_string(raw, table):
    name = table(range=None)
    status, _, data = raw.post(
        TARGET + "PutItem",
        json.dumps({"TableName": name, "Item": {"pk": {"S": "a"}, "n": {"N": 5}}}).encode())
    assert status == 400
    assert error_type(data)[0] == "SerializationException"
