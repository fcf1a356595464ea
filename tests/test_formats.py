"""Export and import: every format round-trips exactly, sidecars restore what formats cannot
hold, UAI follows its specification, bad files give one clear error."""

import json
import math
import re
from pathlib import Path

import numpy as np
import pytest
import yaml

import gmnet
from gmnet.errors import InvalidArgumentError, NetworkFileError, UnknownNameError
from gmnet.io.formats import (
    EXTENSIONS,
    FORMATS,
    READ_FORMATS,
    export_network,
    export_text,
    import_network,
    network_from_model,
    sidecar_path,
)
from gmnet.io.uai import UAIFormatError, parse_uai, uai_text
from gmnet.io.yaml_writer import network_yaml, yaml_float
from gmnet.model.compiled import CompiledModel
from gmnet.model.network import FOREIGN_EXTENSIONS

SUFFIX = {"bif": ".bif", "xmlbif": ".xml", "net": ".net", "xdsl": ".xdsl", "uai": ".uai"}

# (target, evidence, do) asked of the goal-misgeneralization network
GM_QUERIES = [
    ("harm", {}, {}),
    ("harm", {"spec_quality": "low"}, {"shift_type": "extreme"}),
    ("shift_type", {"harm": "yes"}, {"alignment_method": "standard"}),
    ("learned_objective", {"goal_misgeneralizes": "yes", "capability_level": "superhuman"}, {}),
    ("goal_misgeneralizes", {"capability_transfer": "yes"},
     {"spec_quality": "high", "training_diversity": "narrow"}),
]
RH_QUERIES = [
    ("harm", {}, {}),
    ("setting", {"harm": "yes"}, {}),
    ("harm", {"capability_transfer": "yes"}, {"spec_quality": "low"}),
    ("reward_hacked", {"harm": "no"}, {"setting": "coinrun"}),
]


def assert_same_answers(a, b, queries, tol=1e-12):
    for target, evidence, do in queries:
        pa = a.query(target, evidence=evidence, do=do)
        pb = b.query(target, evidence=evidence, do=do)
        assert list(pa) == list(pb)
        for state in pa:
            assert abs(pa[state] - pb[state]) <= tol, (target, evidence, do, state)


@pytest.fixture(scope="module")
def rh():
    return gmnet.load_network("reward_hacking")


def awkward_network():
    """Awkward names and numbers: states no format spells alike, thirds, 1e-20, three parents."""
    rng = np.random.default_rng(7)
    states = {"age": ("<5", "5-12", "12+"), "weather": ("very high", "low"),
              "dose": ("0", "1"), "outcome": ("yes", "no", "maybe")}
    parents = {"age": (), "weather": (), "dose": ("age",), "outcome": ("weather", "age", "dose")}
    cpts = {
        "age": np.array([[1 / 3, 1 / 3, 1 / 3]]),
        "weather": np.array([[1e-20, 1.0 - 1e-20]]),
        "dose": np.array([[[0.1, 0.9], [0.7, 0.3], [0.123456789012345, 0.876543210987655]]]),
        "outcome": rng.dirichlet([0.5, 1.0, 2.0], size=(2, 3, 2))[None],
    }
    model = CompiledModel(("age", "weather", "dose", "outcome"), states, parents, cpts)
    return network_from_model(model, name="awkward", source="test: built by hand")


# ---------------------------------------------------------------------------- round trips
@pytest.mark.parametrize("fmt", FORMATS)
def test_goal_network_round_trip_with_sidecar_restores_everything(tmp_path, net, fmt):
    path = tmp_path / f"gm{SUFFIX[fmt]}"
    result = export_network(net, path, format=fmt)
    assert result.sidecar == sidecar_path(path) and result.sidecar.is_file()
    back = import_network(path)
    # the restore happens only when every table of the file matches the sidecar's to 1e-12
    assert back.spec == net.spec
    assert "import_notes" not in back.metadata
    assert_same_answers(net, back, GM_QUERIES)
    assert back.parameter("m_spec.low").low == 1.5
    assert back.node("learned_objective").cpt.kind == "calibrated_route"


@pytest.mark.parametrize("fmt", FORMATS)
def test_tables_alone_give_the_same_answers(tmp_path, rh, fmt):
    path = tmp_path / f"rh{SUFFIX[fmt]}"
    export_network(rh, path, sidecar=False)
    assert not sidecar_path(path).exists()
    plain = import_network(path)
    assert all(plain.node(v).cpt.kind == "table" for v in plain.variables)
    assert {plain.node(v).cpt.source for v in plain.variables} == {f"imported from rh{SUFFIX[fmt]}"}
    if fmt == "uai":  # UAI has no names: v0, v1, ... in the exported order, states s0, s1, ...
        names = dict(zip(rh.variables, plain.variables, strict=True))
        assert plain.variables == ("v0", "v1", "v2", "v3", "v4")
        assert plain.states(names["setting"]) == ("s0", "s1", "s2")
        for v in rh.variables:
            assert np.array_equal(plain.cpt(names[v]), rh.cpt(v))
        return
    assert set(plain.variables) == set(rh.variables)
    for v in rh.variables:
        assert plain.states(v) == rh.states(v)
        assert plain.parents(v) == rh.parents(v)
        assert np.array_equal(plain.cpt(v), rh.cpt(v)), v  # bit for bit
    assert_same_answers(rh, plain, RH_QUERIES)


@pytest.mark.parametrize("fmt", FORMATS)
def test_awkward_names_and_numbers_survive(tmp_path, fmt):
    net = awkward_network()
    path = tmp_path / f"awkward{SUFFIX[fmt]}"
    result = export_network(net, path)
    back = import_network(path)
    assert back.spec == net.spec  # state names restored from the sidecar
    plain = import_network(path, sidecar=False)
    by_position = dict(zip(net.variables, plain.variables, strict=True)) if fmt == "uai" else {
        v: v for v in net.variables}
    for v in net.variables:
        assert np.array_equal(plain.cpt(by_position[v]), net.cpt(v)), v
    assert plain.cpt(by_position["weather"])[0] == 1e-20
    if fmt in ("xmlbif", "xdsl"):  # identifiers only: renamed in the file, restored on import
        assert result.renamed_states["age"] == {"<5": "s_5", "5-12": "s_5_12", "12+": "s_12"}
        assert result.renamed_states["dose"] == {"0": "s_0", "1": "s_1"}
        assert plain.states("age") == ("s_5", "s_5_12", "s_12")
    elif fmt == "bif":  # BIF cannot hold the space in "very high"
        assert result.renamed_states == {"weather": {"very high": "very_high"}}
    elif fmt == "net":  # quoted states: nothing to rename
        assert result.renamed_states == {}
        assert plain.states("weather") == ("very high", "low")


def test_every_format_has_an_extension_and_load_network_knows_them():
    assert set(EXTENSIONS.values()) == set(READ_FORMATS)
    assert set(FORMATS) < set(READ_FORMATS)
    assert set(FOREIGN_EXTENSIONS) == set(EXTENSIONS)


def test_load_network_reads_other_formats_with_their_sidecar(tmp_path, rh):
    path = tmp_path / "rh.xdsl"
    export_network(rh, path)
    loaded = gmnet.load_network(str(path))
    assert loaded.spec == rh.spec and loaded.path == str(path)
    assert gmnet.load_network(str(path)) is loaded  # cached while the files are unchanged
    assert gmnet.validate_file(path).spec == rh.spec


def test_export_is_deterministic(rh):
    # pgmpy's XDSL writer places nodes at random; gmnet lays them out by depth
    assert export_text(rh, "xdsl") == export_text(rh, "xdsl")
    positions = re.findall(r"<position>([^<]+)</position>", export_text(rh, "xdsl"))
    assert positions[0] == "40 40 112 88"


def test_values_are_written_in_full_precision(rh):
    third = network_from_model(
        CompiledModel(("a",), {"a": ("x", "y", "z")}, {"a": ()},
                      {"a": np.array([[1 / 3, 1 / 3, 1 / 3]])}),
        name="third", source="test")
    for fmt in FORMATS:
        assert "0.3333333333333333" in export_text(third, fmt), fmt
        assert "0.33333333 " not in export_text(third, fmt), fmt


# ---------------------------------------------------------------------------- sidecar
def test_sidecar_content(tmp_path, net):
    path = tmp_path / "gm.net"
    export_network(net, path, evidence={"shift_type": "extreme"})
    side = json.loads(sidecar_path(path).read_text())
    assert side["kind"] == "gmnet-sidecar/1" and side["format"] == "net"
    assert side["file"] == "gm.net"
    assert side["evidence"] == {"shift_type": "extreme"}
    assert side["network"]["parameters"]["m_spec"]["values"]["low"]["range"] == [1.5, 2.0]
    entry = next(e for e in side["variables"] if e["name"] == "harm")
    assert entry == {"name": "harm", "in_file": "harm", "states": ["yes", "no"],
                     "states_in_file": ["yes", "no"]}


def test_sidecar_keeps_overridden_parameters(tmp_path, net):
    changed = net.with_parameters({"m_spec.low": {"value": 1.9, "range": [1.8, 2.0],
                                                  "source": "assumption: test"}})
    path = tmp_path / "gm.xml"
    export_network(changed, path)
    back = import_network(path)
    p = back.parameter("m_spec.low")
    assert (p.value, p.low, p.high, p.source) == (1.9, 1.8, 2.0, "assumption: test")
    assert_same_answers(changed, back, GM_QUERIES[:2])


def test_edited_table_wins_and_the_rest_is_restored(tmp_path, rh):
    path = tmp_path / "rh.xml"
    export_network(rh, path)
    text = path.read_text()
    # someone edits P(capability_transfer | setting) in another tool
    block = re.search(r"<FOR>capability_transfer</FOR>.*?<TABLE>([^<]+)</TABLE>", text, re.S)
    old = block.group(1)
    assert old.split()[:2] == ["0.95", "0.050000000000000044"]  # 1 - 0.95, every digit
    path.write_text(text.replace(old, "0.9 0.1 0.87 0.13 0.78 0.22 "))
    back = import_network(path, edited=True)
    assert back.node("capability_transfer").cpt.kind == "table"
    assert (back.node("capability_transfer").cpt.source
            == "imported from rh.xml (edited after export)")
    assert back.cpt("capability_transfer")[0].tolist() == [0.9, 0.1]
    assert back.node("harm").cpt == rh.node("harm").cpt  # untouched nodes keep their expressions
    assert back.parameter("m_spec.low").low == 1.5
    assert back.metadata["import_notes"] == [
        "tables edited since export, kept from the file: capability_transfer",
        "rh.xml changed after its sidecar was written; the file's tables are used where they "
        "differ"]
    # without saying it was edited, the stale pair is an error naming both ways out
    with pytest.raises(gmnet.NetworkFileError, match="this sidecar was written with another "
                                                     "version of rh.xml"):
        import_network(path)
    expected = 0.9 * 0.89 * 0.60
    got = back.query("harm", do={"setting": "coinrun", "spec_quality": "medium"})["yes"]
    assert math.isclose(got, expected, abs_tol=1e-12)


def test_changed_structure_keeps_tables_and_restores_labels(tmp_path, rh):
    path = tmp_path / "rh.xdsl"
    export_network(rh, path)
    text = path.read_text()
    # the harm node loses its parent 'setting' in the other tool
    text = text.replace("<parents>reward_hacked setting</parents>",
                        "<parents>reward_hacked</parents>")
    text = re.sub(r'(<cpt id="harm">.*?<probabilities>)[^<]*(</probabilities>)',
                  r"\g<1>0.5 0.5 0 1\g<2>", text, flags=re.S)
    path.write_text(text)
    back = import_network(path, edited=True)
    assert back.parents("harm") == ("reward_hacked",)
    assert back.node("harm").label == "Harm" and back.node("harm").phase == "outcome"
    assert all(back.node(v).cpt.kind == "table" for v in back.variables)
    assert back.metadata["import_notes"][0].startswith("the file's variables, states or parents")
    assert len(back.spec.targets) == len(rh.spec.targets)


def test_sidecar_can_be_ignored_or_named(tmp_path, rh):
    path = tmp_path / "rh.bif"
    export_network(rh, path)
    assert import_network(path, sidecar=False).node("harm").cpt.kind == "table"
    moved = tmp_path / "elsewhere.json"
    sidecar_path(path).rename(moved)
    assert import_network(path).node("harm").cpt.kind == "table"
    assert import_network(path, sidecar=moved).spec == rh.spec
    with pytest.raises(InvalidArgumentError, match="no such sidecar file"):
        import_network(path, sidecar=tmp_path / "missing.json")


def test_bad_sidecar_is_reported(tmp_path, rh):
    path = tmp_path / "rh.xml"
    export_network(rh, path)
    sidecar_path(path).write_text('{"kind": "something else"}')
    with pytest.raises(NetworkFileError, match="not a gmnet sidecar"):
        import_network(path)


# ---------------------------------------------------------------------------- UAI
# Written by hand from the UAI format: A (2 states), B | A (2), C | A, B (3). The last variable
# of a scope changes fastest; the child comes last.
HAND_UAI = """BAYES
3
2 2 3
3
1 0
2 0 1
3 0 1 2

2
0.25 0.75
4
0.1 0.9
0.6 0.4
12
0.2 0.3 0.5
0.1 0.1 0.8
0.7 0.2 0.1
0.0 0.0 1.0
"""


def test_uai_reads_the_specification_order():
    model = parse_uai(HAND_UAI)
    assert model.variables == ("v0", "v1", "v2")
    assert model.parents["v2"] == ("v0", "v1")
    cpt_b = model.cpts["v1"][0]
    assert cpt_b[0].tolist() == [0.1, 0.9]  # P(B | A=0)
    assert cpt_b[1].tolist() == [0.6, 0.4]  # P(B | A=1)
    cpt_c = model.cpts["v2"][0]
    assert cpt_c[0, 1].tolist() == [0.1, 0.1, 0.8]  # P(C | A=0, B=1)
    assert cpt_c[1, 0].tolist() == [0.7, 0.2, 0.1]  # P(C | A=1, B=0)


def test_uai_writes_the_specification_order():
    net = network_from_model(parse_uai(HAND_UAI), name="hand", source="test")
    text = uai_text(net.compiled)
    assert text.split() == HAND_UAI.split()


def test_uai_file_and_query(tmp_path):
    path = tmp_path / "hand.uai"
    path.write_text(HAND_UAI)
    net = gmnet.load_network(str(path))
    # P(C=s2) = sum_a,b P(a) P(b|a) P(C=s2|a,b)
    expected = 0.25 * (0.1 * 0.5 + 0.9 * 0.8) + 0.75 * (0.6 * 0.1 + 0.4 * 1.0)
    assert math.isclose(net.query("v2")["s2"], expected, abs_tol=1e-15)
    assert net.metadata == {}


@pytest.mark.parametrize("text, message", [
    ("MARKOV\n2\n2 2\n1\n2 0 1\n4\n1 1 1 1\n", "gmnet handles Bayesian networks"),
    ("BAYES\n2\n2 2\n1\n1 0\n2\n0.5 0.5\n", "2 variables but 1 functions"),
    ("BAYES\n1\n2\n1\n1 0\n3\n0.5 0.5 0\n", "function 0 has 3 entries; its scope needs 2"),
    ("BAYES\n1\n2\n1\n1 0\n2\n0.5 half\n", "entry 'half' of function 0 is not a number"),
    ("BAYES\n2\n2 2\n2\n2 1 0\n2 0 1\n4\n1 0 0 1\n4\n1 0 0 1\n", "cycle"),
    ("BAYES\n1\n2\n1\n1 3\n2\n0.5 0.5\n", "refers to variable 3; there are 1"),
    ("BAYES\n1\n2\n1\n1 0\n2\n0.5\n", "the file ends where an entry of function 0"),
])
def test_uai_errors(text, message):
    with pytest.raises(UAIFormatError, match=re.escape(message)):
        parse_uai(text)


# ---------------------------------------------------------------------------- bad input
def test_malformed_files_give_one_clear_error(tmp_path):
    bad = tmp_path / "broken.bif"
    bad.write_text("network x {\n}\nvariable a {\n  type discrete [ 2 ] { y, n };\n}\n"
                   "probability ( a | b ) {\n  (y) 0.5, 0.5;\n}\n")
    with pytest.raises(NetworkFileError) as info:
        import_network(bad)
    assert "broken.bif: not a valid BIF file:" in info.value.one_line()
    xml = tmp_path / "broken.xml"
    xml.write_text("<BIF><NETWORK>")
    with pytest.raises(NetworkFileError, match="not a valid XMLBIF file"):
        import_network(xml)
    uai = tmp_path / "broken.uai"
    uai.write_text("BAYES\n1\n")
    with pytest.raises(NetworkFileError) as info:
        import_network(uai)
    assert info.value.one_line().endswith(
        "broken.uai: not a valid UAI file: the file ends where the cardinality of variable 0 "
        "was expected")


def test_rows_that_do_not_sum_to_one(tmp_path):
    text = uai_text(awkward_network().compiled).replace("0.1 0.9", "0.1 0.8")
    path = tmp_path / "off.uai"
    path.write_text(text)
    with pytest.raises(NetworkFileError, match=r"node 'v2': row 1 of the table sums to 0.9, not 1"):
        import_network(path)
    path.write_text(uai_text(awkward_network().compiled).replace("0.1 0.9", "0.1 0.9000001"))
    rescaled = import_network(path)
    assert rescaled.cpt("v2")[0].sum() == pytest.approx(1.0, abs=1e-15)
    assert "rescaled to sum to 1, in: v2" in rescaled.metadata["import_notes"][0]


def test_unknown_format_and_missing_file(tmp_path, rh):
    with pytest.raises(InvalidArgumentError, match=r"cannot tell the format of .*model\.txt"):
        export_network(rh, tmp_path / "model.txt")
    with pytest.raises(UnknownNameError,
                       match="unknown format 'dne' to write; choose one of: bif, xmlbif"):
        export_network(rh, tmp_path / "model.dne", format="dne")
    with pytest.raises(InvalidArgumentError, match="no such file"):
        import_network(tmp_path / "absent.xdsl")
    with pytest.raises(UnknownNameError, match="unknown variable 'nope' in evidence"):
        export_network(rh, tmp_path / "m.bif", evidence={"nope": "x"})


def test_xdsl_deterministic_nodes_are_read_and_noisy_max_is_reported(tmp_path):
    path = tmp_path / "det.xdsl"
    path.write_text("""<?xml version="1.0"?>
<smile version="1.0" id="det" numsamples="0" discsamples="0">
  <nodes>
    <cpt id="a"><state id="on"/><state id="off"/><probabilities>0.3 0.7</probabilities></cpt>
    <deterministic id="b"><state id="yes"/><state id="no"/><parents>a</parents>
      <resultingstates>no yes</resultingstates></deterministic>
  </nodes>
</smile>""")
    net = import_network(path)
    assert net.cpt("b").tolist() == [[0.0, 1.0], [1.0, 0.0]]
    assert math.isclose(net.query("b")["yes"], 0.7)
    path.write_text(path.read_text().replace("deterministic", "noisymax"))
    with pytest.raises(NetworkFileError, match="node b is a <noisymax> node"):
        import_network(path)


def test_hugin_comments_and_quoted_states(tmp_path):
    path = tmp_path / "hugin.net"
    path.write_text("""% written in Hugin
net
{
}
node rain
{
    label = "Rain";
    states = ("heavy rain" "no rain"); % a comment
}
node wet
{
    states = ("yes" "no");
}
potential (rain)
{
    data = (0.2 0.8);
}
potential (wet | rain)
{
    data = ((0.9 0.1) (0.25 0.75));
}
""")
    net = import_network(path)
    assert net.states("rain") == ("heavy rain", "no rain")
    assert math.isclose(net.query("wet")["yes"], 0.2 * 0.9 + 0.8 * 0.25)


def test_hugin_decision_nodes_are_reported(tmp_path):
    path = tmp_path / "decide.net"
    path.write_text('net\n{\n}\ndecision act\n{\n    states = ("a" "b");\n}\n')
    with pytest.raises(NetworkFileError, match="'decision act': gmnet reads discrete chance "
                                               "nodes only"):
        import_network(path)


def test_invalid_variable_names_are_renamed_and_labelled(tmp_path):
    path = tmp_path / "names.bif"
    path.write_text("network n {\n}\nvariable Dog-Problem {\n  type discrete [ 2 ] { a, b };\n}\n"
                    "variable 2nd {\n  type discrete [ 2 ] { a, b };\n}\n"
                    "probability ( Dog-Problem ) {\n  table 0.5, 0.5;\n}\n"
                    "probability ( 2nd | Dog-Problem ) {\n  (a) 0.1, 0.9;\n  (b) 0.4, 0.6;\n}\n")
    net = import_network(path)
    assert net.variables == ("Dog_Problem", "n_2nd")
    assert net.node("Dog_Problem").label == "Dog-Problem"
    assert net.parents("n_2nd") == ("Dog_Problem",)


# ---------------------------------------------------------------------------- YAML writer
def test_yaml_floats_read_back_exactly():
    for x in (1e-05, 1e-20, 0.1, 1 / 3, 2.5e+20, 0.0, 1.0, 123456.789):
        assert yaml.safe_load(yaml_float(x)) == x
        assert isinstance(yaml.safe_load(yaml_float(x)), float)
    assert yaml_float(1e-05) == "1.0e-05"


def test_imported_yaml_reads_back_and_comments_rows(tmp_path):
    net = awkward_network()
    text = network_yaml(net)
    assert gmnet.model.network.network_from_dict(yaml.safe_load(text)).spec == net.spec
    assert '  - [0.1, 0.9]  # age=<5' in text
    assert 'states: ["yes", "no", maybe]' in text  # yes/no quoted, else YAML reads booleans
    assert "# P(<5, 5-12, 12+)" in text


# ---------------------------------------------------------------------------- CLI
def run(capsys, *args):
    from gmnet.cli import main

    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_export_and_import(tmp_path, capsys, rh):
    out = tmp_path / "rh.xdsl"
    code, text, err = run(capsys, "export", "--network", "reward_hacking", "--out", str(out),
                          "--json")
    assert code == 0 and err == ""
    payload = json.loads(text)
    assert payload["format"] == "xdsl" and payload["sidecar"] == str(out) + ".gmnet.json"
    target = tmp_path / "back.yaml"
    code, text, err = run(capsys, "import", str(out), "--out", str(target))
    assert code == 0, err
    assert text.startswith(f"wrote {target} (5 nodes, 12 parameters)")
    assert gmnet.load_network(str(target)).spec == rh.spec
    code, text, err = run(capsys, "import", str(out), "--out", str(target))
    assert code == 2 and "exists; add --force to replace it" in err
    code, text, err = run(capsys, "query", "P(harm=yes | do(setting=coinrun, spec_quality=medium))",
                          "--network", str(out))
    assert code == 0
    assert text.splitlines()[0] == "P(harm=yes | do(setting=coinrun, spec_quality=medium)) = 50.7%"


def test_cli_export_applies_scenario_and_worldview(tmp_path, capsys):
    from gmnet.model.scenarios import apply

    out = tmp_path / "agents.xml"
    code, text, err = run(capsys, "export", "--scenario", "autonomous_agents", "--worldview",
                          "document-note", "--out", str(out))
    assert code == 0, err
    assert "note: the scenario's observations (spec_quality=low)" in text
    applied, evidence = apply(gmnet.load_network(), scenario=["autonomous_agents"],
                              worldview="document-note")
    side = json.loads(sidecar_path(out).read_text())
    assert side["evidence"] == evidence == {"spec_quality": "low"}
    back = import_network(out)
    plain = import_network(out, sidecar=False)
    for v in applied.variables:
        assert np.array_equal(plain.cpt(v), applied.cpt(v)), v
    assert_same_answers(applied, back, GM_QUERIES[:3])
    assert_same_answers(applied, plain, GM_QUERIES[:3])
    assert abs(back.query("harm")["yes"] - gmnet.load_network().query("harm")["yes"]) > 1e-3


def test_cli_import_plain_file_and_ranges(tmp_path, capsys):
    out = tmp_path / "rh.uai"
    assert run(capsys, "export", "--network", "reward_hacking", "--out", str(out),
               "--no-sidecar")[0] == 0
    target = tmp_path / "plain.yaml"
    code, text, err = run(capsys, "import", str(out), "--out", str(target), "--name", "plain",
                          "--cpt-ranges", "0.2")
    assert code == 0, err
    net = gmnet.load_network(str(target))
    assert net.name == "plain"
    assert net.parameter("t_v0_0.s0").low == pytest.approx(0.8 / 3)
    assert target.read_text().startswith("# plain: imported from rh.uai by `gmnet import`.")


def test_cli_errors(tmp_path, capsys):
    code, _, err = run(capsys, "export", "--out", str(tmp_path / "x.txt"))
    assert code == 2 and "cannot tell the format" in err
    code, _, err = run(capsys, "import", "--out", str(tmp_path / "x.yaml"))
    assert code == 2 and "give either FILE or --classic NAME" in err
    code, _, err = run(capsys, "import", "--classic", "alarmm", "--out", str(tmp_path / "x.yaml"))
    assert code == 2 and "unknown classic network 'alarmm'" in err and "did you mean 'alarm'" in err
    code, _, err = run(capsys, "import", "--classic", "asia", "--out", str(tmp_path / "x.bif"))
    assert code == 2 and "a gmnet network file ends in .yaml" in err
    code, _, err = run(capsys, "import", "networks/reward_hacking.yaml", "--out",
                       str(tmp_path / "x.yaml"))
    assert code == 2 and "is already a gmnet network file" in err
    assert not Path(tmp_path / "x.yaml").exists()


def test_hugin_file_layout(rh):
    text = export_text(rh, "net")
    assert "potential (setting){" in text  # a root, as Hugin writes it
    assert "potential (harm | reward_hacked setting){" in text
    assert 'states = ("coinrun"  "gaming_examples"  "synthetic_tasks");' in text
    # parents in order, the node's own states innermost
    assert "data = (((0.6 0.4) (0.41 0.5900000000000001) (0.35 0.65)) ((0.0 1.0)" in text


# ---------------------------------------------------------------------------- robustness (issue 9)
def test_export_to_a_missing_folder_names_the_file_and_writes_nothing(tmp_path, capsys,
                                                                      monkeypatch):
    import gmnet.io.export as export

    def never(*args, **kwargs):
        raise AssertionError("built the file before checking where it goes")

    monkeypatch.setattr(export, "_file_model", never)
    missing = tmp_path / "missing" / "x.bif"
    code, out, err = run(capsys, "export", "--out", str(missing))
    assert code == 2 and out == "" and err.count("\n") == 1
    assert err == (f"gmnet: error: cannot write {missing}: folder {missing.parent} does not "
                   "exist\n")
    assert "gmnet.json" not in err
    (tmp_path / "d.bif").mkdir()
    with pytest.raises(InvalidArgumentError, match=r"d\.bif: it is a folder"):
        export_network(gmnet.load_network(), tmp_path / "d.bif")
    (tmp_path / "s.bif.gmnet.json").mkdir()
    with pytest.raises(InvalidArgumentError, match=r"the sidecar .*s\.bif\.gmnet\.json of "
                                                   r".*s\.bif: it is a folder"):
        export_network(gmnet.load_network(), tmp_path / "s.bif")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["d.bif", "s.bif.gmnet.json"]


def test_export_failure_leaves_no_sidecar_without_its_file(tmp_path, rh, monkeypatch):
    import os

    real_replace = os.replace
    renamed = []

    def failing(src, dst):
        if str(dst).endswith(".bif"):
            raise OSError(28, "No space left on device", str(src))
        renamed.append(str(dst))
        return real_replace(src, dst)

    monkeypatch.setattr(os, "replace", failing)
    with pytest.raises((OSError, gmnet.GmnetError), match="No space left"):
        export_network(rh, tmp_path / "rh.bif")
    assert list(tmp_path.iterdir()) == [] and renamed == []  # no sidecar, no temporary file


def test_export_writes_the_file_before_its_sidecar(tmp_path, rh, monkeypatch):
    import os

    real_replace = os.replace
    order = []

    def spy(src, dst):
        order.append(Path(dst).name)
        return real_replace(src, dst)

    monkeypatch.setattr(os, "replace", spy)
    result = export_network(rh, tmp_path / "rh.net")
    assert order == ["rh.net", "rh.net.gmnet.json"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["rh.net", "rh.net.gmnet.json"]
    assert import_network(result.path).spec == rh.spec
    umask = os.umask(0)
    os.umask(umask)
    for name in ("rh.net", "rh.net.gmnet.json"):  # the mode a plain open() gives
        assert (tmp_path / name).stat().st_mode & 0o777 == 0o666 & ~umask


@pytest.mark.parametrize("fmt, name, said", [("uai", "x.bif", "BIF"), ("bif", "x.xml", "XMLBIF"),
                                             ("net", "x.xdsl", "GeNIe XDSL")])
def test_export_format_contradicting_the_file_name_is_refused(tmp_path, capsys, fmt, name,
                                                              said):
    out = tmp_path / name
    code, stdout, err = run(capsys, "export", "--format", fmt, "--out", str(out))
    assert code == 2 and stdout == "" and err.count("\n") == 1
    assert f"format {fmt} contradicts the file name '{out}' (a {said} file)" in err
    assert not list(tmp_path.iterdir())
    code, _, err = run(capsys, "export", "--format", "bif", "--out", str(tmp_path / "n.yaml"))
    assert code == 2 and "a .yaml file is a gmnet network file; name the file n.bif" in err
    assert export_network(gmnet.load_network(), tmp_path / "plain", format="uai").format == "uai"


def test_import_checks_its_output_folder_first(tmp_path, capsys, monkeypatch):
    import gmnet.io.formats as formats

    def never(*args, **kwargs):
        raise AssertionError("imported before checking where the result goes")

    monkeypatch.setattr(formats, "import_network", never)
    source = tmp_path / "rh.bif"
    export_network(gmnet.load_network("reward_hacking"), source)
    missing = tmp_path / "missing" / "rh.yaml"
    code, out, err = run(capsys, "import", str(source), "--out", str(missing))
    assert code == 2 and out == ""
    assert f"cannot write {missing}: folder {missing.parent} does not exist" in err
