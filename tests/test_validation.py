"""Loading validates a network file's shape and meaning and reports every problem at once."""

import copy

import pytest
import yaml

import gmnet
from gmnet.model.network import network_from_dict

BASE = {
    "name": "tiny",
    "parameters": {
        "p_rain": {"value": 0.3, "range": [0.2, 0.4], "source": "assumption: test"},
        "p_wet": {"index": "rain", "values": {
            "yes": {"value": 0.9, "source": "assumption: test"},
            "no": {"value": 0.1, "source": "assumption: test"}}},
    },
    "nodes": {
        "rain": {"states": ["yes", "no"],
                 "cpt": {"kind": "prior", "probabilities": {"yes": "p_rain", "no": "rest"}}},
        "wet": {"states": ["yes", "no"], "parents": ["rain"],
                "cpt": {"kind": "expression",
                        "probabilities": {"yes": "p_wet[rain]", "no": "rest"}}},
    },
}


def load(data, path="tiny.yaml"):
    return network_from_dict(data, path=path)


def broken(**changes):
    data = copy.deepcopy(BASE)
    for dotted, value in changes.items():
        target = data
        keys = dotted.split(".")
        for k in keys[:-1]:
            target = target[k]
        if value is DELETE:
            del target[keys[-1]]
        else:
            target[keys[-1]] = value
    return data


DELETE = object()


def problems_of(data):
    with pytest.raises(gmnet.NetworkFileError) as info:
        load(data)
    return info.value.problems


def test_the_base_file_is_valid():
    net = load(BASE)
    assert net.query("wet")["yes"] == pytest.approx(0.3 * 0.9 + 0.7 * 0.1, abs=1e-15)


def test_rows_must_sum_to_one():
    data = broken(**{"nodes.wet.cpt": {"kind": "table", "rows": [[0.9, 0.2], [0.1, 0.9]],
                                       "source": "test"}})
    assert problems_of(data) == [
        "node 'wet': cpt: probabilities sum to 1.1, not 1 (at rain=yes)"]


def test_values_must_be_probabilities():
    data = broken(**{"nodes.wet.cpt": {"kind": "table", "rows": [[1.2, -0.2], [0.1, 0.9]],
                                       "source": "test"}})
    assert problems_of(data) == ["node 'wet': cpt: probability -0.2 outside [0, 1] (at rain=yes)"]
    data = broken(**{"parameters.p_rain.value": 1.3, "parameters.p_rain.range": None})
    assert problems_of(data)[0] == ("parameter 'p_rain': 1.3 is not a probability; "
                                    "a probability lies in [0, 1]")


def test_graph_must_be_acyclic():
    data = broken(**{"nodes.rain.parents": ["wet"],
                     "nodes.rain.cpt": {"kind": "table", "rows": [[0.5, 0.5], [0.5, 0.5]],
                                        "source": "t"}})
    assert "nodes: the graph has a cycle: rain -> wet -> rain" in problems_of(data) or \
        "nodes: the graph has a cycle: wet -> rain -> wet" in problems_of(data)


def test_parents_must_exist():
    data = broken(**{"nodes.wet.parents": ["rain", "sprinkler"]})
    assert problems_of(data)[0] == ("node 'wet': parents: unknown parent 'sprinkler'; "
                                    "nodes: rain, wet")


def test_states_must_be_unique():
    data = broken(**{"nodes.rain.states": ["yes", "yes"]})
    assert "node 'rain': states: duplicate state 'yes'" in problems_of(data)


def test_ranges_must_contain_their_points():
    data = broken(**{"parameters.p_rain.range": [0.4, 0.5]})
    assert problems_of(data) == [
        "parameter 'p_rain': range [0.4, 0.5] does not contain the point value 0.3"]


def test_shape_errors_name_node_and_key():
    data = broken(**{"nodes.wet.states": DELETE, "nodes.rain.colour": "blue"})
    problems = problems_of(data)
    assert "node 'wet': states: required key is missing" in problems
    assert "node 'rain': colour: unknown key" in problems


def test_every_problem_is_reported_at_once(tmp_path):
    data = broken(**{"parameters.p_rain.range": [0.4, 0.5],
                     "nodes.wet.parents": ["rain", "sprinkler"],
                     "nodes.rain.states": ["yes", "yes"]})
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(gmnet.NetworkFileError) as info:
        gmnet.validate_file(path)
    err = info.value
    assert len(err.problems) == 2  # structure problems stop before parameter checks
    assert str(path) in str(err)
    assert "unknown parent 'sprinkler'" in str(err) and "duplicate state 'yes'" in str(err)


def test_unknown_names_in_expressions():
    data = broken(**{"nodes.wet.cpt.probabilities.yes": "p_wett[rain]"})
    assert problems_of(data) == ["node 'wet': cpt: expression 'p_wett[rain]' refers to unknown "
                                 "name 'p_wett'; parents: rain"]


def test_parameter_keys_must_match_states():
    data = broken(**{"parameters.p_wet.values.maybe": {"value": 0.5, "source": "t"}})
    assert problems_of(data)[0].startswith(
        "parameter 'p_wet': values must be keyed by the states of rain (yes, no): "
        "not states of rain: maybe")


def test_every_number_needs_a_source():
    data = broken(**{"parameters.p_rain.source": DELETE})
    assert problems_of(data) == ["parameter 'p_rain': source: missing (the document's table and "
                                 "row, or 'assumption: <why>')"]


def test_bad_yaml_and_bad_top_level(tmp_path):
    path = tmp_path / "broken.yaml"
    path.write_text("name: x\nnodes: [unclosed\n")
    with pytest.raises(gmnet.NetworkFileError, match=r"not valid YAML at line \d+"):
        gmnet.load_network(path)
    with pytest.raises(gmnet.NetworkFileError, match="top level: expected a mapping"):
        load(["a", "list"])


def test_yaml_is_loaded_safely(tmp_path):
    path = tmp_path / "evil.yaml"
    path.write_text("name: !!python/object/apply:os.system ['echo hacked']\nnodes: {}\n")
    with pytest.raises(gmnet.NetworkFileError, match="not valid YAML"):
        gmnet.load_network(path)


def test_unknown_network_name_lists_the_bundled_ones():
    with pytest.raises(gmnet.UnknownNameError,
                       match=r"unknown network 'goal_misgen'.*goal_misgeneralization"):
        gmnet.load_network("goal_misgen")
    with pytest.raises(gmnet.UnknownNameError, match="no such file"):
        gmnet.load_network("nowhere/missing.yaml")


def test_bundled_network_files_validate():
    for name in gmnet.bundled_networks():
        net = gmnet.load_network(name)
        assert net.variables


def test_calibration_targets_must_name_known_nodes_and_states():
    data = broken(**{"targets": [{"target": "wet", "state": "soaked", "evidence": {"cloud": "yes"},
                                  "value": 0.3, "source": "t"}]})
    assert problems_of(data) == [
        "targets[0]: target: unknown state 'soaked' of wet; states: yes, no",
        "targets[0]: evidence: unknown node 'cloud'; nodes: rain, wet",
    ]


def test_a_folder_is_not_a_network(tmp_path):
    with pytest.raises(gmnet.InvalidArgumentError, match=rf"{tmp_path} is a folder; name a "
                                                         "network file in it"):
        gmnet.load_network(tmp_path)


def test_the_topological_order_is_networkx_lexicographic_one():
    # loading a network orders its nodes without networkx; the order must be the one
    # networkx.lexicographical_topological_sort gives keyed by declaration order
    from types import SimpleNamespace

    import networkx as nx
    import numpy as np

    from gmnet.model.checks import _graph, topological_order
    from tests.test_batched import random_network

    def spec_of(parents: dict) -> SimpleNamespace:
        return SimpleNamespace(nodes={v: SimpleNamespace(parents=list(p))
                                      for v, p in parents.items()})

    specs = [gmnet.load_network().spec, load(copy.deepcopy(BASE)).spec]
    specs += [random_network(seed).spec for seed in range(40)]
    rng = np.random.default_rng(5)
    for _ in range(40):  # random DAGs declared in shuffled order, a parent listed twice
        names = [f"v{k}" for k in range(12)]
        parents = {v: sorted({names[j] for j in rng.integers(0, k, size=3)}) if k else []
                   for k, v in enumerate(names)}
        specs.append(spec_of({v: parents[v] + parents[v][:1]
                              for v in rng.permutation(names)}))
    for spec in specs:
        expected = tuple(nx.lexicographical_topological_sort(_graph(spec),
                                                             key=list(spec.nodes).index))
        assert topological_order(spec) == expected
    assert topological_order(spec_of({"a": ["c"], "b": ["a"], "c": ["b"], "d": []})) is None
