"""Files written by other tools, read by gmnet, checked against an independent reference.

References: pgmpy's own BIF reader (pgmpy's bundled bnlearn networks), pyAgrum's
LazyPropagation on the file pyAgrum wrote (BIF, BIFXML, NET, DSL, XDSL, UAI), numbers computed
by hand (the UAI format's own example, hand-written DSL, DNE and NET files).
"""

from __future__ import annotations

import gzip
import subprocess
import sys
from importlib.resources import files

import numpy as np
import pytest

from gmnet.cli import main
from gmnet.errors import NetworkFileError
from gmnet.io.formats import export_network, import_network
from gmnet.io.parsed import to_model
from gmnet.model.network import load_network


def run(capsys, *args):
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def bundled_text(name: str) -> str:
    ref = files("pgmpy") / "utils" / "example_models" / f"{name}.bif.gz"
    return gzip.decompress(ref.read_bytes()).decode("utf-8")


# ------------------------------------------------------------------ pgmpy's bundled networks
@pytest.mark.parametrize("name", ["asia", "child", "alarm", "win95pts"])
def test_bundled_bif_reads_as_pgmpy_reads_it(name):
    from gmnet.inference.pgmpy_backend import parse_model_text
    from gmnet.io.bif import parse_bif

    text = bundled_text(name)
    ours = to_model(parse_bif(text))
    _, theirs = parse_model_text(text, "bif")
    assert ours.variables == theirs.variables
    for v in ours.variables:
        assert ours.parents[v] == theirs.parents[v] and ours.states[v] == theirs.states[v]
        assert np.array_equal(ours.cpts[v], theirs.cpts[v]), v


def test_bundled_networks_answer_as_pgmpy(tmp_path):
    from gmnet.inference.pgmpy_backend import pgmpy_reference_query

    path = tmp_path / "alarm.bif"
    path.write_text(bundled_text("alarm"))
    net = load_network(path)
    evidence = {"HRBP": "HIGH", "BP": "LOW"}
    got = net.query("LVFAILURE", evidence=evidence)
    ref = pgmpy_reference_query(net.compiled, "LVFAILURE", evidence, {})
    for state, p in ref.items():
        assert got[state] == pytest.approx(p, abs=1e-12)


# ------------------------------------------------------------------ files pyAgrum writes
gum = pytest.importorskip("pyagrum")


def agrum_network():
    gum.initRandom(11)
    bn = gum.fastBN("a{y|n}->c{x|y|z}<-b{p|q};c->d{u|v};b->d;e{lo|mid|hi}->c")
    bn.generateCPTs()
    return bn


def agrum_posteriors(bn, evidence):
    engine = gum.LazyPropagation(bn)
    engine.setEvidence(evidence)
    engine.makeInference()
    return {bn.variable(i).name(): np.asarray(engine.posterior(i).toarray())
            for i in bn.nodes()}


@pytest.mark.parametrize("ext", ["bif", "bifxml", "net", "dsl", "xdsl"])
def test_files_written_by_pyagrum_agree_with_pyagrum(tmp_path, ext):
    bn = agrum_network()
    path = tmp_path / f"g.{ext}"
    gum.saveBN(bn, str(path))
    # the reference: pyAgrum on the file it wrote (its tables rounded as in the file)
    loaded = gum.loadBN(str(path))
    ref = agrum_posteriors(loaded, {"d": "u"})
    net = load_network(path)
    for var, dist in ref.items():
        if var == "d":
            continue
        got = net.query(var, evidence={"d": "u"})
        states = [loaded.variable(var).label(k) for k in range(len(dist))]
        assert [got[s] for s in states] == pytest.approx(dist.tolist(), abs=1e-6), (ext, var)


def test_pyagrum_xdsl_is_read_in_pyagrums_order_with_a_note(tmp_path):
    path = tmp_path / "g.xdsl"
    gum.saveBN(agrum_network(), str(path))
    notes = load_network(path).metadata["import_notes"]
    assert any("written by pyAgrum" in n and "c, d" in n for n in notes)


def test_pyagrum_uai_of_single_parent_networks_agrees(tmp_path):
    gum.initRandom(5)
    bn = gum.fastBN("a{y|n}->b{p|q|r}->c{u|v};a->d{s|t}")
    bn.generateCPTs()
    path = tmp_path / "chain.uai"
    gum.saveBN(bn, str(path))
    loaded = gum.loadBN(str(path))
    engine = gum.LazyPropagation(loaded)
    engine.makeInference()
    net = import_network(path)
    # UAI has no names: variables in file order, states s0, s1, ...
    for index in range(4):
        ref = np.asarray(engine.posterior(index).toarray())
        got = net.query(f"v{index}")
        assert [got[f"s{k}"] for k in range(len(ref))] == pytest.approx(ref.tolist(), abs=1e-6)


def test_pyagrum_misreads_gmnets_multi_parent_uai_and_the_export_says_so(tmp_path, capsys):
    net = load_network("reward_hacking")
    assert any(len(net.parents(v)) > 1 for v in net.variables)
    code, out, _ = run(capsys, "export", "--network", "reward_hacking", "--out",
                       str(tmp_path / "rh.xdsl"))
    assert code == 0 and "pyAgrum 3.3.1 reads multi-parent XDSL tables in the wrong order" in out
    result = export_network(net, tmp_path / "rh.bif")
    assert result.warnings == ()
    # what pyAgrum gets from the BIF is right; from the XDSL, wrong where order matters
    target = next(v for v in net.variables if len(net.parents(v)) > 1)
    exact = net.query(target)
    for name, right in (("rh.bif", True), ("rh.xdsl", False)):
        bn = gum.loadBN(str(tmp_path / name))
        dist = agrum_posteriors(bn, {})[target]
        states = [bn.variable(target).label(k) for k in range(len(dist))]
        close = np.allclose(dist, [exact[s] for s in states], atol=1e-9)
        assert close == right, name


# ------------------------------------------------------------------ the UAI format's example
UAI_EXAMPLE = """BAYES
3
2 2 3
3
1 0
2 0 1
2 1 2

2
 0.436 0.564

4
 0.128 0.872
 0.920 0.080

6
 0.210 0.333 0.457
 0.811 0.000 0.189
"""


def test_uai_example_answers_by_hand(tmp_path, capsys):
    model = tmp_path / "example.uai"
    model.write_text(UAI_EXAMPLE)
    (tmp_path / "example.uai.evid").write_text("1 1 0\n")
    p_e = 0.436 * 0.128 + 0.564 * 0.920
    code, out, _ = run(capsys, "uai", str(model), "--task", "PR")
    assert code == 0 and out.splitlines()[0] == "PR"
    assert float(out.splitlines()[1]) == pytest.approx(np.log10(p_e), rel=1e-12)
    answer = tmp_path / "example.MAR"
    code, out, _ = run(capsys, "uai", str(model), "--out", str(answer))
    assert code == 0 and "wrote" in out
    tokens = answer.read_text().split()
    assert tokens[0] == "MAR" and tokens[1] == "3"
    assert float(tokens[3]) == pytest.approx(0.436 * 0.128 / p_e, rel=1e-12)
    assert [float(t) for t in tokens[5:8]] == [2, 1.0, 0.0]  # v1 is observed
    # a published answer to compare with, written to 6 digits
    published = tmp_path / "published.MAR"
    published.write_text(f"MAR\n3 2 {0.436 * 0.128 / p_e:.6f} {0.564 * 0.920 / p_e:.6f} "
                         "2 1 0 3 0.21 0.333 0.457\n")
    code, out, err = run(capsys, "uai", str(model), "--check", str(published))
    assert code == 0 and "largest difference from published.MAR:" in err
    assert float(err.split(":")[1].split()[0]) < 1e-6


def test_uai_comments_child_first_scopes_and_markov_networks(tmp_path):
    commented = "# written by hand\n" + UAI_EXAMPLE.replace("2 0 1\n", "2 0 1   # v1 | v0\n")
    base = import_network(_write(tmp_path, "a.uai", UAI_EXAMPLE)).query("v2",
                                                                        evidence={"v1": "s0"})
    assert import_network(_write(tmp_path, "b.uai", commented)).query(
        "v2", evidence={"v1": "s0"}) == base
    # the same network with each scope listing the child first (tables in that order)
    child_first = ("BAYES\n3\n2 2 3\n3\n1 0\n2 1 0\n2 2 1\n\n2\n0.436 0.564\n"
                   "4\n0.128 0.920 0.872 0.080\n6\n0.210 0.811 0.333 0.000 0.457 0.189\n")
    net = import_network(_write(tmp_path, "c.uai", child_first))
    assert net.query("v2", evidence={"v1": "s0"}) == pytest.approx(base, abs=1e-15)
    assert any("child first" in n for n in net.metadata["import_notes"])
    markov = import_network(_write(tmp_path, "d.uai", UAI_EXAMPLE.replace("BAYES", "MARKOV")))
    assert markov.query("v2", evidence={"v1": "s0"}) == pytest.approx(base, abs=1e-15)
    loop = "MARKOV\n2\n2 2\n2\n2 0 1\n2 0 1\n4\n1 2 3 4\n4\n1 1 1 1\n"
    with pytest.raises(NetworkFileError, match="gmnet handles Bayesian networks"):
        import_network(_write(tmp_path, "e.uai", loop))


def _write(folder, name, text):
    path = folder / name
    path.write_text(text)
    return path


# ------------------------------------------------------------------ hand-written files
DSL = """net hand
{
 HEADER = { ID = hand; NAME = "hand"; };
 node a
 {
  TYPE = CPT;
  HEADER = { ID = a; NAME = "A node"; };
  PARENTS = ();
  DEFINITION = { NAMESTATES = (y, n); PROBABILITIES = (0.2, 0.8); };
 };
 node b { TYPE = CPT; PARENTS = (); DEFINITION = { NAMESTATES = (p, q);
          PROBABILITIES = (0.7, 0.3); }; };
 node c
 {
  TYPE = CPT;
  PARENTS = (a, b);
  DEFINITION = { NAMESTATES = (on, off);
                 PROBABILITIES = (0.9, 0.1, 0.6, 0.4, 0.3, 0.7, 0.05, 0.95); };
  EXTRA_DEFINITION = { DIAGNOSIS_TYPE = AUXILIARY; };
 };
};
"""

DNE = """// ~->[DNET-1]->~
bnet hand {
autoupdate = TRUE;
visual V1 { defdispform = BELIEFBARS; nodefont = font {shape= "Arial"; size= 9;}; };
node a { kind = NATURE; discrete = TRUE; states = (y, n); parents = (); probs = (0.2, 0.8);
         title = "A node"; visual V1 { center = (1, 2); }; };
node b { kind = NATURE; discrete = TRUE; states = (p, q); parents = (); probs = (0.7, 0.3); };
node c { kind = NATURE; discrete = TRUE; chance = CHANCE; states = (on, off);
         parents = (a, b);
         probs =
         // on    off        // a b
          (((0.9,  0.1),     // y p
            (0.6,  0.4)),    // y q
           ((0.3,  0.7),     // n p
            (0.05, 0.95)));  // n q
         };
};
"""

NET = """net { name = hand; HR_Desc = "a node which is described: node x {"; }
node a { label = "A node"; states = (y n); }
node b { states = ("p" "q"); }
node c { states = ("on" "off"); label = "node c { states = (1 2 3); }"; }
potential (a) { data = (20 80); }
potential (b) { data = (0.7 0.3); }
potential (c | a b) { data = (((0.9 0.1) (0.6 0.4)) ((0.3 0.7) (0.05 0.95))); }
"""


def exact_c_on():
    a, b = {"y": 0.2, "n": 0.8}, {"p": 0.7, "q": 0.3}
    on = {("y", "p"): 0.9, ("y", "q"): 0.6, ("n", "p"): 0.3, ("n", "q"): 0.05}
    total = sum(a[x] * b[y] * on[x, y] for x in a for y in b)
    return total, a["y"] * sum(b[y] * on["y", y] for y in b) / total


@pytest.mark.parametrize("name, text", [("hand.dsl", DSL), ("hand.dne", DNE), ("hand.net", NET)])
def test_hand_written_files_answer_by_hand(tmp_path, name, text):
    net = load_network(_write(tmp_path, name, text))
    total, a_given_on = exact_c_on()
    assert net.query("c")["on"] == pytest.approx(total, rel=1e-12)
    assert net.query("a", evidence={"c": "on"})["y"] == pytest.approx(a_given_on, rel=1e-12)
    if name == "hand.net":
        assert any("in percent" in n for n in net.metadata["import_notes"])


# ------------------------------------------------------------------ malformed and awkward files
@pytest.mark.parametrize("name, text, message", [
    ("empty.bif", "", "the file is empty"),
    ("one.bif", "variable a { type discrete [ 1 ] { only }; }\nprobability ( a ) { table 1; }",
     "variable a has 1 state(s); a variable needs at least 2"),
    ("count.bif", "variable a { type discrete [ 3 ] { x, y }; }\n",
     "variable a declares [3] states but lists 2"),
    ("nul.bif", "variable a\x00 { }", "NUL characters"),
    ("paren.net", 'node a { states = ("x" "y"); }\nnode b { states = ("u" "v"); }\n'
     'potential (a) { data = (0.5 0.5); }\npotential (b | a) { data = ((0.1 0.9 0.2 0.8)); }',
     "a group at depth 1 of 'data' has 1 entries"),
    ("decision.dne", "bnet x { node d { kind = DECISION; states = (a, b); }; };",
     "node d is a DECISION node"),
    ("noisy.xdsl", '<smile id="x"><nodes><noisymax id="n"><state id="a"/></noisymax>'
     "</nodes></smile>", "node n is a <noisymax> node"),
])
def test_malformed_files_exit_2_with_one_line(tmp_path, capsys, name, text, message):
    path = _write(tmp_path, name, text)
    code, out, err = run(capsys, "query", "P(a)", "--network", str(path))
    assert code == 2 and out == ""
    assert message in err and len(err.strip().splitlines()) == 1 and "internal" not in err


def test_xmlbif_without_a_name_with_leading_space_and_bifxml_extension(tmp_path):
    text = ('\n  <?xml version="1.0"?>\n<BIF VERSION="0.3"><NETWORK>'
            "<VARIABLE TYPE=\"nature\"><NAME>a</NAME><OUTCOME>y</OUTCOME><OUTCOME>n</OUTCOME>"
            "</VARIABLE><DEFINITION><FOR>a</FOR><TABLE>0.25 0.75</TABLE></DEFINITION>"
            "</NETWORK></BIF>")
    net = load_network(_write(tmp_path, "plain.bifxml", text))
    assert net.query("a") == {"y": 0.25, "n": 0.75}


def test_long_and_duplicate_state_names_are_noted(tmp_path):
    long = "s" * 70
    text = (f'node a {{ states = ("{long}" "{long}x"); }}\n'
            "potential (a) { data = (0.5 0.5); }\n")
    net = load_network(_write(tmp_path, "long.net", text))
    assert all(len(s) <= 64 for s in net.states("a")) and len(set(net.states("a"))) == 2
    assert any("states of a renamed" in n for n in net.metadata["import_notes"])


def test_invalid_sidecar_network_is_a_note_not_a_crash(tmp_path):
    import json

    path = tmp_path / "rh.bif"
    export_network(load_network("reward_hacking"), path)
    side = tmp_path / "rh.bif.gmnet.json"
    data = json.loads(side.read_text())
    data["network"]["nodes"] = {"x": {"states": ["only"]}}
    side.write_text(json.dumps(data))
    net = import_network(path)
    assert any("the sidecar's network is not valid" in n for n in net.metadata["import_notes"])


def test_a_big_bif_is_read_without_the_old_cap(tmp_path):
    path = _write(tmp_path, "diabetes.bif", bundled_text("diabetes"))
    assert path.stat().st_size > 5_000_000
    assert len(import_network(path).variables) == 413


def test_reading_a_small_file_does_not_import_pgmpy(tmp_path):
    path = _write(tmp_path, "two.bif", "variable a { type discrete [ 2 ] { y, n }; }\n"
                  "probability ( a ) { table 0.3, 0.7; }\n")
    code = ("import sys; from gmnet.cli import main; "
            f"assert main(['query', 'P(a=y)', '--network', {str(path)!r}]) == 0; "
            "print('pgmpy' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True)
    lines = done.stdout.splitlines()
    assert lines[0] == "P(a=y) = 30.0%" and lines[-1] == "False"


# ------------------------------------------------------------------ exact near the floor
@pytest.mark.parametrize("engine", ["einsum", "pgmpy", "enumeration"])
def test_posteriors_whose_joint_underflows_keep_full_precision(engine):
    from gmnet.model.network import network_from_dict

    net = network_from_dict({"name": "floor", "nodes": {
        "t": {"states": ["a", "b"], "cpt": {"kind": "table", "rows": [[1e-30, 1 - 1e-30]],
                                            "source": "test"}},
        "e": {"states": ["on", "off"], "parents": ["t"],
              "cpt": {"kind": "table", "rows": [[1e-300, 1 - 1e-300], [1e-290, 1 - 1e-290]],
                      "source": "test"}}}})
    # P(t=a | e=on) = 1e-30 * 1e-300 / (1e-290 (1 - 1e-30) + 1e-330) = 1e-40
    assert net.query("t", evidence={"e": "on"}, engine=engine)["a"] == pytest.approx(
        1e-40, rel=1e-12)


def test_any_file_name_with_an_explicit_format(tmp_path):
    path = _write(tmp_path, "model.txt", "variable a { type discrete [ 2 ] { y, n }; }\n"
                  "probability ( a ) { table 0.3, 0.7; }\n")
    assert load_network(path, format="bif").query("a") == {"y": 0.3, "n": 0.7}
    with pytest.raises(NetworkFileError, match="not a valid Hugin NET file"):
        load_network(path, format="net")


def test_files_above_the_size_limit_are_refused_with_their_size(tmp_path, monkeypatch):
    import gmnet.io.importing as importing

    monkeypatch.setattr(importing, "MAX_FOREIGN_BYTES", 100)
    path = _write(tmp_path, "big.bif", "// " + "x" * 200 + "\n")
    with pytest.raises(NetworkFileError, match="file is 204 bytes; gmnet reads network files "
                                               "up to 100"):
        import_network(path)


def test_utf16_files_with_a_byte_order_mark_are_read(tmp_path):
    path = tmp_path / "wide.bif"
    path.write_bytes("variable a { type discrete [ 2 ] { y, n }; }\n"
                     "probability ( a ) { table 0.3, 0.7; }\n".encode("utf-16"))
    assert import_network(path).query("a") == {"y": 0.3, "n": 0.7}


def test_uai_evidence_layouts_and_errors():
    from gmnet.io.parsed import FileFormatError
    from gmnet.io.uai_answers import parse_answer, parse_evidence

    assert parse_evidence("2 0 1 2 0", [2, 2, 3]) == {0: 1, 2: 0}  # UAI 2014
    assert parse_evidence("1\n2 0 1 2 0", [2, 2, 3]) == {0: 1, 2: 0}  # one sample, 2010
    assert parse_evidence("", [2]) == {}
    with pytest.raises(FileFormatError, match="gives variable 0 state 2; it has 2"):
        parse_evidence("1 0 2", [2, 2])
    kind, marginals = parse_answer("MAR\n1\n2 2 0.25 0.75 1 1.0")
    assert kind == "MAR" and [m.tolist() for m in marginals] == [[0.25, 0.75], [1.0]]
    assert parse_answer("PR\n-0.5\n") == ("PR", -0.5)
