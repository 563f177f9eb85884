"""`cruddur serve --demo` end to end: the printed curl line, the seed's HTTP API with real
tokens from the local issuer, the stream handler keeping inboxes current, errors, restarts."""

import shlex
import subprocess
import time

import pytest
import requests


def wait_for(predicate, timeout=20.0, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def test_printed_curl_line_returns_andrewbrowns_conversations(serve):
    s = serve()
    out = subprocess.run(shlex.split(s.curl_line()) + ["-s", "-f"], capture_output=True,
                         text=True, timeout=30)
    assert out.returncode == 0, out.stderr
    groups = __import__("json").loads(out.stdout)
    assert len(groups) == 1
    assert groups[0]["handle"] == "bayko"
    assert set(groups[0]) == {"uuid", "display_name", "handle", "message", "created_at"}


def test_conversation_flow(serve):
    s = serve()
    andrew, bayko, londo = s.token("andrewbrown"), s.token("bayko"), s.token("londo")
    groups = s.get("/api/message_groups", andrew).json()
    group = groups[0]["uuid"]

    # The demo conversation: 104 messages, paged newest-first, each page oldest to newest.
    seen, cursor = [], None
    while True:
        params = {"cursor": cursor} if cursor else {}
        r = s.get(f"/api/messages/{group}", andrew, params=params)
        assert r.status_code == 200
        seen = r.json() + seen
        cursor = r.headers.get("X-Next-Cursor")
        if not cursor:
            break
    assert len(seen) == 104
    stamps = [m["created_at"] for m in seen]
    assert stamps == sorted(stamps)

    # bayko replies; andrewbrown's inbox moves to the reply (stream handler + cache refresh).
    r = s.post("/api/messages", {"message": "Shall we?", "message_group_uuid": group}, bayko)
    assert r.status_code == 200, r.text
    assert r.json()["message_group_uuid"] == group
    wait_for(lambda: s.get("/api/message_groups", andrew).json()[0]["message"] == "Shall we?",
             what="andrewbrown's inbox to show the reply")

    # A new conversation from a handle, then the same handle again posts into it.
    r = s.post("/api/messages", {"message": "Hello, Londo", "handle": "londo"}, andrew)
    assert r.status_code == 200, r.text
    new_group = r.json()["message_group_uuid"]
    r = s.post("/api/messages", {"message": "Again", "handle": "londo"}, andrew)
    assert r.json()["message_group_uuid"] == new_group
    wait_for(lambda: [g["handle"] for g in s.get("/api/message_groups", andrew).json()]
             == ["londo", "bayko"], what="newest conversation first")
    assert [g["handle"] for g in s.get("/api/message_groups", londo).json()] == ["andrewbrown"]

    # Membership: londo is not in andrewbrown and bayko's conversation.
    assert s.get(f"/api/messages/{group}", londo).status_code == 403
    r = s.post("/api/messages", {"message": "let me in", "message_group_uuid": group}, londo)
    assert r.status_code == 403

    assert s.get("/api/users/@bayko/short").json()["handle"] == "bayko"
    assert s.get("/api/users/@nobody/short").status_code == 404
    assert s.get("/api/health-check").json() == {"success": True, "ver": 1}


def test_errors_are_statuses_never_500(serve):
    s = serve()
    andrew = s.token()
    assert s.get("/api/message_groups").status_code == 401
    assert s.get("/api/message_groups", "not.a.token").status_code == 401
    assert s.post("/api/messages", None, andrew, raw="{not json").status_code == 400
    r = s.post("/api/messages", {"message": "", "handle": ""}, andrew)
    assert r.status_code == 422
    assert "message_blank" in r.json()
    r = s.post("/api/messages", {"message": "x" * 1025, "handle": "andrewbrown"}, andrew)
    assert r.status_code == 422
    assert {"message_exceed_max_chars", "cannot_message_self"} <= set(r.json())
    assert s.get("/api/messages/00000000-0000-4000-8000-000000000000", andrew).status_code == 404
    r = s.post("/api/messages", {"message": "hi", "handle": "nobody"}, andrew)
    assert r.status_code == 404


def test_data_survives_a_restart_and_demo_is_not_duplicated(serve, tmp_path):
    data = tmp_path / "persisted"
    s = serve(data)
    andrew = s.token()
    group = s.get("/api/message_groups", andrew).json()[0]["uuid"]
    s.post("/api/messages", {"message": "before restart", "message_group_uuid": group}, andrew)
    assert s.stop() == 0
    again = serve(data)
    groups = again.get("/api/message_groups", andrew).json()
    assert len(groups) == 1 and groups[0]["uuid"] == group
    wait_for(lambda: again.get("/api/message_groups", andrew).json()[0]["message"]
             == "before restart", what="the last message")
    r = again.get(f"/api/messages/{group}", andrew)
    assert r.json()[-1]["message"] == "before restart"


def test_dev_sign_in_and_jwks(serve):
    s = serve()
    r = requests.post(s.api + "/api/dev/sign_in", json={"handle": "bayko"}, timeout=30)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["handle"] == "bayko" and body["expires_in"] == 3600
    groups = s.get("/api/message_groups", body["access_token"]).json()
    assert groups[0]["handle"] == "andrewbrown"
    assert requests.post(s.api + "/api/dev/sign_in", json={"handle": "nobody"},
                         timeout=30).status_code == 404
    assert requests.post(s.api + "/api/dev/sign_in", data="{", timeout=30).status_code == 400
    assert requests.get(s.api + "/api/dev/sign_in", timeout=30).status_code == 405
    keys = requests.get(s.api + "/.well-known/jwks.json", timeout=30).json()["keys"]
    assert keys[0]["kty"] == "RSA" and keys[0]["alg"] == "RS256"


def test_page_is_served_when_present(serve, tmp_path):
    web = tmp_path / "web"
    web.mkdir()
    (web / "index.html").write_text("<!doctype html><title>Cruddur</title>")
    s = serve(extra=("--web-dir", str(web)))
    r = requests.get(s.api + "/", timeout=30)
    assert r.status_code == 200
    assert r.headers["Content-Type"].startswith("text/html")
    assert "Cruddur" in r.text
    assert requests.get(s.api + "/api/health-check", timeout=30).json()["success"] is True
