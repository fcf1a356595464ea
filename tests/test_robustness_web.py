"""The web API under bad input: malformed, oversized and random payloads get a 4xx JSON body
naming the field (never a 500, never NaN); no CORS headers by default; a request past its time
limit is cut off cleanly while other requests go on."""

from __future__ import annotations

import json
import threading
import time

import pytest

pytest.importorskip("fastapi", reason="the web API needs fastapi: pip install 'gmnet[web]'")

from fastapi.testclient import TestClient  # noqa: E402
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from gmnet.web import create_app  # noqa: E402

BASE = "http://127.0.0.1"
SETTINGS = settings(max_examples=40, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow,
                                           HealthCheck.function_scoped_fixture])
JSON_HEADERS = {"content-type": "application/json"}


@pytest.fixture(scope="module")
def client():
    with TestClient(create_app(), base_url=BASE, raise_server_exceptions=False) as c:
        yield c


def strict_json(response):
    """The body as JSON; NaN or Infinity in it fail (they are not JSON)."""

    def refuse(token):
        raise AssertionError(f"{token} in a response: {response.text[:200]}")

    return json.loads(response.text, parse_constant=refuse)


def assert_error(response, status, field, *fragments):
    assert response.status_code == status, (response.status_code, response.text[:300])
    assert response.headers["content-type"].startswith("application/json")
    body = strict_json(response)
    assert body["field"] == field, body
    assert isinstance(body["error"], str) and body["error"]
    for fragment in fragments:
        assert fragment in body["error"], (fragment, body["error"])
    return body


# ------------------------------------------------------------------ malformed bodies
@pytest.mark.parametrize("raw, field, fragment", [
    (b'{"evidence": {"shift_type": NaN}}', "evidence.shift_type", "valid string"),
    (b'{"target": 1e999}', "target", "valid string"),
    (b'{"evidence": null}', "evidence", "valid dictionary"),
    (b'{"scenario": "game_ai"}', "scenario", "valid list"),
    (b'{"target": "harm; drop table"}', "target", "should match pattern"),
    (b'{"target": "' + b"a" * 500 + b'"}', "target", "at most 120 characters"),
    (b'{"evidence": {"' + b"v" * 200 + b'": "x"}}', "evidence." + "v" * 200 + ".[key]",
     "at most 120 characters"),
    (b'{"scenario": ["a", "b", "c", "d", "e", "f", "g", "h", "i"]}', "scenario",
     "at most 8 items"),
    (b'{"evidenc": {}}', "evidenc", "unknown field"),
])
def test_malformed_query_bodies_name_the_field(client, raw, field, fragment):
    assert_error(client.post("/api/query", content=raw, headers=JSON_HEADERS), 422, field,
                 fragment)


@pytest.mark.parametrize("raw, what", [
    (b'[1, 2, 3]', "must be a JSON object (with Content-Type: application/json), got an array"),
    (b'null', "must be a JSON object (with Content-Type: application/json), got null"),
    (b'"harm"', "must be a JSON object (with Content-Type: application/json), got a string"),
    (b'', "must be a JSON object (with Content-Type: application/json), got nothing"),
    (b'{"target": "harm",}', "is not valid JSON (Expecting property name enclosed in double "
                             "quotes, at character 18)"),
])
def test_a_body_that_is_not_a_json_object_is_400_naming_the_body(client, raw, what):
    r = client.post("/api/query", content=raw, headers=JSON_HEADERS)
    assert r.status_code == 400, r.text
    assert r.json()["field"] == "body"
    assert r.json()["error"].startswith("the request body " + what), r.json()


@pytest.mark.parametrize("body, field, fragment", [
    ({"context": "nope"}, "context", "'baseline' or 'prior'"),
    ({"all_portfolios": "maybe"}, "all_portfolios", "valid boolean"),
    ({"target": "harn"}, "target", "did you mean 'harm'?"),
    ({"state": "yse"}, "state", "did you mean 'yes'?"),
    ({"evidence": {"spec_quality": "lo"}}, "evidence.spec_quality", "did you mean 'low'?"),
    ({"scenario": ["autonomous_agent"]}, "scenario", "did you mean 'autonomous_agents'?"),
    ({"worldview": "langosco"}, "worldview", "did you mean 'langosco-2022'?"),
    ({"network": "goal_misgeneralisation"}, "network", "did you mean 'goal_misgeneralization'?"),
])
def test_bad_compare_bodies_name_the_field(client, body, field, fragment):
    r = client.post("/api/compare", json=body)
    assert 400 <= r.status_code < 500
    assert_error(r, r.status_code, field, fragment)


def test_non_utf8_and_wrong_content_type_and_deep_nesting(client):
    r = client.post("/api/query", content=b"\xff\xfe{}", headers=JSON_HEADERS)
    assert 400 <= r.status_code < 500 and "error" in strict_json(r)
    r = client.post("/api/query", content=b'{"target": "harm"}',
                    headers={"content-type": "text/plain"})
    assert 400 <= r.status_code < 500 and "error" in strict_json(r)
    r = client.post("/api/query", content=b"[" * 5000 + b"]" * 5000, headers=JSON_HEADERS)
    assert 400 <= r.status_code < 500 and "error" in strict_json(r)


def test_oversized_bodies_are_413_whether_declared_or_streamed(client):
    padded = b'{"target": "harm"}' + b" " * 70_000
    assert_error(client.post("/api/query", content=padded, headers=JSON_HEADERS), 413, "body",
                 "over the limit of 65536 bytes")

    def chunks():  # no Content-Length: the limit applies as the body arrives
        yield b'{"target": '
        for _ in range(100):
            yield b" " * 1000
        yield b'"harm"}'

    assert_error(client.post("/api/query", content=chunks(), headers=JSON_HEADERS), 413, "body",
                 "over the limit")
    assert_error(client.post("/api/query", content=b"{}",
                             headers={**JSON_HEADERS, "content-length": "abc"}),
                 400, "body", "Content-Length")
    assert client.post("/api/query", json={}).status_code == 200  # and the server goes on


def test_bad_query_parameters_name_the_field(client):
    assert_error(client.get("/api/core-table", params={"worldview": "b" * 200}), 422,
                 "worldview", "at most 120 characters")
    assert_error(client.get("/api/audit", params={"worldview": "a b"}), 422, "worldview",
                 "should match pattern")
    assert_error(client.get("/api/worldviews/diff", params={"a": "document-table"}), 422, "b",
                 "required field is missing")
    assert_error(client.get("/api/worldviews/diff",
                            params={"a": "document-table", "b": "shah"}), 404, "b",
                 "did you mean 'shah-2022'?")


@pytest.mark.parametrize("name", ["a" * 300, "a b", "x;y"])
def test_bad_network_name_in_the_path_is_a_4xx_naming_it(client, name):
    r = client.get(f"/api/networks/{name}")
    assert 400 <= r.status_code < 500, (r.status_code, r.text[:300])
    body = strict_json(r)
    assert body["field"] in ("name", "network")
    assert "internal error" not in body["error"]


def test_uncertainty_sample_counts_are_checked(client):
    paths = client.get("/openapi.json").json()["paths"]
    if "/api/uncertainty" not in paths:
        pytest.skip("this server has no /api/uncertainty yet")
    from gmnet.web.models import MAX_SAMPLES

    for samples, fragment in [(-5, "greater than or equal to 1"), (0, "greater than or equal"),
                              (MAX_SAMPLES + 1, f"less than or equal to {MAX_SAMPLES}"),
                              (10**12, "less than or equal"), ("many", "valid integer"),
                              (2.5, "valid integer")]:
        assert_error(client.post("/api/uncertainty", json={"samples": samples}), 422,
                     "samples", fragment)
    ok = client.post("/api/uncertainty", json={"samples": 1, "seed": 0})
    assert ok.status_code == 200
    strict_json(ok)


# ------------------------------------------------------------------ random payloads
FIELDS = ["network", "scenario", "worldview", "evidence", "do", "target", "state", "context",
          "all_portfolios", "title", "samples", "seed"]
NAMES = st.sampled_from(["harm", "shift_type", "extreme", "yes", "no", "game_ai", "2024-2025",
                         "langosco-2022", "ai_control", "on", "off", "spec_quality", "low",
                         "capability_transfer", "goal_misgeneralizes", "", "x" * 130,
                         "a b", "../x", "harm=yes"])
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-10**20, 10**20)
    | st.floats(allow_nan=False, allow_infinity=False) | NAMES | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(NAMES, inner, max_size=4),
    max_leaves=12)
PAYLOADS = st.dictionaries(st.sampled_from(FIELDS) | NAMES,
                           st.dictionaries(NAMES, NAMES, max_size=4) | JSON_VALUES, max_size=5)


@SETTINGS
@given(path=st.sampled_from(["/api/query", "/api/compare", "/api/marginals"]),
       payload=PAYLOADS)
def test_random_payloads_get_an_answer_or_a_4xx_naming_a_field(client, path, payload):
    r = client.post(path, json=payload)
    body = strict_json(r)
    assert r.status_code == 200 or 400 <= r.status_code < 500, (r.status_code, body)
    if r.status_code != 200:
        assert isinstance(body["error"], str) and body["error"]
        assert "internal error" not in body["error"]
        assert "field" in body
        assert "\n" not in body["error"]
    elif path == "/api/query":
        assert sum(body["distribution"].values()) == pytest.approx(1.0, abs=1e-12)


# ------------------------------------------------------------------ no CORS
def test_no_cors_headers_on_any_response(client):
    origin = {"origin": "http://attacker.example"}
    responses = [
        client.get("/api/health", headers=origin),
        client.get("/api/networks", headers=origin),
        client.post("/api/query", json={}, headers=origin),
        client.post("/api/query", json={"target": "harn"}, headers=origin),  # 422
        client.post("/api/query", content=b" " * 70_000,
                    headers={**origin, **JSON_HEADERS}),  # 413 from the middleware
        client.get("/api/nothing", headers=origin),  # 404
        client.options("/api/compare", headers={**origin,
                                                "access-control-request-method": "POST",
                                                "access-control-request-headers":
                                                    "content-type"}),
    ]
    assert [r.status_code for r in responses] == [200, 200, 200, 422, 413, 404, 405]
    for r in responses:
        assert not [h for h in r.headers if h.lower().startswith("access-control-")], r.headers


# ------------------------------------------------------------------ time limits
def test_a_request_past_its_time_limit_is_cut_off_while_others_go_on(monkeypatch):
    """With two computing threads, one stuck compare gets a clean 504 JSON at its time limit;
    queries sent meanwhile are answered by the other thread, before and after the cut-off."""
    import gmnet.analysis.compare as mitigations

    started, release = threading.Event(), threading.Event()
    real = mitigations.compare_mitigations

    def stuck(*args, **kwargs):
        started.set()
        release.wait(20)
        return real(*args, **kwargs)

    monkeypatch.setattr(mitigations, "compare_mitigations", stuck)
    app = create_app(timeout=1.0, workers=2)
    with TestClient(app, base_url=BASE, raise_server_exceptions=False) as c:
        c.post("/api/query", json={})  # compile and start the threads
        slow: dict = {}

        def ask_slow():
            begun = time.monotonic()
            slow["response"] = c.post("/api/compare", json={})
            slow["seconds"] = time.monotonic() - begun

        thread = threading.Thread(target=ask_slow)
        try:
            thread.start()
            assert started.wait(10), "the compare never started"
            answered = []
            for shift in ("superficial", "moderate", "significant", "extreme"):
                r = c.post("/api/query", json={"do": {"shift_type": shift}})
                assert r.status_code == 200, r.text
                answered.append(r.json()["probability"])
            assert "response" not in slow  # the queries were answered while it was stuck
            thread.join(15)
            assert not thread.is_alive()
            r = slow["response"]
            assert_error(r, 504, None, "the computation took longer than the time limit of 1 s")
            assert 0.9 <= slow["seconds"] < 10
            # the other thread still answers
            r = c.post("/api/query", json={"do": {"shift_type": "extreme"}})
            assert r.status_code == 200 and r.json()["probability"] == answered[-1]
        finally:
            release.set()
            thread.join(15)


# ------------------------------------------------------------------ gmnet serve's socket
def test_serve_listens_on_a_tcp_socket_so_replies_are_not_delayed():
    """asyncio turns Nagle's algorithm off (TCP_NODELAY) only on sockets whose protocol is TCP;
    a socket made with protocol 0 left every reply waiting ~40 ms for a delayed ACK."""
    import socket

    from gmnet.cli.serve import _bind

    sock = _bind("127.0.0.1", 0)
    try:
        assert sock.proto == socket.IPPROTO_TCP
        with socket.create_connection(sock.getsockname()[:2]):
            accepted, _ = sock.accept()
            with accepted:
                assert accepted.proto == socket.IPPROTO_TCP
    finally:
        sock.close()
