"""The CLI's error contract under bad input: exit 2 and exactly one line ``gmnet: error: ...``
naming the bad thing and the valid choices (with a "did you mean" for near misses), never a
traceback; output files are replaced whole or not at all."""

import json
import os
import pathlib

import pytest

from gmnet.cli import main

VARS = "choose one of: shift_type, spec_quality"


def run(capsys, *args):
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def assert_one_line_error(code, out, err, *fragments):
    assert code == 2, (code, out, err)
    assert out == ""
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("gmnet: error: "), err
    assert "Traceback" not in err
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])


# ------------------------------------------------------------------ names, with near misses
NAME_CASES = [
    (["query", "P(harn)"], ["unknown variable 'harn' as target", VARS, "did you mean 'harm'?"]),
    (["query", "P(harm=yse)"], ["unknown state 'yse' for harm", "choose one of: yes, no",
                                "did you mean 'yes'?"]),
    (["query", "P(harm | shift_type=extrem)"],
     ["unknown state 'extrem' for shift_type",
      "choose one of: superficial, moderate, significant, extreme", "did you mean 'extreme'?"]),
    (["query", "P(harm | shif_type=extreme)"],
     ["unknown variable 'shif_type' in evidence", VARS, "did you mean 'shift_type'?"]),
    (["query", "P(harm | do(alignment_method=interpretability))"],
     ["unknown state 'interpretability' for alignment_method",
      "did you mean 'interpretability_verified'?"]),
    (["query", "P(harm)", "--network", "goal_misgeneralisation"],
     ["unknown network 'goal_misgeneralisation'", "goal_misgeneralization, reward_hacking",
      "did you mean 'goal_misgeneralization'?"]),
    (["query", "P(harm)", "--network", "goal_misgeneralization/../reward_hacking"],
     ["unknown network file", "choose one of: goal_misgeneralization, reward_hacking"]),
    (["query", "P(harm)", "--scenario", "autonomous_agent"],
     ["unknown scenario 'autonomous_agent'", "game_ai", "did you mean 'autonomous_agents'?"]),
    (["query", "P(harm)", "--worldview", "langosco"],
     ["unknown worldview 'langosco'", "document-table", "did you mean 'langosco-2022'?"]),
    (["query", "P(harm)", "--engine", "einsun"],
     ["'--engine'", "'einsun' is not one of 'einsum', 'pgmpy', 'enumeration'"]),
    (["show", "harn"], ["unknown variable 'harn'", VARS, "did you mean 'harm'?"]),
    (["show", ""], ["unknown variable ''", VARS]),
    (["scenarios", "game-ai"], ["unknown scenario 'game-ai'", "did you mean 'game_ai'?"]),
    (["worldviews", "show", "shah"], ["unknown worldview 'shah'", "did you mean 'shah-2022'?"]),
    (["worldviews", "diff", "document-table", "krakovna"],
     ["unknown worldview 'krakovna'", "did you mean 'krakovna-2020'?"]),
    (["compare", "--target", "harn=yes"], ["unknown variable 'harn' as target",
                                           "did you mean 'harm'?"]),
    (["compare", "--target", "harm=yse"], ["unknown state 'yse' for harm",
                                           "did you mean 'yes'?"]),
    (["compare", "--given", "shift_type=extrem"], ["unknown state 'extrem' for shift_type",
                                                   "did you mean 'extreme'?"]),
    (["compare", "--context", "neutrl"], ["'--context'", "'baseline', 'prior'"]),
    (["audit", "--worldview", "document_note"], ["unknown worldview 'document_note'",
                                                 "did you mean 'document-note'?"]),
    (["bogus"], ["No such command 'bogus'"]),
    (["query", "P(harm)", "--bogus"], ["No such option '--bogus'"]),
]


@pytest.mark.parametrize("args, fragments", NAME_CASES, ids=lambda a: " ".join(map(str, a)))
def test_unknown_names_are_one_line_errors_with_choices(capsys, args, fragments):
    assert_one_line_error(*run(capsys, *args), *fragments)


# ------------------------------------------------------------------ malformed queries
QUERY_CASES = [
    ("P(harm", "cannot parse query 'P(harm'; write it like 'P(harm | "),
    ("harm", "cannot parse query 'harm'"),
    ("", "cannot parse query ''"),
    ("P(harm | )", "has '|' but nothing after it"),
    ("P(harm | a=b=c)", "cannot parse 'a=b=c'"),
    ("P(harm | shift_type=extreme, shift_type=moderate)", "shift_type is given twice"),
    ("P(harm | shift_type=extreme, do(shift_type=moderate))", "shift_type is given twice"),
    ("P(harm | do(shift_type=extreme)", "unclosed do("),
    ("P(harm | do(shift_type=extreme,))", "empty item"),
    ("P(harm | (shift_type=extreme))", "unexpected parenthesis"),
    ("P(hàrm)", "cannot parse query 'P(hàrm)'"),
    ("P(harm=yes | shift_type=ex treme)", "cannot parse 'shift_type=ex treme'"),
]


@pytest.mark.parametrize("text, fragment", QUERY_CASES)
def test_malformed_queries_are_one_line_errors(capsys, text, fragment):
    assert_one_line_error(*run(capsys, "query", text), fragment)


def test_a_very_long_query_is_still_one_short_line(capsys):
    text = "P(harm | " + ", ".join(["shift_type=extreme"] * 2000) + ")"
    code, out, err = run(capsys, "query", text)
    assert_one_line_error(code, out, err, "shift_type is given twice")


# ------------------------------------------------------------------ impossible evidence, conflicts
CONFLICT_CASES = [
    (["query", "P(harm | shift_type=extreme)", "--scenario", "game_ai"],
     ["the evidence (spec_quality=high, shift_type=extreme) is impossible", "probability 0"]),
    (["query", "P(harm | spec_quality=low)", "--scenario", "game_ai"],
     ["spec_quality=low contradicts the scenario's spec_quality=high", "do(spec_quality=low)"]),
    (["query", "P(harm)", "--scenario", "game_ai", "--scenario", "autonomous_agents"],
     ["'game_ai' and 'autonomous_agents'", "spec_quality", "use only one of them"]),
    (["scenarios", "2024-2025", "2028-2030"],
     ["observe capability_level in different states (human_level vs superhuman)"]),
    (["compare", "--given", "harm=yes"], ["cannot condition on harm"]),
    (["compare", "--target", "harm"], ["cannot parse --target 'harm'", "'harm=yes'"]),
    (["compare", "--given", "garbage((("], ["cannot parse --given 'garbage((('"]),
    (["compare", "--given", "spec_quality=low", "--scenario", "game_ai"],
     ["contradicts the scenario's spec_quality=high"]),
    (["audit", "--markdown", "--json"], ["choose one of --markdown and --json"]),
    (["audit", "--scenario", "game_ai"], ["drop --scenario (game_ai)"]),
    (["audit", "--network", "reward_hacking"], ["network 'reward_hacking' has no shift_type"]),
    (["run", "--no-report", "--report", "somewhere.html"],
     ["give --report FILE or --no-report, not both"]),
]


@pytest.mark.parametrize("args, fragments", CONFLICT_CASES, ids=lambda a: " ".join(map(str, a)))
def test_impossible_evidence_and_conflicting_options(capsys, args, fragments):
    assert_one_line_error(*run(capsys, *args), *fragments)


@pytest.mark.parametrize("engine", ["einsum", "pgmpy"])  # enumeration: too big a joint here
def test_impossible_evidence_in_every_engine(capsys, engine):
    # the scenario restricts shift_type to superficial or moderate
    code, out, err = run(capsys, "query", "P(harm=yes | shift_type=extreme)",
                         "--scenario", "game_ai", "--engine", engine)
    assert_one_line_error(code, out, err, "impossible under the model (probability 0)")


# ------------------------------------------------------------------ files: reading
def test_network_files_that_are_not_networks(capsys, tmp_path):
    evil = tmp_path / "evil.yaml"
    evil.write_text('!!python/object/apply:os.system ["echo pwned"]\n')
    binary = tmp_path / "binary.yaml"
    binary.write_bytes(b"\xff\xfe\x00garbage")
    big = tmp_path / "big.yaml"
    big.write_bytes(b"x" * 5_000_001)
    cases = [
        (evil, "could not determine a constructor for the tag"),
        (binary, "cannot read as UTF-8 text"),
        (big, "the limit is 5000000"),
        (pathlib.Path("/etc/hostname"), "expected a mapping with 'name' and 'nodes'"),
    ]
    for path, fragment in cases:
        if not path.exists():
            continue
        assert_one_line_error(*run(capsys, "validate", str(path)), str(path), fragment)
        assert_one_line_error(*run(capsys, "query", "P(harm)", "--network", str(path)),
                              fragment)


def test_validate_missing_file_and_folder(capsys, tmp_path):
    missing = tmp_path / "missing.yaml"
    assert_one_line_error(*run(capsys, "validate", str(missing)), f"no such file: '{missing}'")
    assert_one_line_error(*run(capsys, "validate", str(tmp_path)), "is a directory")


def test_scenario_file_missing(capsys, tmp_path):
    missing = tmp_path / "scenarios.yaml"
    assert_one_line_error(*run(capsys, "scenarios", "--file", str(missing)),
                          str(missing), "no such scenario file")


# ------------------------------------------------------------------ files: writing
def test_output_into_a_missing_folder_is_refused_before_any_work(capsys, tmp_path):
    target = tmp_path / "no" / "such" / "report.html"
    code, out, err = run(capsys, "run", "--report", str(target))
    assert_one_line_error(code, out, err, f"cannot write {target}",
                          f"folder {target.parent} does not exist")
    assert not (tmp_path / "no").exists()  # no folder created behind the user's back
    target = tmp_path / "no" / "validation.md"
    assert_one_line_error(*run(capsys, "audit", "--out", str(target)),
                          f"folder {target.parent} does not exist")


def test_output_paths_that_are_not_files(capsys, tmp_path):
    assert_one_line_error(*run(capsys, "audit", "--out", ""), "--out needs a file name")
    assert_one_line_error(*run(capsys, "audit", "--out", str(tmp_path)), "is a directory")
    assert_one_line_error(*run(capsys, "run", "--report", str(tmp_path)), "is not a file name")
    a_file = tmp_path / "plain.txt"
    a_file.write_text("x")
    assert_one_line_error(*run(capsys, "audit", "--out", str(a_file / "x.md")),
                          f"folder {a_file} does not exist")


@pytest.mark.skipif(not os.path.isdir("/proc/self"), reason="needs Linux /proc")
def test_unwritable_output_path_is_a_one_line_error_naming_the_file(capsys):
    # /proc refuses new files, even to root (a chmod'ed folder would not stop root)
    code, out, err = run(capsys, "audit", "--out", "/proc/gmnet-validation.md")
    assert_one_line_error(code, out, err, "cannot write /proc/gmnet-validation.md: ")
    assert ".gmnet-validation.md." not in err  # the temporary file's name does not leak


def _break_writes(monkeypatch, exc):
    """Every file write writes half its bytes, then fails with ``exc``."""
    real = pathlib.Path.write_bytes

    def half_then_fail(self, data):
        real(self, data[: len(data) // 2])
        raise exc

    monkeypatch.setattr(pathlib.Path, "write_bytes", half_then_fail)


@pytest.mark.parametrize("exc, code, message", [
    (KeyboardInterrupt(), 130, "gmnet: interrupted"),
    (OSError(28, "No space left on device"), 2,
     "gmnet: error: cannot write {target}: No space left on device"),
])
def test_a_failed_write_keeps_the_old_file_whole(capsys, monkeypatch, tmp_path, exc, code,
                                                 message):
    target = tmp_path / "validation.md"
    target.write_text("the good old file\n")
    _break_writes(monkeypatch, exc)
    got, out, err = run(capsys, "audit", "--markdown", "--out", str(target))
    assert got == code
    assert err.strip() == message.format(target=target)
    assert "Traceback" not in err
    assert target.read_text() == "the good old file\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["validation.md"]  # no temp left


def test_a_successful_write_replaces_the_file_whole(capsys, tmp_path):
    target = tmp_path / "audit.json"
    target.write_text("old")
    code, out, err = run(capsys, "audit", "--json", "--out", str(target))
    assert code == 0 and err == ""
    payload = json.loads(target.read_text())
    assert payload["network"] == "goal_misgeneralization"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["audit.json"]


# ------------------------------------------------------------------ no NaN, unexpected errors
def test_json_output_never_carries_nan(capsys):
    from gmnet.cli.common import emit_json

    emit_json({"p": float("nan"), "q": [float("inf"), 0.5], "r": {"s": -float("inf")}})
    out, _ = capsys.readouterr()
    assert json.loads(out) == {"p": None, "q": [None, 0.5], "r": {"s": None}}
    assert "NaN" not in out and "Infinity" not in out


def test_query_json_numbers_are_finite_and_sum_to_one(capsys):
    code, out, _ = run(capsys, "query", "--json",
                       "P(goal_misgeneralizes | harm=yes, do(shift_type=superficial))")
    assert code == 0
    dist = json.loads(out)["distribution"]
    assert all(isinstance(p, float) for p in dist.values())
    assert sum(dist.values()) == pytest.approx(1.0, abs=1e-12)


def test_an_unexpected_failure_exits_1_with_a_debug_hint(capsys, monkeypatch):
    import gmnet.analysis.ask as ask_module

    def broken(*args, **kwargs):
        raise RuntimeError("something inside broke")

    monkeypatch.setattr(ask_module, "resolve", broken)
    code, out, err = run(capsys, "query", "P(harm)")
    assert code == 1 and out == ""
    assert err.strip() == ("gmnet: internal error: RuntimeError: something inside broke "
                           "(rerun with --debug for the traceback)")
    with pytest.raises(RuntimeError, match="something inside broke"):
        main(["--debug", "query", "P(harm)"])


def test_validate_lists_every_problem_on_stdout_and_one_error_line(capsys, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: bad\nnodes:\n"
                   "  a: {states: [x, x], cpt: {kind: uniform, source: t}}\n"
                   "  b: {states: [y, n], parents: [zz], cpt: {kind: uniform, source: t}}\n")
    code, out, err = run(capsys, "validate", str(bad))
    assert code == 2
    problems = [line[4:] for line in out.splitlines()[1:]]
    assert out.splitlines()[0] == f"{bad}: {len(problems)} problems" and len(problems) >= 2
    assert any("duplicate state 'x'" in p for p in problems)
    assert any("'zz'" in p for p in problems)
    assert err.splitlines() == [f"gmnet: error: {bad}: {problems[0]} "
                                f"(and {len(problems) - 1} more)"]
    code, out, err = run(capsys, "validate", "--json", str(bad))
    assert code == 2 and len(err.splitlines()) == 1
    assert json.loads(out) == {"path": str(bad), "valid": False, "problems": problems}
