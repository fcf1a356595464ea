"""The web server's cache of answers and its worker processes: the same request gets the same
bytes, cached or not, in threads or processes; a request that differs in anything (scenario,
your numbers, worldview, context, seed) is never served another's answer; the cache is
bounded."""

from __future__ import annotations

import os
import pickle
import signal
import time

import pytest

pytest.importorskip("fastapi", reason="the web API needs fastapi: pip install 'gmnet[web]'")

from fastapi.testclient import TestClient  # noqa: E402

import gmnet  # noqa: E402
from gmnet.errors import InvalidArgumentError  # noqa: E402
from gmnet.web import create_app  # noqa: E402
from gmnet.web.cache import ResponseCache  # noqa: E402
from gmnet.web.errors import ApiError  # noqa: E402

BASE = "http://127.0.0.1"
PLAIN = {"evidence": {"capability_level": "superhuman"},
         "do": {"shift_type": "significant", "alignment_method": "interpretability_verified"}}
#: Requests that differ from PLAIN in one thing each, and so must get other answers.
VARIANTS = {
    "scenario": {**PLAIN, "scenario": ["game_ai"]},
    "set": {**PLAIN, "parameters": {"p_capability_transfer.significant": 0.5}},
    "worldview": {**PLAIN, "worldview": "langosco-2022"},
    "context": {**PLAIN, "context": "prior"},
    "unknown": {**PLAIN, "fixed_unknowns": {"interpretability_feasibility": "fails"}},
    "evidence": {**PLAIN, "evidence": {"capability_level": "below_human"}},
}


@pytest.fixture(scope="module")
def cached():
    with TestClient(create_app(), base_url=BASE) as c:
        yield c


@pytest.fixture(scope="module")
def uncached():
    with TestClient(create_app(cache_entries=0), base_url=BASE) as c:
        yield c


def _cache(client) -> dict:
    return client.get("/api/health").json()["cache"]


# ============================================================================ the cache itself
def test_cache_keeps_the_most_recently_used_within_its_entry_bound():
    cache = ResponseCache(max_entries=2, max_bytes=1000)
    cache.put("a", b"1")
    cache.put("b", b"22")
    assert cache.get("a") == b"1"  # a is now the most recently used
    cache.put("c", b"333")  # drops b, the least recently used
    assert cache.get("b") is None
    assert (cache.get("a"), cache.get("c")) == (b"1", b"333")
    assert cache.stats() == {"entries": 2, "bytes": 4, "hits": 3, "misses": 1,
                             "max_entries": 2, "max_bytes": 1000}


def test_cache_keeps_within_its_byte_bound_and_can_be_off():
    cache = ResponseCache(max_entries=100, max_bytes=10)
    cache.put("a", b"12345")
    cache.put("b", b"123456")  # 11 bytes in all: a goes
    assert (cache.get("a"), cache.get("b"), cache.size) == (None, b"123456", 6)
    cache.put("big", b"x" * 11)  # larger than the whole bound: not kept, nothing dropped
    assert (cache.get("big"), len(cache)) == (None, 1)
    off = ResponseCache(max_entries=0)
    off.put("a", b"1")
    assert (off.get("a"), len(off)) == (None, 0)


# ============================================================================ through the API
@pytest.mark.parametrize("path, body", [
    ("/api/query", PLAIN),
    ("/api/compare", {**PLAIN, "samples": 200, "seed": 3}),
    ("/api/uncertainty", {**PLAIN, "samples": 300, "seed": 5, "bins": 4}),
    ("/api/marginals", PLAIN),
])
def test_a_cached_answer_is_the_same_bytes_as_an_uncached_one(cached, uncached, path, body):
    before = _cache(cached)
    first = cached.post(path, json=body)
    again = cached.post(path, json=body)
    fresh = uncached.post(path, json=body)
    assert first.status_code == again.status_code == fresh.status_code == 200
    assert first.content == again.content == fresh.content
    assert again.headers["content-type"] == "application/json"
    after = _cache(cached)
    assert after["hits"] == before["hits"] + 1
    assert _cache(uncached)["entries"] == 0


@pytest.mark.parametrize("what", sorted(VARIANTS))
def test_a_request_that_differs_is_never_served_a_stale_answer(cached, uncached, what):
    plain = cached.post("/api/query", json=PLAIN).json()
    variant = cached.post("/api/query", json=VARIANTS[what])
    assert variant.status_code == 200, variant.text
    assert variant.json() == uncached.post("/api/query", json=VARIANTS[what]).json()
    assert variant.json()["probability"] != plain["probability"]


def test_uncertainty_with_another_seed_or_sample_count_is_computed_anew(cached):
    body = {**PLAIN, "samples": 400, "seed": 1}
    one = cached.post("/api/uncertainty", json=body).json()
    other_seed = cached.post("/api/uncertainty", json={**body, "seed": 2}).json()
    other_samples = cached.post("/api/uncertainty", json={**body, "samples": 401}).json()
    assert (one["seed"], other_seed["seed"], other_samples["samples"]) == (1, 2, 401)
    assert one["mean"] != other_seed["mean"]
    assert one["mean"] != other_samples["mean"]


def test_errors_are_not_cached(cached):
    entries = _cache(cached)["entries"]
    r = cached.post("/api/query", json={**PLAIN, "scenario": ["no_such_scenario"]})
    assert r.status_code == 404 and r.json()["field"] == "scenario"
    assert _cache(cached)["entries"] == entries


def test_the_cache_of_a_server_is_bounded():
    with TestClient(create_app(cache_entries=3), base_url=BASE) as client:
        for state in ("superficial", "moderate", "significant", "extreme"):
            for context in ("baseline", "prior"):
                body = {"do": {"shift_type": state}, "context": context}
                assert client.post("/api/query", json=body).status_code == 200
        cache = _cache(client)
    assert (cache["entries"], cache["max_entries"], cache["misses"]) == (3, 3, 8)


def test_health_tells_where_answers_are_computed(cached):
    assert cached.get("/api/health").json()["compute"] == {"in": "threads", "workers": 2,
                                                             "ready": 2}


# ============================================================================ worker processes
def test_api_errors_cross_a_process_boundary_whole():
    error = pickle.loads(pickle.dumps(ApiError(422, "bad state", "do.x", [{"a": 1}])))
    assert (error.status, error.message, error.field, error.detail) == (
        422, "bad state", "do.x", [{"a": 1}])


def test_processes_need_networks_by_name_or_path():
    with pytest.raises(InvalidArgumentError, match="by name or path"):
        create_app([gmnet.load_network()], compute="processes")
    with pytest.raises(InvalidArgumentError, match="compute must be one of threads, processes"):
        create_app(compute="cores")


def _ready(client, count: int, deadline: float = 120.0) -> dict:
    """Health once ``count`` worker processes are ready (they load the networks first)."""
    end = time.monotonic() + deadline
    while True:
        compute = client.get("/api/health").json()["compute"]
        if compute["ready"] >= count or time.monotonic() > end:
            return compute
        time.sleep(0.1)


def test_worker_processes_answer_the_same_bytes_and_replace_a_dead_one(uncached):
    app = create_app(compute="processes", workers=1, cache_entries=0)
    with TestClient(app, base_url=BASE) as client:
        first = client.post("/api/query", json=PLAIN)  # at once: in threads while they start
        assert first.status_code == 200
        assert first.content == uncached.post("/api/query", json=PLAIN).content
        assert _ready(client, 1) == {"in": "processes", "workers": 1, "ready": 1}
        pool = app.state.gmnet.processes
        (pid,) = pool.pids()
        for path, body in [("/api/query", PLAIN), ("/api/query", VARIANTS["set"]),
                           ("/api/uncertainty", {**PLAIN, "samples": 200, "seed": 9}),
                           ("/api/compare", PLAIN)]:
            r = client.post(path, json=body)
            assert r.status_code == 200, r.text
            assert r.content == uncached.post(path, json=body).content
        bad = client.post("/api/query", json={**PLAIN, "worldview": "no_such_view"})
        assert bad.status_code == 404 and bad.json()["field"] == "worldview"
        assert pool.pids() == [pid]  # every answer above came from that one process
        os.kill(pid, signal.SIGKILL)
        end = time.monotonic() + 60
        while pool.pids() == [pid] and time.monotonic() < end:  # the server sees its pipe close
            time.sleep(0.05)
        assert pool.pids() != [pid]
        again = client.post("/api/query", json=PLAIN)
        assert again.status_code == 200
        assert again.content == uncached.post("/api/query", json=PLAIN).content
        assert _ready(client, 1)["ready"] == 1
        (new,) = pool.pids()
        assert new != pid


def test_a_worker_answers_the_pages_first_uncertainty_question_before_it_is_ready(
        monkeypatch):
    """A computing process warms up at start with the page's first uncertainty question (2,000
    draws, seed 0); not where that question is heavy; and a warm-up that fails does not stop
    the worker from starting."""
    from gmnet.web import processes

    asked: list[tuple[str, str]] = []
    real = processes._work

    def recording(name, text):
        asked.append((name, text))
        return real(name, text)

    monkeypatch.setattr(processes, "_SERVER", None)
    monkeypatch.setattr(processes, "_work", recording)
    processes._start([None], 30.0)
    assert asked == [("uncertainty", '{"samples": 2000, "seed": 0}')]
    assert processes._SERVER.default.name == "goal_misgeneralization"

    asked.clear()
    monkeypatch.setattr(processes, "WARM_UP_ENTRIES", 5184 * 2000 - 1)  # harm's plan: 5,184
    processes._start([None], 30.0)
    assert asked == []

    def failing(name, text):
        raise RuntimeError("warm-up failed")

    monkeypatch.setattr(processes, "WARM_UP_ENTRIES", 20_000_000)
    monkeypatch.setattr(processes, "_work", failing)
    monkeypatch.setattr(processes, "_SERVER", None)
    processes._start([None], 30.0)
    assert processes._SERVER is not None
