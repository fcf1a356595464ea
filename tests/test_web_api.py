"""The web API: status codes, JSON bodies, limits; every number equals the library's."""

from __future__ import annotations

import json
import threading

import pytest

pytest.importorskip("fastapi", reason="the web API needs fastapi: pip install 'gmnet[web]'")

from fastapi.testclient import TestClient  # noqa: E402

import gmnet  # noqa: E402
from gmnet.web import create_app  # noqa: E402
from gmnet.web.models import MAX_SAMPLES  # noqa: E402

BASE = "http://127.0.0.1"
MITIGATIONS_OFF = {m: "off" for m in ("adversarial_training", "objective_specification",
                                      "interpretability_verification", "behavior_monitoring",
                                      "objective_probing", "anomaly_detection", "ai_control",
                                      "emergency_shutdown", "human_override")}


@pytest.fixture(scope="module")
def app():
    return create_app()


@pytest.fixture(scope="module")
def client(app):
    with TestClient(app, base_url=BASE) as c:
        yield c


# ============================================================================ questions
def test_query_equals_library(client, net):
    body = {"evidence": {"spec_quality": "low"},
            "do": {"shift_type": "extreme", "ai_control": "on"}}
    r = client.post("/api/query", json=body)
    assert r.status_code == 200
    payload = r.json()
    # the Question path: what the CLI and gmnet.ask give for the same question
    expected = gmnet.ask("P(harm=yes | spec_quality=low, do(shift_type=extreme, ai_control=on))",
                         network=net).distribution
    assert payload["distribution"] == expected
    assert payload["probability"] == expected["yes"]
    assert payload["context"] == "baseline"
    assert payload["held"]["capability_level"] == "human_level"
    assert payload["held"]["behavior_monitoring"] == "off" and "ai_control" not in payload["held"]
    assert payload["statement"].startswith("P(harm=yes | spec_quality=low, do(shift_type=extreme, "
                                           "ai_control=on)) = ")
    assert payload["target"] == "harm" and payload["state"] == "yes"
    assert payload["query"] == ("P(harm=yes | spec_quality=low, "
                                "do(shift_type=extreme, ai_control=on))")
    assert payload["evidence"] == {"spec_quality": "low"}
    assert payload["scenario"] == [] and payload["worldview"] is None


def test_query_reproduces_the_core_table(client, net):
    from gmnet.analysis.whatif import neutral_context

    do = {**neutral_context(net), "shift_type": "extreme"}
    r = client.post("/api/query", json={"do": do, "target": "harm", "state": "yes"})
    assert r.status_code == 200
    assert r.json()["probability"] == pytest.approx(0.277, abs=1e-12)


def test_query_other_target_and_state(client, net):
    r = client.post("/api/query", json={"target": "capability_transfer", "state": "no",
                                        "evidence": {"shift_type": "moderate"}})
    assert r.status_code == 200
    assert r.json()["probability"] == pytest.approx(0.35, abs=1e-12)
    assert r.json()["probability"] == net.query(
        "capability_transfer", evidence={"shift_type": "moderate"})["no"]


def test_marginals_equal_library(client, net):
    from gmnet.viz.diagram import node_marginals

    body = {"evidence": {"capability_level": "superhuman"}, "do": {"shift_type": "extreme"}}
    r = client.post("/api/marginals", json=body)
    assert r.status_code == 200
    marginals = r.json()["marginals"]
    assert list(marginals) == list(net.variables)
    held = gmnet.ask("P(harm | capability_level=superhuman, do(shift_type=extreme))",
                     network=net).resolved.do
    assert marginals == node_marginals(net, body["evidence"], held)
    assert r.json()["held"]["spec_quality"] == "medium"
    assert marginals["shift_type"] == {"superficial": 0.0, "moderate": 0.0, "significant": 0.0,
                                       "extreme": 1.0}


def test_diagram_is_svg_with_every_node_and_the_target_probability(client, net):
    body = {"do": {"shift_type": "extreme", **MITIGATIONS_OFF}}
    r = client.post("/api/diagram", json=body)
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("image/svg+xml")
    svg = r.text
    assert svg.lstrip().startswith("<?xml") or svg.lstrip().startswith("<svg")
    for v in net.variables:
        assert f"<title>{v}</title>" in svg
    p = gmnet.ask("P(harm=yes | do(shift_type=extreme))", network=net).probability
    assert round(p, 3) == 0.277 and f"{p:.1%}" in svg  # the baseline: the document's Type 4


def test_diagram_title(client):
    r = client.post("/api/diagram", json={"title": "A title of my own"})
    assert r.status_code == 200 and "A title of my own" in r.text


def test_compare_equals_library(client, net):
    body = {"evidence": {"shift_type": "extreme"}, "context": "prior"}
    r = client.post("/api/compare", json={**body, "all_portfolios": True})
    assert r.status_code == 200
    payload = r.json()
    expected = gmnet.compare_mitigations(net, evidence={"shift_type": "extreme"},
                                         context="prior")
    assert payload["baseline"] == expected.baseline
    assert payload["all_on"] == expected.all_on
    rows = {p["name"]: p["probability"] for p in payload["portfolios"]}
    assert rows == {p.name: p.probability for p in expected.portfolios}
    assert {m["name"]: m["shapley"] for m in payload["mitigations"]} == {
        v.name: v.shapley for v in expected.values}
    assert len(payload["all_portfolios"]) == 2 ** len(expected.names)
    # with the context at its priors, a portfolio's row equals the query with it switched on
    alone = client.post("/api/query", json={"evidence": {"shift_type": "extreme"},
                                            "context": "prior",
                                            "do": {**MITIGATIONS_OFF, "ai_control": "on"}})
    assert alone.json()["probability"] == pytest.approx(rows["ai_control"], abs=1e-12)


def test_compare_neutral_context_ai_control_75_percent(client):
    r = client.post("/api/compare", json={})
    assert r.status_code == 200
    values = {m["name"]: m for m in r.json()["mitigations"]}
    assert values["ai_control"]["alone_relative"] == pytest.approx(0.75, abs=0.01)


def test_compare_rejects_a_mitigation_in_do_naming_the_field(client):
    r = client.post("/api/compare", json={"do": {"ai_control": "on"}})
    assert r.status_code == 400
    assert r.json()["field"] == "do.ai_control"
    assert "ai_control is a mitigation" in r.json()["error"]


def test_core_table(client):
    r = client.get("/api/core-table")
    assert r.status_code == 200
    rows = {row["shift_type"]: row for row in r.json()["rows"]}
    assert [round(rows[s]["p_harmful_misgeneralization"], 3)
            for s in ("superficial", "moderate", "significant", "extreme")] == [
        0.036, 0.100, 0.218, 0.277]


# ============================================================================ the network
def test_networks_list_and_description(client, net):
    r = client.get("/api/networks")
    assert r.status_code == 200
    assert r.json() == [{"name": "goal_misgeneralization", "title": net.title, "default": True}]
    r = client.get("/api/networks/goal_misgeneralization")
    assert r.status_code == 200
    d = r.json()
    assert d["default_target"] == "harm" and d["default_state"] == "yes"
    assert [n["name"] for n in d["nodes"]] == list(net.variables)
    nodes = {n["name"]: n for n in d["nodes"]}
    assert nodes["ai_control"]["role"] == "mitigation"
    assert nodes["shift_type"]["role"] == "context"
    assert nodes["shift_type"]["states"] == list(net.states("shift_type"))
    assert "p_capability_transfer.extreme" in nodes["capability_transfer"]["parameters"]
    params = {p["name"]: p for p in d["parameters"]}
    assert len(params) == len(net.parameters)
    p = net.parameters["p_capability_transfer.extreme"]
    assert params[p.name]["value"] == p.value and params[p.name]["source"] == p.source
    assert d["neutral_context"] == net.metadata["neutral_context"]


def test_unknown_network_is_404_listing_the_served_ones(client):
    r = client.get("/api/networks/asia")
    assert r.status_code == 404
    assert r.json()["error"].startswith("unknown network 'asia'")
    assert "goal_misgeneralization" in r.json()["error"]
    r = client.post("/api/query", json={"network": "asia"})
    assert r.status_code == 404 and r.json()["field"] == "network"


def test_no_paths_from_the_client(client):
    for ref in ("../networks/goal_misgeneralization.yaml", "/etc/passwd", "x.yaml"):
        r = client.post("/api/query", json={"network": ref})
        assert r.status_code in (404, 422), ref
        assert r.json()["field"] == "network"


# ============================================================================ errors
@pytest.mark.parametrize("body, status, field, message", [
    ({"evidence": {"shift_type": "extrme"}}, 422, "evidence.shift_type",
     "unknown state 'extrme' for shift_type; choose one of: superficial, moderate, significant, "
     "extreme (did you mean 'extreme'?)"),
    ({"do": {"shift": "extreme"}}, 422, "do.shift", "unknown variable 'shift' in do()"),
    ({"target": "harmm"}, 422, "target", "unknown variable 'harmm' as target"),
    ({"state": "maybe"}, 422, "state", "unknown state 'maybe' for harm"),
    ({"evidence": {"shift_type": "extreme"}, "do": {"shift_type": "moderate"}}, 422,
     "do.shift_type", "shift_type is both observed"),
    ({"evidence": {"capability_transfer": "no", "goal_misgeneralizes": "yes"}}, 422, "evidence",
     "the evidence (capability_transfer=no, goal_misgeneralizes=yes) is impossible"),
    ({"evidenc": {}}, 422, "evidenc", "evidenc: unknown field"),
    # fields named as a location (a question's text sent as "query"): named all the same
    ({"query": "P(harm=yes)"}, 422, "query", "query: unknown field"),
    ({"evidence": {"path": 3}}, 422, "evidence.path", "evidence.path: "),
    ({"evidence": ["shift_type"]}, 422, "evidence", "evidence: "),
    ({"evidence": {"shift_type": 3}}, 422, "evidence.shift_type", "evidence.shift_type: "),
])
def test_query_errors_name_the_field(client, body, status, field, message):
    r = client.post("/api/query", json=body)
    assert r.status_code == status
    payload = r.json()
    assert payload["field"] == field
    assert payload["error"].startswith(message)


def test_malformed_json_is_400_naming_the_body(client):
    r = client.post("/api/query", content=b"{not json", headers={"content-type":
                                                                  "application/json"})
    assert r.status_code == 400
    assert r.json() == {"error": "the request body is not valid JSON (Expecting property name "
                        "enclosed in double quotes, at character 1); send one JSON object",
                        "field": "body"}


def test_unknown_endpoint_and_method(client):
    r = client.get("/api/nothing")
    assert r.status_code == 404 and r.json() == {"error": "no such page or endpoint: "
                                                 "/api/nothing", "field": None}
    r = client.get("/api/query")
    assert r.status_code == 405 and r.json()["error"] == "GET is not allowed on /api/query"


# ============================================================================ limits
def test_body_size_limit(app):
    small = create_app(max_body_bytes=200)
    with TestClient(small, base_url=BASE) as c:
        r = c.post("/api/query", json={"evidence": {f"v{i}": "x" for i in range(50)}})
        assert r.status_code == 413
        assert r.json() == {"error": "the request body is over the limit of 200 bytes",
                            "field": "body"}
        assert c.post("/api/query", json={}).status_code == 200


def test_too_many_assignments(client):
    r = client.post("/api/query", json={"evidence": {f"v{i}": "x" for i in range(201)}})
    assert r.status_code == 422 and r.json()["field"] == "evidence"


def test_host_header_is_checked(client):
    r = client.get("/api/health", headers={"host": "attacker.example:8000"})
    assert r.status_code == 400
    assert r.json()["field"] == "host"
    assert client.get("/api/health", headers={"host": "localhost:8000"}).status_code == 200


def test_no_cors(client):
    r = client.post("/api/query", json={}, headers={"origin": "http://attacker.example"})
    assert r.status_code == 200
    assert not any(h.lower().startswith("access-control-") for h in r.headers)
    r = client.options("/api/query", headers={"origin": "http://attacker.example",
                                              "access-control-request-method": "POST"})
    assert r.status_code == 405
    assert not any(h.lower().startswith("access-control-") for h in r.headers)


def test_security_headers(client):
    r = client.get("/")
    assert r.status_code == 200
    assert "default-src 'self'" in r.headers["content-security-policy"]
    assert r.headers["x-content-type-options"] == "nosniff"
    assert client.post("/api/query", json={}).headers["cache-control"] == "no-store"


def test_time_limit_503_and_504_while_others_go_on(monkeypatch):
    """A computation past the time limit gets 504; a request that finds no free worker gets
    503; the server keeps answering once a worker is free."""
    import gmnet.analysis.compare as mitigations

    release = threading.Event()
    real = mitigations.compare_mitigations

    def stuck(*args, **kwargs):
        release.wait(10)
        return real(*args, **kwargs)

    monkeypatch.setattr(mitigations, "compare_mitigations", stuck)
    slow = create_app(timeout=0.3, workers=1)
    with TestClient(slow, base_url=BASE) as c:
        try:
            r = c.post("/api/compare", json={})
            assert r.status_code == 504
            assert r.json()["error"].startswith("the computation took longer than the time "
                                                "limit of 0.3 s")
            r = c.post("/api/query", json={})  # the only worker is still stuck
            assert r.status_code == 503
            assert r.json()["error"].startswith("the server is busy")
        finally:
            release.set()
        for _ in range(50):  # the stuck computation finishes; then queries are answered again
            r = c.post("/api/query", json={})
            if r.status_code == 200:
                break
        assert r.status_code == 200


def test_create_app_validates_its_options():
    with pytest.raises(gmnet.InvalidArgumentError, match="timeout must be a positive number"):
        create_app(timeout=0)
    with pytest.raises(gmnet.InvalidArgumentError, match="workers must be at least 1"):
        create_app(workers=0)
    with pytest.raises(gmnet.UnknownNameError, match="unknown network 'nope'"):
        create_app(["nope"])


# ============================================================================ schema and page
def test_openapi_schema_describes_the_api(client):
    schema = client.get("/openapi.json").json()
    paths = schema["paths"]
    for path in ("/api/query", "/api/compare", "/api/diagram", "/api/marginals",
                 "/api/networks", "/api/networks/{name}", "/api/core-table"):
        assert path in paths, path
    components = schema["components"]["schemas"]
    assert components["QueryRequest"]["additionalProperties"] is False
    assert "evidence" in components["QueryRequest"]["properties"]
    assert client.get("/docs").status_code == 404  # the docs page would load a CDN script


def test_page_and_assets_are_local(client):
    import re

    page = client.get("/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert '<script type="module" src="/static/js/main.js"></script>' in page.text
    # the page's ES modules: main.js and everything it imports, each served as JavaScript
    scripts, todo = {}, ["/static/js/main.js"]
    while todo:
        path = todo.pop()
        if path in scripts:
            continue
        r = client.get(path)
        assert r.status_code == 200 and "javascript" in r.headers["content-type"], path
        scripts[path] = r.text
        todo += ["/static/js/" + m for m in re.findall(r'from "\./([a-z]+\.js)"', r.text)]
    assert len(scripts) >= 8
    css = client.get("/static/style.css")
    assert css.status_code == 200 and "css" in css.headers["content-type"]
    for text in [page.text, css.text, *scripts.values()]:
        for marker in ("https://", "//cdn", "@import", "url(http"):
            assert marker not in text
    # the only absolute URL in the scripts is the SVG namespace (an identifier, never fetched)
    assert sum(text.count("http://") for text in scripts.values()) == 1


def test_health(client):
    r = client.get("/api/health")
    assert r.json()["limits"]["max_samples"] == MAX_SAMPLES
    assert json.dumps(r.json())


def test_serving_two_networks(tmp_path):
    from pathlib import Path

    toy = Path(__file__).parent / "networks" / "chain.yaml"
    two = create_app([None, toy])
    with TestClient(two, base_url=BASE) as c:
        names = [n["name"] for n in c.get("/api/networks").json()]
        assert names[0] == "goal_misgeneralization" and len(names) == 2
        other = gmnet.load_network(toy)
        r = c.post("/api/query", json={"network": other.name})
        assert r.status_code == 200
        target = r.json()["target"]
        assert r.json()["distribution"] == other.query(target)


# ============================================================================ scenarios, worldviews
def test_query_under_scenarios_and_worldview_equals_library(client, net):
    from gmnet.model.scenarios import apply, merge_evidence

    body = {"scenario": ["autonomous_agents", "2026-2027"], "worldview": "document-note",
            "do": {"ai_control": "on"}}
    r = client.post("/api/query", json=body)
    assert r.status_code == 200
    applied, scenario_evidence = apply(net, scenario=body["scenario"],
                                       worldview=body["worldview"])
    evidence = merge_evidence(scenario_evidence, {}, body["do"])
    held = gmnet.ask("P(harm | do(ai_control=on))", network=net, scenario=body["scenario"],
                     worldview=body["worldview"]).resolved.held
    expected = applied.query("harm", evidence=evidence, do={**body["do"], **held})
    assert set(held) == {"training_diversity", "alignment_method", "adversarial_training",
                         "objective_specification", "interpretability_verification",
                         "behavior_monitoring", "objective_probing", "anomaly_detection",
                         "emergency_shutdown", "human_override"}
    payload = r.json()
    assert payload["distribution"] == expected
    assert payload["evidence"] == {"spec_quality": "low", "capability_level": "human_level"}
    assert payload["scenario"] == body["scenario"] and payload["worldview"] == "document-note"
    # the scenario changes the answer
    plain = client.post("/api/query", json={"do": {"ai_control": "on"}}).json()["probability"]
    assert payload["probability"] != pytest.approx(plain, abs=1e-6)


def test_do_wins_over_a_scenario_observation(client):
    r = client.post("/api/query", json={"scenario": ["game_ai"], "do": {"spec_quality": "low"}})
    assert r.status_code == 200
    assert r.json()["evidence"] == {} and r.json()["do"]["spec_quality"] == "low"
    assert "spec_quality" not in r.json()["held"]


@pytest.mark.parametrize("body, status, field, message", [
    ({"scenario": ["autonomous_agentz"]}, 404, "scenario",
     "unknown scenario 'autonomous_agentz'; choose one of: game_ai,"),
    ({"worldview": "optimist"}, 404, "worldview",
     "unknown worldview 'optimist'; choose one of: document-table,"),
    ({"scenario": ["game_ai", "autonomous_agents"]}, 400, "scenario",
     "scenarios 'game_ai' and 'autonomous_agents' observe spec_quality in different states"),
    ({"scenario": ["game_ai"], "evidence": {"spec_quality": "low"}}, 400,
     "evidence.spec_quality", "evidence spec_quality=low contradicts the scenario's "
     "spec_quality=high"),
    ({"scenario": ["game_ai"] * 9}, 422, "scenario", "scenario: "),
])
def test_scenario_and_worldview_errors(client, body, status, field, message):
    r = client.post("/api/query", json=body)
    assert r.status_code == status
    assert r.json()["field"] == field
    assert r.json()["error"].startswith(message)


def test_compare_under_a_scenario_equals_the_cli_rule(client, net):
    """At the neutral context a scenario's reshaped priors are kept (as gmnet compare does)."""
    from gmnet.model.scenarios import apply

    r = client.post("/api/compare", json={"scenario": ["autonomous_agents"]})
    assert r.status_code == 200
    applied, evidence = apply(net, scenario=["autonomous_agents"])
    expected = gmnet.compare_mitigations(applied, evidence=evidence,
                                         keep_priors=["shift_type"])
    assert r.json()["baseline"] == expected.baseline
    assert "shift_type" not in r.json()["do"]


def test_scenarios_and_worldviews_lists(client):
    from gmnet.model.scenarios import load_scenarios
    from gmnet.model.worldviews import load_worldviews

    r = client.get("/api/scenarios")
    assert r.status_code == 200
    listed = r.json()["scenarios"]
    assert [s["name"] for s in listed] == list(load_scenarios())
    agents = next(s for s in listed if s["name"] == "autonomous_agents")
    assert agents["kind"] == "domain" and agents["evidence"] == {"spec_quality": "low"}
    r = client.get("/api/worldviews")
    assert r.status_code == 200
    assert r.json()["default"] == "document-table"
    assert [w["name"] for w in r.json()["worldviews"]] == list(load_worldviews())


def test_worldview_diff_equals_library(client, net):
    from gmnet.model.worldviews import worldview_diff

    r = client.get("/api/worldviews/diff", params={"a": "document-table", "b": "document-note"})
    assert r.status_code == 200
    expected = worldview_diff(net, "document-table", "document-note").to_dict()
    assert r.json() == json.loads(json.dumps(expected))
    r = client.get("/api/worldviews/diff", params={"a": "document-table", "b": "nope"})
    assert r.status_code == 404 and r.json()["field"] == "b"


def test_audit_equals_library(client, net):
    from gmnet.analysis.audit import audit
    from gmnet.model.worldviews import apply_worldview

    r = client.get("/api/audit")
    assert r.status_code == 200
    report = r.json()
    assert report["verdicts"] == audit(net).verdicts()
    core = next(s for s in report["sections"]
                if s["table"] == "Detailed Risk Assessment by Shift Type")
    assert {row["verdict"] for row in core["rows"]} == {"reproduced"}
    r = client.get("/api/audit", params={"worldview": "document-note"})
    assert r.status_code == 200
    assert r.json()["verdicts"] == audit(apply_worldview(net, "document-note")).verdicts()
    assert r.json()["worldview"] == "document-note"


def test_description_follows_the_worldview(client, net):
    r = client.get("/api/networks/goal_misgeneralization",
                   params={"worldview": "meta-analysis-pooled"})
    assert r.status_code == 200
    params = {p["name"]: p for p in r.json()["parameters"]}
    assert params["p_capability_transfer.extreme"]["value"] == 0.87
    assert params["p_capability_transfer.extreme"]["source"].startswith(
        "Meta-Analysis of Specification Gaming")
    assert net.parameters["p_capability_transfer.extreme"].value == 0.45  # never mutated


# ============================================================================ uncertainty
def test_uncertainty_equals_library(client, net):
    from gmnet.analysis.uncertainty import uncertainty

    body = {"do": {"shift_type": "extreme"}, "samples": 500, "seed": 7, "bins": 12}
    r = client.post("/api/uncertainty", json=body)
    assert r.status_code == 200
    payload = r.json()
    held = gmnet.ask("P(harm=yes | do(shift_type=extreme))", network=net).resolved.do
    expected = uncertainty(net, "harm", "yes", do=held, samples=500, rng=7)
    assert payload["quantiles"] == {f"{q:g}": v for q, v in expected.quantiles().items()}
    assert payload["point"] == expected.point
    assert payload["point"] == pytest.approx(0.277, abs=1e-12)  # the document's Type 4
    assert payload["samples"] == 500 and payload["seed"] == 7
    counts, edges = expected.histogram(12)
    assert payload["histogram"] == {"counts": counts.tolist(), "edges": edges.tolist()}
    assert sum(payload["histogram"]["counts"]) == 500
    # the same seed gives the same numbers
    assert client.post("/api/uncertainty", json=body).json()["quantiles"] == payload["quantiles"]


def test_uncertainty_under_a_scenario(client, net):
    from gmnet.analysis.uncertainty import uncertainty

    r = client.post("/api/uncertainty", json={"scenario": ["autonomous_agents"], "samples": 300,
                                              "unknowns": False})
    assert r.status_code == 200
    r2 = gmnet.ask("P(harm=yes)", network=net, scenario="autonomous_agents").resolved
    expected = uncertainty(r2.network, "harm", "yes", evidence=r2.evidence, do=r2.do,
                           samples=300, rng=0, unknowns=False)
    assert r.json()["median"] == expected.median
    assert r.json()["critical_unknowns"] == []


@pytest.mark.parametrize("path, body, field, message", [
    ("/api/uncertainty", {"samples": MAX_SAMPLES + 1}, "samples",
     f"samples: Input should be less than or equal to {MAX_SAMPLES}"),
    ("/api/uncertainty", {"samples": 0}, "samples", "samples: Input should be greater than"),
    ("/api/uncertainty", {"unknowns": ["nope"]}, "unknowns",
     "unknown critical unknown 'nope'; choose one of: llm_vs_rl_generalization"),
    ("/api/compare", {"samples": MAX_SAMPLES + 1}, "samples", "samples: "),
    ("/api/sensitivity", {"method": "sobol", "samples": 1000}, "samples",
     "samples: Value error, must be a power of 2"),
    ("/api/sensitivity", {"method": "sobol", "samples": 8192}, "samples",
     "samples: Input should be less than or equal to 4096"),
    ("/api/sensitivity", {"method": "morris"}, "method", "method: "),
])
def test_sample_caps_and_bad_options(client, path, body, field, message):
    r = client.post(path, json=body)
    assert r.status_code == 422
    assert r.json()["field"] == field
    assert r.json()["error"].startswith(message)


def test_sensitivity_tornado_equals_library(client, net):
    from gmnet.analysis.sensitivity import sensitivity

    r = client.post("/api/sensitivity", json={"do": {"shift_type": "extreme"}})
    assert r.status_code == 200
    held = gmnet.ask("P(harm=yes | do(shift_type=extreme))", network=net).resolved.do
    expected = sensitivity(net, "harm", "yes", do=held, samples=None, rng=0)
    payload = r.json()
    assert payload["method"] == "tornado" and payload["samples"] is None
    assert [(i["name"], i["output_low"], i["output_high"]) for i in payload["inputs"]] == [
        (row.name, row.output_low, row.output_high) for row in expected.rows]
    assert payload["summary"] == expected.summary()


def test_sensitivity_sobol_equals_library(client, net):
    from gmnet.analysis.sensitivity import sensitivity

    body = {"target": "capability_transfer", "do": {"shift_type": "moderate"},
            "method": "sobol", "samples": 64, "seed": 3, "unknowns": False}
    r = client.post("/api/sensitivity", json=body)
    assert r.status_code == 200
    expected = sensitivity(net, "capability_transfer", "yes", do={"shift_type": "moderate"},
                           samples=64, rng=3, unknowns=False)
    rows = {i["name"]: i for i in r.json()["inputs"]}
    for row in expected.rows:
        assert rows[row.name]["ST"] == row.st and rows[row.name]["S1"] == row.s1


def test_compare_with_draws_equals_library(client, net):
    from gmnet.analysis.uncertainty import comparison_uncertainty

    r = client.post("/api/compare", json={"context": "prior", "samples": 200, "seed": 5})
    assert r.status_code == 200
    result = gmnet.compare_mitigations(net, context="prior")
    expected = comparison_uncertainty(net, result, samples=200, rng=5).to_dict()
    assert r.json()["uncertainty"] == json.loads(json.dumps(expected))
    low, high = r.json()["uncertainty"]["portfolios"]["none"]
    assert low < r.json()["baseline"] < high
