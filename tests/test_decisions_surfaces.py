"""Decisions on every surface: CLI JSON and text, gmnet plot frontier, the report, the web API."""

from __future__ import annotations

import json

import pytest

import gmnet
from gmnet.cli import main

EXTREME = {"shift_type": "extreme"}


def run(capsys, *args):
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_voi_cli_json_equals_library(capsys):
    code, out, err = run(capsys, "voi", "--json", "--given", "do(shift_type=extreme)",
                         "--budget", "7", "--samples", "800", "--seed", "2")
    assert code == 0, err
    payload = json.loads(out)
    lib = gmnet.value_of_information(gmnet.load_network(), do=EXTREME, budget=7, samples=800,
                                     rng=2)
    assert payload["evpi"] == pytest.approx(lib.evpi, abs=1e-15)
    assert [p["name"] for p in payload["parameters"]] == [p.name for p in lib.parameters]
    assert payload["observations"][0]["variable"] == lib.observations[0].variable
    assert payload["held"]["capability_level"] == "human_level"
    assert payload["target"] == "harm"


def test_voi_cli_text_states_what_it_held(capsys):
    code, out, _ = run(capsys, "voi", "--samples", "0", "--portfolio", "ai_control")
    assert code == 0
    assert "held at the document's baseline: spec_quality=medium" in out
    assert "ai_control=on" in out.splitlines()[0]
    assert "Observations (exact)" in out and "EVPI" not in out


def test_threshold_cli(capsys):
    code, out, err = run(capsys, "threshold", "m_interpretability_verification", "--json",
                         "--given", "do(shift_type=extreme)", "--between",
                         "interpretability_verification", "ai_control")
    assert code == 0, err
    payload = json.loads(out)
    assert payload["crossings"][0]["value"] == pytest.approx(0.25, abs=1e-8)
    assert payload["crossings"][0]["inside_declared_range"] is False
    code, out, err = run(capsys, "threshold", "ai_control_reduction", "--below", "0.05",
                         "--portfolio", "ai_control", "--given", "do(shift_type=extreme)")
    assert code == 0, err
    assert "for ai_control_reduction in [0.8194" in out
    code, _, err = run(capsys, "threshold", "ai_control_reduction", "--below", "0.05",
                       "--between", "none", "ai_control")
    assert code == 2 and "give --below or --between, not both" in err


def test_bounds_cli(capsys):
    code, out, err = run(capsys, "bounds", "--json", "--given", "do(shift_type=extreme)",
                         "--samples", "500")
    assert code == 0, err
    payload = json.loads(out)
    assert payload["min"] == pytest.approx(0.135, abs=1e-12)
    assert payload["argmin"] == {"m_spec.medium": 0.8, "p_harm_given_failure.extreme": 0.5}
    assert payload["exhaustive"] is True and payload["corners_suffice"] is True
    lo, hi = payload["pert_interval_90"]
    assert payload["min"] <= lo <= hi <= payload["max"]


def test_plot_frontier_writes_the_figure(capsys, tmp_path):
    out = tmp_path / "frontier.svg"
    code, text, err = run(capsys, "plot", "frontier", "-o", str(out), "--budget", "3",
                          "--samples", "100", "--query", "P(harm=yes | do(shift_type=extreme))")
    assert code == 0, err
    svg = out.read_text()
    assert svg.startswith("<?xml") and "Pareto frontier" in svg and "budget 3" in svg
    assert "held at the document's baseline" in text.lower()


def test_report_has_the_decisions_section():
    from gmnet.report import build_report

    html = build_report(gmnet.load_network(), sections=["decisions"], samples=300, rng=0)
    assert '<section id="decisions"' in html
    assert "Within a budget of 4.5 the best is" in html
    assert "EVPPI" in html and "data:image/svg+xml;base64," in html


# ============================================================================ web API
fastapi = pytest.importorskip("fastapi", reason="the web API needs fastapi")


@pytest.fixture(scope="module")
def client():
    from fastapi.testclient import TestClient

    from gmnet.web import create_app

    with TestClient(create_app(), base_url="http://127.0.0.1") as c:
        yield c


def test_web_portfolios_equal_library(client):
    r = client.post("/api/decisions/portfolios",
                    json={"do": EXTREME, "budget": 3, "samples": 0, "figure": True})
    assert r.status_code == 200, r.text
    body = r.json()
    lib = gmnet.portfolio_analysis(gmnet.load_network(), do=EXTREME, budget=3, samples=0)
    assert body["best"]["mitigations"] == list(lib.best_row.mitigations)
    assert body["best"]["p_harm"] == pytest.approx(lib.best_row.p_harm, abs=1e-15)
    assert body["figure_svg"].startswith("<svg") and "Pareto frontier" in body["caption"]


@pytest.mark.parametrize("payload, field, words", [
    ({"budget": -1}, "budget", "greater than or equal to 0"),
    ({"do": {"ai_control": "on"}}, "do.ai_control", "is a mitigation"),
    ({"samples": 10 ** 6}, "samples", "less than or equal to"),
    ({"target": "nope", "samples": 0}, "target", "unknown variable 'nope'"),
    ({"state": "maybe", "samples": 0}, "state", "unknown state 'maybe' for harm"),
    ({"max_size": -1}, "max_size", "greater than or equal to 0"),
])
def test_web_portfolios_bad_input_names_the_field(client, payload, field, words):
    r = client.post("/api/decisions/portfolios", json=payload)
    assert 400 <= r.status_code < 500
    assert r.json()["field"] == field and words in r.json()["error"]


def test_web_voi(client):
    r = client.post("/api/decisions/voi", json={"samples": 0, "portfolio": ["ai_control"]})
    assert r.status_code == 200, r.text
    assert r.json()["portfolio"] == ["ai_control"]
    r = client.post("/api/decisions/voi", json={"samples": 0, "portfolio": ["nope"]})
    assert r.status_code == 422 and r.json()["field"] == "portfolio"
