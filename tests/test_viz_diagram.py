"""The pathway diagram: DOT text, rendered files in every format, posteriors, markings, layout."""

from __future__ import annotations

import html
import itertools
import json
import re
import shutil

import pytest

import gmnet
from gmnet.model.network import network_from_dict
from gmnet.viz import diagram as diagram_module
from gmnet.viz.diagram import DotNotFoundError, draw, format_from_suffix, node_marginals

needs_dot = pytest.mark.skipif(shutil.which("dot") is None,
                               reason="Graphviz's dot is not installed (Debian: graphviz)")

QUERY = "P(harm | shift_type=extreme, do(alignment_method=standard))"


def _yes_no(prob: str) -> dict:
    return {"yes": prob, "no": "rest"}


def layered_network():
    """A small network with every phase and role the drawing knows."""
    return network_from_dict({
        "name": "layered",
        "title": "Layered toy",
        "parameters": {"p": {"value": 0.3, "source": "assumption: test"}},
        "nodes": {
            "setting": {"label": "A setting & more", "phase": "context", "role": "context",
                        "states": ["a", "b"], "cpt": {"kind": "uniform", "source": "test"}},
            "guard": {"label": "Guard", "phase": "prevention", "role": "mitigation",
                      "states": ["on", "off"], "parents": ["setting"],
                      "cpt": {"kind": "expression",
                              "probabilities": {"on": "where(setting == 'a', 0.8, 0.2)",
                                                "off": "rest"}}},
            "learned": {"label": "Learned", "phase": "training", "role": "pathway",
                        "states": ["good", "bad"], "parents": ["guard"],
                        "cpt": {"kind": "expression",
                                "probabilities": {"bad": "where(guard == 'on', 0.1, p)",
                                                  "good": "rest"}}},
            "failure": {"label": "Failure", "phase": "deployment", "role": "pathway",
                        "states": ["yes", "no"], "parents": ["learned", "setting"],
                        "cpt": {"kind": "expression", "probabilities": _yes_no(
                            "where(learned == 'bad', where(setting == 'a', 0.9, 0.6), 0.05)")}},
            "alarm": {"label": "Alarm", "phase": "detection", "role": "alarm",
                      "states": ["fires", "quiet"], "parents": ["failure"],
                      "cpt": {"kind": "expression",
                              "probabilities": {"fires": "where(failure == 'yes', 0.7, 0.1)",
                                                "quiet": "rest"}}},
            "brake": {"label": "Brake", "phase": "response", "role": "mitigation",
                      "states": ["on", "off"], "parents": ["alarm"],
                      "cpt": {"kind": "expression",
                              "probabilities": {"on": "where(alarm == 'fires', 0.9, 0.0)",
                                                "off": "rest"}}},
            "harm": {"label": "Harm", "phase": "outcome", "role": "outcome",
                     "states": ["yes", "no"], "parents": ["failure", "brake"],
                     "cpt": {"kind": "expression", "probabilities": _yes_no(
                         "where(failure == 'yes', where(brake == 'on', 0.2, 0.8), 0)")}},
        },
    })


@pytest.fixture(scope="module")
def layered():
    return layered_network()


# ============================================================================ marginals
def test_node_marginals_match_queries(net):
    ev, do = {"shift_type": "extreme"}, {"alignment_method": "standard"}
    marginals = node_marginals(net, ev, do)
    assert list(marginals) == list(net.variables)
    for var in ("harm", "goal_misgeneralizes", "learned_objective", "spec_quality"):
        expected = net.query(var, evidence=ev, do=do)
        assert marginals[var] == pytest.approx(expected, abs=1e-12)
    assert marginals["shift_type"] == {"superficial": 0.0, "moderate": 0.0, "significant": 0.0,
                                       "extreme": 1.0}
    assert marginals["alignment_method"]["standard"] == 1.0
    for dist in marginals.values():
        assert sum(dist.values()) == pytest.approx(1.0)


def test_node_marginals_reject_bad_names(net):
    with pytest.raises(gmnet.UnknownNameError, match="choose one of"):
        node_marginals(net, {"shift_typ": "extreme"})
    with pytest.raises(gmnet.InvalidArgumentError, match="both observed and intervened"):
        node_marginals(net, {"shift_type": "extreme"}, {"shift_type": "moderate"})


# ============================================================================ DOT text
def test_dot_without_query_lists_states_and_clusters(layered):
    d = draw(layered)
    assert d.marginals is None and d.target is None
    src = d.source
    assert src.startswith('digraph "layered" {')
    for title in ("Context", "Prevention layer", "Training phase", "Deployment phase",
                  "Detection layer", "Response layer", "Outcome"):
        assert f"<B>{title}</B>" in src
    assert "A setting &amp; more" in src  # labels are escaped for graphviz's HTML labels
    assert "good · bad" in src
    assert "%" not in re.sub(r"POINT-SIZE", "", src.split("subgraph", 1)[1])


def test_every_node_sits_in_its_phase_cluster(layered):
    src = draw(layered).source
    clusters = re.split(r"\n  subgraph ", src)[1:]
    found = {}
    for block in clusters:
        phase = re.match(r"cluster_\d+_(\w+)", block).group(1)
        body = block.split("\n  }")[0]
        for var in re.findall(r'^    "(\w+)" \[label=', body, flags=re.M):
            found[var] = phase
    assert found == {v: layered.node(v).phase for v in layered.variables}


def _drawn_edges(source: str) -> set[tuple[str, str]]:
    return set(re.findall(r'^  "(\w+)" -> "(\w+)"', source, flags=re.M))


def test_columns_read_left_to_right_in_the_documents_order(net, layered):
    for network in (net, layered):
        source = draw(network).source
        assert 'rankdir="LR"' in source
        levels = diagram_module._levels(network)
        drawn = _drawn_edges(source)
        for p, v in drawn:  # every drawn arrow points right, or down within a column
            assert levels[p] <= levels[v], (p, v)
            if network.node(v).role != "mitigation" and network.node(p).role != "mitigation":
                assert levels[p] < levels[v], (p, v)

        def column(phase, role=None, network=network, levels=levels):
            return [levels[v] for v in network.variables if network.node(v).phase == phase
                    and (role is None or network.node(v).role == role)]

        # context, training, deployment, detection alarms, outcome: left to right
        order = [column("context"), column("training"), column("deployment"),
                 column("detection", "alarm"), column("outcome")]
        for left, right in itertools.pairwise(order):
            assert max(left) < min(right)
        for v in network.variables:  # a mitigation sits just before the first node it acts on
            if network.node(v).role == "mitigation" and network.node(v).phase != "context":
                first = min(levels[c] for c in network.children(v)
                            if network.node(c).role != "mitigation")
                assert levels[v] == first - 1, v
    levels = diagram_module._levels(layered)
    assert [levels[v] for v in ("setting", "learned", "failure", "alarm", "harm")] == [
        0, 1, 2, 3, 4]


def test_context_shortcuts_are_written_in_the_node_not_drawn(net):
    source = draw(net, QUERY).source
    drawn = _drawn_edges(source)
    for parent in ("shift_type", "spec_quality", "training_diversity", "alignment_method"):
        assert (parent, "goal_misgeneralizes") not in drawn
    assert ("capability_level", "harm") not in drawn and ("shift_type", "harm") not in drawn
    assert not any(p == "capability_level" and net.node(v).role == "mitigation"
                   for p, v in drawn)
    # the pathway's own arrows stay
    for edge in (("learned_objective", "goal_misgeneralizes"), ("spec_quality",
                 "true_goal_features"), ("shift_type", "capability_transfer"),
                 ("containment", "harm")):
        assert edge in drawn, edge
    assert ("also set by distribution shift type,<BR/>specification quality,<BR/>training "
            "diversity,<BR/>alignment method") in source
    assert "not drawn: capability level → each mitigation's adoption (9 arrows)" in source
    # every arrow of the network is drawn or accounted for
    shortcuts, hidden = diagram_module._context_shortcuts(net)
    every = {(p, v) for v in net.variables for p in net.parents(v)}
    accounted = drawn | {(p, v) for v, ps in shortcuts.items() for p in ps} | {
        (p, v) for (v, p) in hidden}
    assert accounted == every


def test_direction_top_to_bottom_keeps_the_columns_as_rows(net, capsys):
    source = draw(net, direction="TB").source
    assert 'rankdir="TB"' in source and "#col 0" in source
    with pytest.raises(gmnet.UnknownNameError, match="LR, TB"):
        draw(net, direction="up")
    from gmnet.cli import main

    assert main(["draw", "--direction", "TB"]) == 0
    assert 'rankdir="TB"' in capsys.readouterr()[0]


def test_an_imported_network_is_laid_out_by_its_own_arrows():
    flat = network_from_dict({
        "name": "flat", "nodes": {
            "a": {"states": ["t", "f"], "cpt": {"kind": "uniform", "source": "test"}},
            "b": {"states": ["t", "f"], "parents": ["a"],
                  "cpt": {"kind": "table", "rows": [[0.9, 0.1], [0.2, 0.8]], "source": "t"}},
        }})
    source = draw(flat).source
    assert "subgraph cluster" not in source and "#col" not in source
    assert 'rankdir="TB"' in source and '"a" -> "b";' in source


def test_query_marks_evidence_do_and_target(net):
    d = draw(net, QUERY)
    assert d.target == "harm" and d.evidence == {"shift_type": "extreme"}
    assert d.do == {"alignment_method": "standard"}
    expected = net.query("harm", evidence={"shift_type": "extreme"},
                         do={"alignment_method": "standard"})
    assert d.target_distribution == pytest.approx(expected)
    src = d.source
    assert "observed: extreme" in src and "do(standard)" in src and ">target<" in src
    node_line = re.search(r'^    "harm" \[.*$', src, flags=re.M).group(0)
    assert 'penwidth="3.5"' in node_line and 'color="#b3001b"' in node_line
    do_line = re.search(r'^    "alignment_method" \[.*$', src, flags=re.M).group(0)
    assert "dashed" in do_line
    assert f"{expected['yes']:.1%}" in src


def test_do_cuts_the_arrows_into_the_intervened_node(net):
    src = draw(net, do={"learned_objective": "proxy"}).source
    for parent in net.parents("learned_objective"):
        line = re.search(rf'^  "{parent}" -> "learned_objective".*$', src, flags=re.M).group(0)
        assert 'style="dashed"' in line and 'arrowhead="none"' in line
    kept = re.search(r'^  "learned_objective" -> "goal_misgeneralizes"(.*)$', src,
                     flags=re.M).group(1)
    assert "dashed" not in kept


def test_draw_validates_its_arguments(net):
    with pytest.raises(gmnet.QuerySyntaxError):
        draw(net, "harm | x")
    with pytest.raises(gmnet.UnknownNameError, match="did you mean 'harm'"):
        draw(net, target="harmm")
    with pytest.raises(gmnet.InvalidArgumentError, match="differs from the query's target"):
        draw(net, "P(harm)", target="goal_misgeneralizes")
    with pytest.raises(gmnet.UnknownNameError, match="state"):
        draw(net, "P(harm=maybe)")
    with pytest.raises(gmnet.InvalidArgumentError, match="query must be a string"):
        draw(net, 42)


def test_format_from_suffix():
    assert format_from_suffix("a/b.SVG") == "svg"
    assert format_from_suffix("x.gv") == "dot"
    with pytest.raises(gmnet.InvalidArgumentError, match=r"\.svg, \.png, \.pdf, \.dot"):
        format_from_suffix("x.jpg")


# ============================================================================ rendering
@needs_dot
@pytest.mark.parametrize("fmt, magic", [("svg", b"<svg"), ("png", b"\x89PNG\r\n\x1a\n"),
                                        ("pdf", b"%PDF-"), ("dot", b'digraph "')])
def test_files_in_every_format(net, tmp_path, fmt, magic):
    path = draw(net, QUERY).save(tmp_path / f"pathway.{fmt}")
    data = path.read_bytes()
    if fmt == "svg":
        data = data[data.index(b"<svg"):]
    assert data.startswith(magic)
    assert len(data) > 2000
    assert not list(tmp_path.glob(".*"))  # no temporary file left behind


@needs_dot
def test_svg_shows_every_label_and_the_target_probability(net):
    d = draw(net, QUERY)
    svg = d.svg()
    texts = [html.unescape(t) for t in re.findall(r"<text[^>]*>([^<]*)</text>", svg)]
    for var in net.variables:
        assert (net.node(var).label or var) in texts, var
    p = d.target_distribution["yes"]
    assert f"{p:.1%}" in texts
    assert "<!DOCTYPE" not in svg
    assert "DejaVu Sans,Verdana" in svg


@needs_dot
def test_nodes_do_not_overlap(net):
    """Graphviz's own layout, read back as JSON: no two node boxes intersect."""
    layout = json.loads(diagram_module._run_dot(draw(net, QUERY).source, "json"))
    boxes = []
    for obj in layout["objects"]:
        if obj.get("name") in net.variables:
            x, y = map(float, obj["pos"].split(","))
            w, h = float(obj["width"]) * 72, float(obj["height"]) * 72
            boxes.append((obj["name"], x - w / 2, y - h / 2, x + w / 2, y + h / 2))
    assert len(boxes) == len(net.variables)
    for (a, ax0, ay0, ax1, ay1), (b, bx0, by0, bx1, by1) in itertools.combinations(boxes, 2):
        overlap = min(ax1, bx1) - max(ax0, bx0) > 1 and min(ay1, by1) - max(ay0, by0) > 1
        assert not overlap, (a, b)


@needs_dot
def test_network_displays_itself_in_jupyter(net):
    formatters = pytest.importorskip("IPython.core.formatters")
    from types import SimpleNamespace

    from gmnet.viz.notebook import register_formatters

    shell = SimpleNamespace(display_formatter=formatters.DisplayFormatter())
    assert register_formatters(shell) is True
    bundle, _ = shell.display_formatter.format(net)
    svg = bundle["image/svg+xml"]
    assert svg.lstrip().startswith("<?xml") or "<svg" in svg
    assert "Goal misgeneralizes" in svg
    d = draw(net, QUERY)
    assert "<svg" in d._repr_svg_()


# ============================================================================ no dot
@pytest.fixture()
def no_dot(monkeypatch, tmp_path):
    """A PATH on which Graphviz's dot cannot be found."""
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    return tmp_path


def test_missing_dot_names_the_debian_package(net, no_dot):
    d = draw(net, QUERY)
    with pytest.raises(DotNotFoundError) as info:
        d.render("svg")
    message = str(info.value)
    assert "'dot' program" in message and "Debian package graphviz" in message
    assert "apt-get install graphviz" in message
    assert isinstance(info.value, gmnet.GmnetError)
    # the DOT text needs no Graphviz, and Jupyter falls back to the text form
    assert (d.save(no_dot / "pathway.dot")).read_text().startswith("digraph")
    assert d._repr_svg_() is None
    from gmnet.viz.notebook import network_svg

    assert network_svg(net) is None  # what Jupyter shows a network as
    # the rest of gmnet works
    assert net.query("harm", do={"shift_type": "extreme"})["yes"] > 0


def test_missing_python_graphviz_says_what_to_install(net, monkeypatch):
    import builtins

    real_import = builtins.__import__

    def fake_import(name, *args, **kwargs):
        if name == "graphviz":
            raise ImportError("no graphviz")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", fake_import)
    with pytest.raises(DotNotFoundError, match="pip install graphviz"):
        draw(net).render("png")


@needs_dot
def test_save_refuses_a_format_contradicting_the_file_name(net, tmp_path):
    d = draw(net)
    with pytest.raises(gmnet.InvalidArgumentError,
                       match=r"format svg contradicts the file name '.*x\.png' \(a \.png file\); "
                             r"leave the format out to write png, or name the file x\.svg"):
        d.save(tmp_path / "x.png", format="svg")
    assert not list(tmp_path.iterdir())
    assert d.save(tmp_path / "x.svg", format="svg").read_bytes().startswith(b"<?xml")
    with pytest.raises(gmnet.UnknownNameError, match="diagram format 'gif'"):
        d.save(tmp_path / "x", format="gif")
