"""Reliability in Python: the building blocks behind the CLI's guarantees (atomic writes that
land together, the input guard, sidecar pairing, bounded YAML and expressions, table sizes),
clean errors for odd arguments, and a property test that no call mutates a loaded network."""

from __future__ import annotations

import os
import signal
import threading

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import gmnet
from gmnet.errors import GmnetError, InvalidArgumentError, NetworkFileError, clip_message
from gmnet.io import atomic
from gmnet.io.atomic import check_destination, deferred_interrupt, write_together
from gmnet.io.sidecar_hash import HASH_KEY, check_pair, file_hash, loads_strict, stamp
from gmnet.model.expressions import ExpressionError, parse_expression
from gmnet.model.inputs import guard_inputs, input_matching, note_input
from gmnet.model.sizes import size_problems
from gmnet.model.yaml_safe import MAX_ALIASES, load_yaml_text


# ------------------------------------------------------------------------ atomic writes
def test_files_written_together_land_together_despite_ctrl_c(tmp_path, monkeypatch):
    a, b = tmp_path / "net.bif", tmp_path / "net.bif.gmnet.json"
    a.write_text("old file")
    b.write_text("old sidecar")
    real_land = atomic._land
    calls = []

    def land_then_interrupt(tmp, target):
        real_land(tmp, target)
        calls.append(target.name)
        if len(calls) == 1:  # Ctrl+C between the two renames
            os.kill(os.getpid(), signal.SIGINT)

    monkeypatch.setattr(atomic, "_land", land_then_interrupt)
    with pytest.raises(KeyboardInterrupt):
        write_together([(a, "new file"), (b, "new sidecar")])
    assert calls == ["net.bif", "net.bif.gmnet.json"]
    assert (a.read_text(), b.read_text()) == ("new file", "new sidecar")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["net.bif", "net.bif.gmnet.json"]


def test_a_failed_write_together_replaces_nothing(tmp_path):
    a = tmp_path / "x.bif"
    a.write_text("old")
    (tmp_path / "sub").mkdir()
    with pytest.raises(InvalidArgumentError, match="it is a folder"):
        write_together([(a, "new"), (tmp_path / "sub", "new")])
    assert a.read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["sub", "x.bif"]


def test_deferred_interrupt_outside_the_main_thread_does_nothing():
    seen = []

    def work():
        with deferred_interrupt():
            seen.append(signal.getsignal(signal.SIGINT))

    thread = threading.Thread(target=work)
    thread.start()
    thread.join()
    assert seen == [signal.default_int_handler]


def test_existing_mode_is_kept(tmp_path):
    target = tmp_path / "secret.txt"
    target.write_text("a")
    os.chmod(target, 0o640)
    atomic.write_text(target, "b")
    assert (target.read_text(), oct(os.stat(target).st_mode & 0o777)) == ("b", "0o640")


# ---------------------------------------------------------------------------- input guard
def test_inputs_are_recorded_only_inside_the_guard(tmp_path):
    f = tmp_path / "n.yaml"
    f.write_text("x")
    note_input(f)
    assert input_matching(f) is None
    check_destination(f)  # no guard: a library user may rewrite the file
    with guard_inputs():
        note_input(f, with_sidecar=True)
        assert input_matching(f) == str(f)
        assert input_matching(str(f) + ".gmnet.json") == str(f) + ".gmnet.json"
        with pytest.raises(InvalidArgumentError, match="it is an input of this command"):
            check_destination(f)
    assert input_matching(f) is None


def test_explicit_inputs_are_refused_too(tmp_path):
    f = tmp_path / "in.txt"
    f.write_text("x")
    os.link(f, tmp_path / "same.txt")
    with pytest.raises(InvalidArgumentError, match=r"same.txt: it is an input of this command"):
        check_destination(tmp_path / "same.txt", inputs=[f])


# ------------------------------------------------------------------------------- sidecar
def test_a_sidecar_pairs_with_its_file_by_hash(tmp_path):
    payload = stamp({"kind": "gmnet-sidecar/1"}, "network text")
    assert payload[HASH_KEY] == file_hash(b"network text")
    assert check_pair("n.bif", "network text", payload, "n.bif.gmnet.json") is None
    assert check_pair("n.bif", "other", {"kind": "x"}, "n.bif.gmnet.json") is None  # old sidecar
    with pytest.raises(NetworkFileError) as info:
        check_pair("n.bif", "edited text", payload, "n.bif.gmnet.json")
    assert info.value.one_line().startswith(
        "n.bif.gmnet.json: this sidecar was written with another version of n.bif (its SHA-256 "
        "differs): export again to pair them, delete n.bif.gmnet.json")
    note = check_pair("n.bif", "edited text", payload, "n.bif.gmnet.json", edited=True)
    assert note.startswith("n.bif changed after its sidecar was written")


def test_strict_json_refuses_duplicate_keys_and_deep_nesting():
    assert loads_strict('{"a": 1}') == {"a": 1}
    with pytest.raises(NetworkFileError, match="key 'a' is given twice in one object"):
        loads_strict('{"a": 1, "a": 2}', path="s.json")
    with pytest.raises(NetworkFileError, match="values nested too deeply"):
        loads_strict("[" * 100_000 + "]" * 100_000)
    with pytest.raises(NetworkFileError, match="not valid JSON at line 1, column 2"):
        loads_strict("{")


# ---------------------------------------------------------------------------------- YAML
def test_a_merge_followed_by_its_own_keys_is_allowed():
    text = "base: &b {x: 1, y: 2}\nuse: {<<: *b, y: 3}\n"
    assert load_yaml_text(text) == {"base": {"x": 1, "y": 2}, "use": {"x": 1, "y": 3}}


def test_duplicate_keys_are_found_at_any_depth():
    with pytest.raises(NetworkFileError) as info:
        load_yaml_text("a:\n  b:\n    c: 1\n    d: 2\n    c: 3\n", path="f.yaml")
    assert info.value.problems == ["key 'c' is given twice in one mapping (lines 3 and 5); keep "
                                   "one of them"]


def test_too_many_aliases_are_refused():
    text = "a: &a 1\nb: [" + ", ".join(["*a"] * (MAX_ALIASES + 1)) + "]\n"
    with pytest.raises(NetworkFileError, match=f"more than {MAX_ALIASES} aliases"):
        load_yaml_text(text)
    assert len(load_yaml_text("a: &a 1\nb: [" + ", ".join(["*a"] * 10) + "]\n")["b"]) == 10


# ------------------------------------------------------------------ expressions and sizes
@pytest.mark.parametrize("text, says", [
    ("-" * 10_000 + "1", "is nested too deeply to read"),
    ("+".join(["1"] * 500), "is nested more than 100 levels deep"),
    ("1e400", "the number '1e400' is too large"),
    ("x" * 20_001, "is 20001 characters long; the limit is 20000"),
])
def test_expression_limits(text, says):
    with pytest.raises(ExpressionError, match=says):
        parse_expression(text)


def test_expression_errors_cut_the_expression():
    with pytest.raises(ExpressionError) as info:
        parse_expression("(" * 3000 + "1" + ")" * 3000)
    assert "(6001 characters)" in str(info.value) and len(str(info.value)) < 200


def test_table_sizes_are_checked_from_the_counts_alone():
    states = {f"p{i}": ["a", "b"] for i in range(30)} | {"harm": ["yes", "no"]}
    parents = {"harm": [f"p{i}" for i in range(30)]}
    assert size_problems(states, parents) == [
        "node 'harm': its table would hold 2.1e9 entries, 17.2 GB (2 states x 1.1e9 "
        "configurations of 30 parents); the limit is 1.7e7 entries, 134 MB: give it fewer "
        "parents or states"]
    assert size_problems(states, {"harm": [f"p{i}" for i in range(20)]}) == []


def test_clip_message_keeps_short_lines_and_cuts_long_ones():
    assert clip_message("unknown  variable\n'x'") == "unknown variable 'x'"
    long = clip_message("bad " + " ".join(["word"] * 1000))
    assert len(long) < 620 and "characters]" in long and long.endswith("word word")


# ------------------------------------------------------------------------ odd arguments
def test_compare_mitigations_takes_none_or_one_name_as_keep_priors():
    net = gmnet.load_network()
    base = gmnet.compare_mitigations(net).value("ai_control").alone_relative
    assert gmnet.compare_mitigations(net, keep_priors=None).value("ai_control") \
        .alone_relative == base
    assert gmnet.compare_mitigations(net, keep_priors="shift_type").value("ai_control") \
        .alone_relative == gmnet.compare_mitigations(net, keep_priors=["shift_type"]) \
        .value("ai_control").alone_relative
    with pytest.raises(InvalidArgumentError, match="keep_priors must be variable names"):
        gmnet.compare_mitigations(net, keep_priors=3)


def test_web_counts_must_be_numbers_not_booleans():
    pytest.importorskip("fastapi")
    from fastapi.testclient import TestClient

    from gmnet.web import create_app

    client = TestClient(create_app(), base_url="http://127.0.0.1")
    for path, body, name in [("/api/uncertainty", {"samples": True}, "samples"),
                             ("/api/uncertainty", {"seed": False}, "seed"),
                             ("/api/uncertainty", {"bins": "3"}, "bins"),
                             ("/api/compare", {"samples": True}, "samples"),
                             ("/api/compare", {"all_portfolios": 1}, "all_portfolios")]:
        r = client.post(path, json=body)
        assert r.status_code == 422, (path, body, r.text)
        assert r.json()["field"] == name
        assert r.json()["error"].startswith(f"{name}: Input should be a valid "), r.json()


# ------------------------------------------------- no call mutates a loaded network
NET = gmnet.load_network()
VARS = list(NET.variables)


def _fingerprint(net) -> tuple:
    compiled = net.compiled
    return (net.spec.model_dump_json(),
            tuple((v, compiled.states[v], compiled.parents[v], compiled.cpts[v].tobytes())
                  for v in compiled.variables),
            tuple(sorted((k, repr(p)) for k, p in net.parameters.items())))


BEFORE = _fingerprint(NET)


@st.composite
def situations(draw):
    names = draw(st.lists(st.sampled_from(VARS), max_size=3, unique=True))
    split = draw(st.integers(0, len(names)))
    evidence = {v: draw(st.sampled_from(NET.states(v))) for v in names[:split]}
    do = {v: draw(st.sampled_from(NET.states(v))) for v in names[split:]}
    return draw(st.sampled_from(VARS)), evidence, do


@settings(max_examples=16, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow])
@given(situation=situations(), call=st.sampled_from(["query", "compare", "uncertainty",
                                                     "scenario", "worldview", "export"]))
def test_no_call_mutates_a_loaded_network(tmp_path_factory, situation, call):
    target, evidence, do = situation
    try:
        if call == "query":
            NET.query(target, evidence=evidence, do=do)
        elif call == "compare":
            gmnet.compare_mitigations(NET, evidence=evidence, do=do)
        elif call == "uncertainty":
            gmnet.uncertainty(NET, target, NET.states(target)[0], evidence=evidence, do=do,
                              samples=20, rng=1)
        elif call == "scenario":
            gmnet.apply(NET, scenario=["game_ai"])
        elif call == "worldview":
            gmnet.apply_worldview(NET, "langosco-2022")
        else:
            folder = tmp_path_factory.mktemp("export")
            gmnet.export_network(NET, folder / "n.bif")
    except GmnetError:
        pass  # impossible evidence, a mitigation in evidence, ...: refused, still unchanged
    assert _fingerprint(NET) == BEFORE


def test_web_bodies_with_a_duplicate_key_or_deep_nesting_name_what_is_wrong():
    pytest.importorskip("fastapi")
    from fastapi.testclient import TestClient

    from gmnet.web import create_app

    client = TestClient(create_app(), base_url="http://127.0.0.1")
    headers = {"content-type": "application/json"}
    r = client.post("/api/query", content='{"target": "harm", "target": "goal_misgeneralizes"}',
                    headers=headers)
    assert r.status_code == 400
    assert r.json() == {"error": "the request body gives 'target' twice; give each field once",
                        "field": "target"}
    r = client.post("/api/query", content='{"evidence": ' + "[" * 30000 + "]" * 30000 + "}",
                    headers=headers)
    assert r.status_code == 400
    assert r.json() == {"error": "the request body cannot be read as JSON (nested too deeply, "
                        "or not UTF-8 text); send one JSON object", "field": "body"}
