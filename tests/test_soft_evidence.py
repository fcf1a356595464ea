"""Soft evidence: likelihood findings and fixed marginals (Jeffrey's rule), in every engine."""

import copy
import json
from pathlib import Path

import numpy as np
import pytest

import gmnet
from gmnet.cli import main
from gmnet.errors import ImpossibleEvidenceError, InvalidArgumentError, QuerySyntaxError
from gmnet.inference.soft import batched_soft_posterior, soft_posterior
from gmnet.model.network import NETWORKS_DIR, network_from_dict, read_yaml
from gmnet.model.soft_evidence import SoftFinding, parse_soft, parse_soft_option, resolve_soft
from gmnet.query_text import parse_query

ENGINES = ("einsum", "pgmpy", "enumeration")
LIKELIHOOD = {"below_human": 0.2, "human_level": 0.5, "superhuman": 0.3}


def _with_report(data: dict, node: str, weights: dict[str, float], parents_states) -> object:
    """The added-child construction: a real node 'report' under ``node``, P(seen | s) = w(s)."""
    data = copy.deepcopy(data)
    top = max(weights.values())
    rows = [[weights[s] / top, 1 - weights[s] / top] for s in parents_states]
    data["nodes"]["report"] = {"states": ["seen", "unseen"], "parents": [node],
                               "cpt": {"kind": "table", "rows": rows, "source": "test"}}
    return network_from_dict(data)


@pytest.fixture(scope="module")
def bundled_data():
    return read_yaml(NETWORKS_DIR / "goal_misgeneralization.yaml")


# ------------------------------------------------------------------ the text forms
def test_query_text_takes_both_kinds_and_prints_them_back():
    q = parse_query("P(harm=yes | shift_type=extreme, capability_level~=below_human:0.2,"
                    "human_level:0.5,superhuman:0.3, P(training_diversity=narrow)=0.25, "
                    "do(ai_control=on))")
    assert q.evidence == {"shift_type": "extreme"} and q.do == {"ai_control": "on"}
    assert q.soft == (("capability_level", "likelihood",
                       (("below_human", 0.2), ("human_level", 0.5), ("superhuman", 0.3))),
                      ("training_diversity", "marginal", (("narrow", 0.25),)))
    assert parse_query(str(q)) == q
    only = parse_query("P(harm | P(capability_level=superhuman)=0.3)")
    assert only.evidence == {} and only.soft[0].values == (("superhuman", 0.3),)
    full = parse_soft("P(capability_level)=below_human:0.2,human_level:0.5,superhuman:0.3")
    assert full.kind == "marginal" and len(full.values) == 3


def test_malformed_soft_terms_name_the_syntax():
    with pytest.raises(QuerySyntaxError, match="write a likelihood like"):
        parse_query("P(harm | capability_level~=superhuman:high)")
    with pytest.raises(QuerySyntaxError, match="fixed marginal like"):
        parse_query("P(harm | P(capability_level=superhuman)=lots)")
    with pytest.raises(QuerySyntaxError, match="--marginal capability_level=superhuman:0.3"):
        parse_soft_option("capability_level superhuman 0.3", "marginal")


@pytest.mark.parametrize("term, message", [
    ("capability_leve~=a:1", "unknown variable 'capability_leve'"),
    ("capability_level~=superhuman:1", "missing: below_human, human_level"),
    ("capability_level~=below_human:0,human_level:0,superhuman:0", "every weight is 0"),
    ("P(capability_level=godlike)=0.3", "unknown state 'godlike'"),
    ("P(capability_level)=below_human:0.5,human_level:0.5,superhuman:0.5", "sum to at most 1"),
    ("P(capability_level)=below_human:0.2,human_level:0.2,superhuman:0.2", "must sum to 1"),
])
def test_bad_findings_are_refused_with_the_reason(net, term, message):
    with pytest.raises(gmnet.GmnetError, match=message):
        net.query("harm", soft=term)


def test_a_node_observed_and_soft_is_refused(net):
    with pytest.raises(InvalidArgumentError, match="observed and also has soft evidence"):
        net.query("harm", evidence={"capability_level": "superhuman"},
                  soft="P(capability_level=superhuman)=0.3")
    with pytest.raises(InvalidArgumentError, match="twice"):
        resolve_soft(net.compiled.states, ["P(capability_level=superhuman)=0.3",
                                           "P(capability_level=human_level)=0.3"])


# ------------------------------------------------------------------ likelihoods = added child
@pytest.mark.parametrize("engine", ENGINES)
def test_likelihood_equals_an_added_child_on_the_toy_chain(toy, engine):
    weights = {"no": 0.3, "yes": 0.9}
    data = read_yaml(Path(toy["chain"].path))
    child = _with_report(data, "B", weights, ["no", "yes"])
    for target in ("A", "C"):
        want = child.query(target, evidence={"report": "seen"}, engine=engine)
        got = toy["chain"].query(target, soft=SoftFinding.likelihood("B", weights),
                                 engine=engine)
        assert got["yes"] == pytest.approx(want["yes"], abs=1e-12)
    # by hand: P(A=yes | report) = 0.3 (0.1*0.3 + 0.9*0.9) / sum over A
    num = 0.3 * (0.1 * 0.3 + 0.9 * 0.9)
    den = num + 0.7 * (0.8 * 0.3 + 0.2 * 0.9)
    assert toy["chain"].query("A", soft="B~=no:0.3,yes:0.9", engine=engine)["yes"] == \
        pytest.approx(num / den, abs=1e-12)


@pytest.mark.parametrize("engine", ["einsum", "pgmpy"])
def test_likelihood_equals_an_added_child_on_the_bundled_network(net, bundled_data, engine):
    child = _with_report(bundled_data, "capability_level", LIKELIHOOD,
                         net.states("capability_level"))
    given = {"shift_type": "extreme", "behavior_alarm": "quiet"}
    want = child.query("harm", evidence={**given, "report": "seen"}, do={"ai_control": "off"},
                       engine=engine)["yes"]
    got = net.query("harm", evidence=given, do={"ai_control": "off"}, engine=engine,
                    soft=SoftFinding.likelihood("capability_level", LIKELIHOOD))["yes"]
    assert got == pytest.approx(want, abs=1e-12)
    batched = batched_soft_posterior(net, "harm", evidence=given, do={"ai_control": "off"},
                                     soft=SoftFinding.likelihood("capability_level", LIKELIHOOD))
    assert batched[0, 0] == pytest.approx(want, abs=1e-12)


def test_likelihood_agrees_with_pyagrum(net):
    gum = pytest.importorskip("pyagrum")
    from pyagrum_bridge import to_pyagrum

    ie = gum.LazyPropagation(to_pyagrum(net.compiled))
    ie.setEvidence({"shift_type": "significant"})
    ie.addEvidence("capability_level", [LIKELIHOOD[s] for s in net.states("capability_level")])
    ie.makeInference()
    theirs = ie.posterior("harm").tolist()[0]
    ours = net.query("harm", evidence={"shift_type": "significant"},
                     soft=SoftFinding.likelihood("capability_level", LIKELIHOOD))["yes"]
    assert ours == pytest.approx(theirs, abs=1e-12)


# ------------------------------------------------------------------ Jeffrey's rule
def _jeffrey(net, target, state, node, q, evidence):
    """Closed form: sum_s q(s) P(target | node=s, evidence)."""
    return sum(q[s] * net.query(target, evidence={**evidence, node: s})[state] for s in q)


@pytest.mark.parametrize("engine", ["einsum", "pgmpy"])
def test_fixed_marginal_is_jeffreys_rule(net, engine):
    given = {"shift_type": "extreme"}
    prior = net.query("capability_level", evidence=given)
    q = {s: 0.7 * p / (1 - prior["superhuman"]) for s, p in prior.items()}
    q["superhuman"] = 0.3
    want = _jeffrey(net, "harm", "yes", "capability_level", q, given)
    term = "P(capability_level=superhuman)=0.3"
    assert net.query("harm", evidence=given, soft=term, engine=engine)["yes"] == \
        pytest.approx(want, abs=1e-12)
    assert net.query("capability_level", evidence=given, soft=term, engine=engine)[
        "superhuman"] == pytest.approx(0.3, abs=1e-12)
    assert batched_soft_posterior(net, "harm", evidence=given, soft=term)[0, 0] == \
        pytest.approx(want, abs=1e-12)


def test_fixed_marginal_on_a_toy_network_in_every_engine(toy):
    # Jeffrey on B of the chain: P(C=yes) = 0.6 * 0.7 + 0.4 * 0.1 = 0.46
    for engine in ENGINES:
        assert toy["chain"].query("C", soft="P(B=yes)=0.6", engine=engine)["yes"] == \
            pytest.approx(0.46, abs=1e-12)


def test_two_fixed_marginals_both_hold(net):
    soft = ["P(capability_level=superhuman)=0.3", "P(training_diversity=narrow)=0.5",
            "spec_quality~=high:0.2,medium:0.3,low:0.5"]
    given = {"harm": "yes"}
    assert net.query("capability_level", evidence=given, soft=soft)["superhuman"] == \
        pytest.approx(0.3, abs=1e-12)
    assert net.query("training_diversity", evidence=given, soft=soft)["narrow"] == \
        pytest.approx(0.5, abs=1e-12)
    batched = batched_soft_posterior(net, "training_diversity", evidence=given, soft=soft)
    assert batched[0, net.check_state("training_diversity", "narrow")] == \
        pytest.approx(0.5, abs=1e-12)


def test_jeffrey_cannot_revive_an_impossible_state(net):
    # the behavior alarm never fires without behavior monitoring
    with pytest.raises(ImpossibleEvidenceError, match="cannot be given a positive probability"):
        net.query("harm", do={"behavior_monitoring": "off"}, soft="P(behavior_alarm=fires)=0.5")


def test_soft_evidence_per_draw_matches_the_compiled_model(net):
    values = {"m_capability.superhuman": np.array([2.0, 3.0, 4.0]),
              "p_harm_given_failure.extreme": np.array([0.7, 0.8, 0.9])}
    soft = ["P(capability_level=superhuman)=0.3"]
    got = batched_soft_posterior(net, "harm", evidence={"shift_type": "extreme"}, soft=soft,
                                 values=values)
    model = net.compile(values)
    findings = resolve_soft(model.states, soft)
    ev = {"shift_type": net.check_state("shift_type", "extreme")}
    want = soft_posterior(model, "harm", ev, {}, findings)
    assert np.allclose(got, want, atol=1e-12, rtol=0)
    assert len({round(float(x), 9) for x in got[:, 0]}) == 3  # the draws differ


def test_a_loaded_network_is_never_changed(net):
    before = net.query("harm", evidence={"shift_type": "extreme"})
    compiled, variables = net.compiled, net.variables
    net.query("harm", evidence={"shift_type": "extreme"}, soft="P(capability_level=superhuman)"
              "=0.9")
    batched_soft_posterior(net, "harm", soft="P(capability_level=superhuman)=0.9")
    assert net.compiled is compiled and net.variables == variables
    assert len(compiled.variables) == len(variables)
    assert net.query("harm", evidence={"shift_type": "extreme"}) == before


# ------------------------------------------------------------------ the command line
def test_cli_query_and_uncertainty_take_soft_evidence(net, capsys):
    text = "P(harm=yes | shift_type=extreme, P(capability_level=superhuman)=0.3)"
    assert main(["query", "--json", text]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["soft"][0]["text"] == "P(capability_level=superhuman)=0.3"
    assert "capability_level" not in printed["held"]  # a soft node is mentioned: not held
    want = net.query("harm", evidence={"shift_type": "extreme"}, do=printed["held"],
                     soft="P(capability_level=superhuman)=0.3")["yes"]
    assert printed["probability"] == pytest.approx(want, abs=1e-15)
    assert main(["uncertainty", text, "--samples", "50", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["point"] == pytest.approx(want, abs=1e-12)
    assert "P(capability_level=superhuman)=0.3" in out["query"]


def test_cli_refuses_soft_evidence_where_it_is_not_taken(capsys):
    assert main(["sensitivity", "P(harm=yes | P(capability_level=superhuman)=0.3)"]) == 2
    assert "not taken by sensitivity" in capsys.readouterr().err
    assert main(["query", "P(harm | capability_level~=superhuman:0.3)"]) == 2
    err = capsys.readouterr().err
    assert "missing: below_human, human_level" in err and err.count("\n") == 1


def test_every_finding_prints_as_text_that_parses_back():
    from hypothesis import given, settings
    from hypothesis import strategies as st

    states = st.sampled_from(["a", "b_2", "x.y", "hi-lo"])
    numbers = st.floats(min_value=0, max_value=10, allow_nan=False).map(lambda x: round(x, 6))

    @settings(max_examples=200, deadline=None, derandomize=True)
    @given(st.sampled_from(["likelihood", "marginal"]),
           st.lists(st.tuples(states, numbers), min_size=1, max_size=4, unique_by=lambda t: t[0]))
    def check(kind, pairs):
        finding = SoftFinding("node_1", kind, tuple(pairs))
        assert parse_soft(str(finding)) == finding
        assert parse_query(f"P(t | u=v, {finding}, do(w=z))").soft == (finding,)

    check()
