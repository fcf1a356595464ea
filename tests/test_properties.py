"""Property-based tests: random valid networks agree in every engine; random corruptions of a
network file and random malformed queries always end in a GmnetError with a message."""

import copy
import math

import numpy as np
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import gmnet
from gmnet.model.network import NETWORKS_DIR, network_from_dict

SETTINGS = settings(max_examples=40, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@st.composite
def random_network(draw):
    n = draw(st.integers(2, 6))
    cards = [draw(st.integers(2, 3)) for _ in range(n)]
    nodes = {}
    for j in range(n):
        parents = [f"v{i}" for i in range(j) if draw(st.booleans())][:3]
        rows = []
        configs = int(np.prod([cards[int(p[1:])] for p in parents])) if parents else 1
        for _ in range(configs):
            weights = [draw(st.floats(0.0, 1.0)) for _ in range(cards[j])]
            if draw(st.integers(0, 9)) == 0:  # sometimes a deterministic row
                weights = [0.0] * cards[j]
                weights[draw(st.integers(0, cards[j] - 1))] = 1.0
            total = sum(weights)
            if total == 0:
                weights, total = [1.0] * cards[j], float(cards[j])
            row = [w / total for w in weights]
            row[-1] = 1.0 - sum(row[:-1])
            rows.append([max(0.0, x) for x in row])
        nodes[f"v{j}"] = {"states": [f"s{k}" for k in range(cards[j])], "parents": parents,
                          "cpt": {"kind": "table", "rows": rows, "source": "random"}}
    return {"name": "random", "nodes": nodes}


@st.composite
def network_and_query(draw):
    data = draw(random_network())
    net = network_from_dict(data)
    names = list(net.variables)
    target = draw(st.sampled_from(names))
    others = [v for v in names if v != target]
    chosen = draw(st.lists(st.sampled_from(others), unique=True, max_size=len(others)))
    split = draw(st.integers(0, len(chosen)))
    evidence = {v: draw(st.sampled_from(net.states(v))) for v in chosen[:split]}
    do = {v: draw(st.sampled_from(net.states(v))) for v in chosen[split:]}
    return net, target, evidence, do


@SETTINGS
@given(network_and_query())
def test_random_networks_agree_in_every_engine(case):
    net, target, evidence, do = case
    answers = {}
    for engine in gmnet.ENGINES:
        try:
            answers[engine] = net.query(target, evidence=evidence, do=do, engine=engine)
        except gmnet.ImpossibleEvidenceError:
            answers[engine] = None
    ref = answers["enumeration"]
    for engine, got in answers.items():
        if ref is None or got is None:
            assert got is ref, engine
            continue
        for state, p in ref.items():
            assert math.isfinite(got[state])
            assert got[state] == pytest.approx(p, abs=1e-12), engine


BUNDLED = yaml.safe_load((NETWORKS_DIR / "goal_misgeneralization.yaml").read_text())


def _paths(obj, prefix=()):
    """Every path to a value inside nested dicts and lists."""
    yield prefix
    if isinstance(obj, dict):
        for k, v in obj.items():
            yield from _paths(v, prefix + (k,))
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            yield from _paths(v, prefix + (i,))


ALL_PATHS = [p for p in _paths(BUNDLED) if p]
BAD_VALUES = st.sampled_from([None, "", "x", -1, -1e308, 1e308, float("nan"), float("inf"),
                              [], {}, [1, 2, 3], {"value": 2.0}, True, "rest", "combine(", 0])


@st.composite
def corruption(draw):
    data = copy.deepcopy(BUNDLED)
    kind = draw(st.sampled_from(["delete", "replace", "cycle", "unknown_parent",
                                 "duplicate_state", "scale"]))
    nodes = list(data["nodes"])
    if kind in ("delete", "replace"):
        path = draw(st.sampled_from(ALL_PATHS))
        parent = data
        for key in path[:-1]:
            parent = parent[key]
        if kind == "delete":
            if isinstance(parent, dict):
                del parent[path[-1]]
            else:
                parent.pop(path[-1])
        else:
            parent[path[-1]] = draw(BAD_VALUES)
    elif kind == "cycle":
        a, b = draw(st.sampled_from(nodes)), draw(st.sampled_from(nodes))
        data["nodes"][a].setdefault("parents", []).append(b)
        data["nodes"][b].setdefault("parents", []).append(a)
    elif kind == "unknown_parent":
        data["nodes"][draw(st.sampled_from(nodes))].setdefault("parents", []).append("ghost")
    elif kind == "duplicate_state":
        node = data["nodes"][draw(st.sampled_from(nodes))]
        node["states"] = node["states"] + node["states"][:1]
    else:  # numbers that break probabilities
        group = draw(st.sampled_from(list(data["parameters"])))
        factor = draw(st.sampled_from([-1.0, 10.0, 1e9, float("nan")]))
        spec = data["parameters"][group]
        for pv in (spec.get("values") or {"_": spec}).values():
            pv["value"] = pv["value"] * factor
            pv.pop("range", None)
    return data


@SETTINGS
@given(corruption())
def test_corrupted_network_files_raise_gmnet_errors(data):
    try:
        net = network_from_dict(data, path="corrupt.yaml")
    except gmnet.GmnetError as exc:
        assert str(exc).strip()
        assert "corrupt.yaml" in str(exc)
        return
    # some corruptions are harmless (e.g. deleting a description): the result must still be sane
    p = net.query("harm")["yes"]
    assert 0.0 <= p <= 1.0


@SETTINGS
@given(st.binary(max_size=400))
def test_random_bytes_as_a_network_file(tmp_path_factory, blob):
    path = tmp_path_factory.mktemp("blob") / "net.yaml"
    path.write_bytes(blob)
    with pytest.raises(gmnet.GmnetError):
        gmnet.load_network(path)


@SETTINGS
@given(st.text(max_size=120))
def test_random_query_text_parses_or_raises_a_gmnet_error(text):
    net = gmnet.load_network()
    try:
        parsed = gmnet.parse_query(text)
        net.query(parsed.target, evidence=parsed.evidence, do=parsed.do)
    except gmnet.GmnetError as exc:
        assert str(exc).strip()


@SETTINGS
@given(st.dictionaries(st.text(max_size=12), st.one_of(st.text(max_size=12), st.integers(),
                                                        st.none()), max_size=3),
       st.text(max_size=20))
def test_random_query_arguments_raise_gmnet_errors(mapping, target):
    net = gmnet.load_network()
    for kwargs in ({"evidence": mapping}, {"do": mapping}):
        try:
            result = net.query(target or "harm", **kwargs)
        except gmnet.GmnetError as exc:
            assert str(exc).strip()
        else:
            assert abs(sum(result.values()) - 1.0) < 1e-12
