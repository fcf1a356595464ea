"""One question, one answer: the same question through every surface gives the same number,
goes through the one resolve path, and says what it held."""

from __future__ import annotations

import json

import pytest

pytest.importorskip("fastapi")

from fastapi.testclient import TestClient  # noqa: E402

import gmnet  # noqa: E402
import gmnet.analysis.ask as ask_module  # noqa: E402
from gmnet.cli import main  # noqa: E402
from gmnet.web import create_app  # noqa: E402

# a scenario, a worldview, evidence and do(): everything a question can carry
TEXT = "P(harm=yes | shift_type=extreme, do(capability_level=superhuman))"
SCENARIO, WORLDVIEW = "autonomous_agents", "document-note"
OPTIONS = ["--scenario", SCENARIO, "--worldview", WORLDVIEW]
BODY = {"scenario": [SCENARIO], "worldview": WORLDVIEW, "evidence": {"shift_type": "extreme"},
        "do": {"capability_level": "superhuman"}, "target": "harm", "state": "yes"}


@pytest.fixture(scope="module")
def expected() -> gmnet.Answer:
    return gmnet.ask(TEXT, scenario=SCENARIO, worldview=WORLDVIEW)


@pytest.fixture
def resolutions(monkeypatch):
    """Every call of the one resolve path (its context policy step), as the questions' text."""
    seen: list[str] = []
    real = ask_module._held

    def spy(net, context, mentioned, observed):
        seen.append(context)
        return real(net, context, mentioned, observed)

    monkeypatch.setattr(ask_module, "_held", spy)
    return seen


def cli_json(capsys, *args) -> dict:
    code = main([*args, "--json"])
    out, err = capsys.readouterr()
    assert code == 0, err
    return json.loads(out)


def test_the_answer_and_what_it_held(expected):
    r = expected.resolved
    assert r.held == {"training_diversity": "moderate", "alignment_method": "standard",
                      **{m: "off" for m in ("adversarial_training", "objective_specification",
                                            "interpretability_verification",
                                            "behavior_monitoring", "objective_probing",
                                            "anomaly_detection", "ai_control",
                                            "emergency_shutdown", "human_override")}}
    assert r.evidence == {"spec_quality": "low", "shift_type": "extreme"}
    assert r.worldview == WORLDVIEW and r.scenarios == (SCENARIO,)
    # the plain network operation computed by hand gives the same number
    net = gmnet.apply_worldview(gmnet.load_network(), WORLDVIEW)
    by_hand = net.query("harm", evidence={"spec_quality": "low", "shift_type": "extreme"},
                        do={"capability_level": "superhuman", **r.held})["yes"]
    assert expected.probability == pytest.approx(by_hand, abs=1e-12)
    assert 0.3 < expected.probability < 0.5


def test_every_cli_surface_gives_the_same_number(capsys, expected, resolutions):
    p = expected.probability
    assert cli_json(capsys, "query", TEXT, *OPTIONS)["probability"] == pytest.approx(p, abs=1e-12)
    none = cli_json(capsys, "compare", "--given",
                    "shift_type=extreme, do(capability_level=superhuman)", *OPTIONS)
    assert none["baseline"] == pytest.approx(p, abs=1e-12)  # its "no mitigation" row
    unc = cli_json(capsys, "uncertainty", TEXT, "--samples", "50", *OPTIONS)
    assert unc["point"] == pytest.approx(p, abs=1e-12)
    sens = cli_json(capsys, "sensitivity", TEXT, "--samples", "8", "--no-sobol", *OPTIONS)
    assert sens["point"] == pytest.approx(p, abs=1e-12)
    drawn = cli_json(capsys, "draw", "-q", TEXT, *OPTIONS)
    assert drawn["distribution"]["yes"] == pytest.approx(p, abs=1e-12)
    # and each of them said what it held
    for payload in (none, unc, drawn):
        assert payload["context"] == "baseline"
        assert payload["held"]["alignment_method"] == "standard"
    # each asked through the one resolve path (internal plain network operations, which go
    # through it with nothing held, come on top)
    assert resolutions.count("baseline") == 5


def test_the_web_api_gives_the_same_number(expected, resolutions):
    p = expected.probability
    with TestClient(create_app(), base_url="http://127.0.0.1:8000") as client:
        query = client.post("/api/query", json=BODY).json()
        assert query["probability"] == pytest.approx(p, abs=1e-12)
        assert query["statement"] == expected.statement()
        assert query["assumptions"] == expected.resolved.assumptions()
        unc = client.post("/api/uncertainty", json={**BODY, "samples": 50}).json()
        assert unc["point"] == pytest.approx(p, abs=1e-12)
        compare = client.post("/api/compare", json=BODY).json()
        assert compare["baseline"] == pytest.approx(p, abs=1e-12)
        svg = client.post("/api/diagram", json=BODY).text
        assert f"{p:.1%}" in svg
    # the server resolves each distinct question once through the one path (then caches it)
    assert "baseline" in resolutions


def test_python_surfaces_give_the_same_number(expected):
    q = gmnet.parse_question(TEXT, scenarios=[SCENARIO], worldview=WORLDVIEW)
    assert gmnet.answer(gmnet.load_network(), q).probability == expected.probability
    for engine in ("pgmpy", "enumeration"):
        assert gmnet.answer(gmnet.load_network(), q, engine=engine).probability == \
            pytest.approx(expected.probability, abs=1e-12)
    result, _ = gmnet.compare_question(gmnet.load_network(), q)
    assert result.baseline == pytest.approx(expected.probability, abs=1e-12)
    html = expected._repr_html_()  # the notebook's view
    assert expected.statement() in html and "held at the document&#x27;s baseline" in html


def test_the_prior_context_is_the_population_average():
    """--context prior: nothing held; the mitigations follow their adoption priors."""
    prior = gmnet.ask("P(harm=yes | shift_type=extreme)", context="prior")
    net = gmnet.load_network()
    assert prior.probability == net.query("harm", evidence={"shift_type": "extreme"})["yes"]
    assert prior.resolved.held == {}
    assert round(prior.probability, 4) == 0.2244


def test_the_mitigation_plot_asks_the_same_question(capsys, tmp_path, expected):
    """`gmnet plot mitigations` compares on the question path: its no-mitigation line is the
    answer (and under --context prior, the prior comparison's)."""
    pytest.importorskip("matplotlib")
    out = tmp_path / "m.svg"
    plot = cli_json(capsys, "plot", "mitigations", "-o", str(out), "-q", TEXT, "-n", "50",
                    *OPTIONS)
    assert plot["data"]["baseline"] == pytest.approx(expected.probability, abs=1e-12)
    assert plot["caption"].startswith("context: baseline; held at the document's baseline: ")
    prior = cli_json(capsys, "plot", "mitigations", "-o", str(out), "--context", "prior",
                     "-q", "P(harm=yes | shift_type=extreme)", "-n", "50")
    comparison, _ = gmnet.compare_question(
        gmnet.load_network(),
        gmnet.parse_question("P(harm=yes | shift_type=extreme)", context="prior"))
    assert prior["data"]["baseline"] == pytest.approx(comparison.baseline, abs=1e-12)
    assert prior["caption"].startswith("context: prior; nothing held")
