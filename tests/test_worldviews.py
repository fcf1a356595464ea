"""Worldviews: the data file, what each one does to the core table, diffs and errors."""

import json

import pytest

from gmnet.cli import main
from gmnet.errors import NetworkFileError, UnknownNameError
from gmnet.model.worldviews import (
    apply_worldview,
    load_worldviews,
    worldview_diff,
)

SHIFTS = ("superficial", "moderate", "significant", "extreme")
CAP = (0.85, 0.65, 0.55, 0.45)
GOAL = (0.12, 0.28, 0.55, 0.75)
PM = (0.036, 0.100, 0.218, 0.277)


def p_harm(net, shift):
    neutral = {k: v for k, v in net.metadata["neutral_context"].items() if k in net.variables}
    return net.query("harm", do={**neutral, "shift_type": shift})["yes"]


def run(capsys, *args):
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_bundled_worldviews():
    catalog = load_worldviews()
    assert list(catalog) == ["document-table", "document-note", "meta-analysis-pooled",
                             "langosco-2022", "krakovna-2020", "shah-2022"]
    assert catalog.default == "document-table"
    assert all(w.applies_to is None for w in catalog.values())


def test_document_table_is_the_network(net):
    same = apply_worldview(net, "document-table")
    for shift, pm in zip(SHIFTS, PM, strict=True):
        assert p_harm(same, shift) == pytest.approx(pm, abs=1e-12)
    assert same.metadata["worldview"] == "document-table"


def test_document_note_takes_60_percent(net):
    note = apply_worldview(net, "document-note")
    for shift, cap, goal in zip(SHIFTS, CAP, GOAL, strict=True):
        assert p_harm(note, shift) == pytest.approx(cap * goal * 0.60, abs=1e-12)
        p = note.parameter(f"p_harm_given_failure.{shift}")
        assert (p.value, p.low, p.high) == (0.6, 0.5, 0.7)
    # the loaded network keeps its own numbers
    assert p_harm(net, "extreme") == pytest.approx(0.277, abs=1e-12)


@pytest.mark.parametrize("name, factors", [
    ("meta-analysis-pooled", (0.87, 0.76, 0.45)),
    ("langosco-2022", (0.95, 0.89, 0.60)),
    ("krakovna-2020", (0.87, 0.73, 0.41)),
    ("shah-2022", (0.78, 0.65, 0.35)),
])
def test_studies_apply_to_every_shift_type(net, name, factors):
    study = apply_worldview(net, name)
    for shift in SHIFTS:
        assert p_harm(study, shift) == pytest.approx(factors[0] * factors[1] * factors[2],
                                                     abs=1e-12)


def test_pooled_ranges_span_the_studies(net):
    pooled = apply_worldview(net, "meta-analysis-pooled")
    p = pooled.parameter("p_goal_failure.moderate")
    assert (p.value, p.low, p.high) == (0.76, 0.65, 0.89)


def test_diff_lists_numbers_and_effects(net):
    diff = worldview_diff(net, "document-table", "document-note")
    assert [c.name for c in diff.changes] == [f"p_harm_given_failure.{s}" for s in SHIFTS]
    effects = {e.shift_type: e for e in diff.effects}
    assert effects["extreme"].before["p_harm"] == pytest.approx(0.277, abs=1e-12)
    assert effects["extreme"].after["p_harm"] == pytest.approx(0.45 * 0.75 * 0.6, abs=1e-12)
    assert effects["superficial"].ratio == pytest.approx(0.85 * 0.12 * 0.6 / 0.036, abs=1e-9)
    assert effects["moderate"].after["p_capability_transfer"] == pytest.approx(0.65)
    assert diff.to_dict()["changes"][0]["after"]["range"] == [0.5, 0.7]


def test_unknown_worldview(net):
    with pytest.raises(UnknownNameError, match="unknown worldview 'document_note'; choose one "
                                               "of: document-table, document-note"):
        apply_worldview(net, "document_note")


def write(tmp_path, text):
    path = tmp_path / "worldviews.yaml"
    path.write_text("format: gmnet-worldviews/1\nnetwork: goal_misgeneralization\n" + text)
    return path


def test_applies_to_limits_the_wildcard(tmp_path, net):
    path = write(tmp_path, """
worldviews:
  extreme-only:
    applies_to: [extreme]
    overrides:
      p_harm_given_failure.*: {value: 0.5, source: test}
""")
    w = load_worldviews(path)["extreme-only"]
    changed = w.apply(net)
    assert changed.parameter("p_harm_given_failure.extreme").value == 0.5
    assert p_harm(changed, "extreme") == pytest.approx(0.45 * 0.75 * 0.5, abs=1e-12)
    assert p_harm(changed, "moderate") == pytest.approx(0.100, abs=1e-12)


def test_file_problems_are_all_reported(tmp_path):
    path = write(tmp_path, """
default: document
worldviews:
  typo:
    overrides:
      p_goal_falure.*: {value: 0.5, source: test}
  out-of-range:
    overrides:
      p_goal_failure.*: {value: 1.5, source: test}
  scalar-wildcard:
    overrides:
      route_share.*: {value: 0.5, source: test}
  outside-applies-to:
    applies_to: [extreme]
    overrides:
      p_goal_failure.moderate: {value: 0.5, source: test}
  bad-shift:
    applies_to: [extrme]
""")
    with pytest.raises(NetworkFileError) as exc:
        load_worldviews(path)
    problems = exc.value.problems
    assert problems[0].startswith("default: unknown worldview 'document'")
    assert problems[1].startswith("worldview 'typo': overrides: unknown parameter "
                                  "'p_goal_falure.*'")
    assert problems[2].startswith("worldview 'out-of-range': ")
    assert "1.5 is not a probability" in problems[2]
    assert problems[3] == ("worldview 'scalar-wildcard': overrides: 'route_share.*': route_share "
                           "is a single number, not indexed; write 'route_share'")
    assert problems[4] == ("worldview 'outside-applies-to': overrides: 'p_goal_failure.moderate'"
                           " is for shift type 'moderate', which applies_to leaves out (extreme)")
    assert problems[5].startswith("worldview 'bad-shift': applies_to: unknown state 'extrme' "
                                  "for shift_type")
    assert len(problems) == 6


def test_cli_diff_json(capsys):
    code, out, _ = run(capsys, "worldviews", "diff", "document-table", "langosco-2022", "--json")
    assert code == 0
    payload = json.loads(out)
    assert len(payload["changes"]) == 12
    extreme = next(e for e in payload["effects"] if e["shift_type"] == "extreme")
    assert extreme["after"]["p_harm"] == pytest.approx(0.95 * 0.89 * 0.60, abs=1e-12)


def test_cli_diff_text_and_list(capsys):
    code, out, _ = run(capsys, "worldviews", "diff", "document-table", "document-note")
    assert code == 0
    assert "Numbers (4 changed):" in out
    assert "p_harm_given_failure.extreme" in out
    assert "every mitigation off" in out
    code, out, _ = run(capsys, "worldviews")
    assert code == 0 and "document-table" in out and "(default)" in out


def test_cli_unknown_worldview_exits_2(capsys):
    code, _, err = run(capsys, "worldviews", "show", "pooled")
    assert code == 2
    assert err.startswith("gmnet: error: unknown worldview 'pooled'; choose one of:")
