"""Checks that run over every network file in networks/: it loads, validates, has sources for
every number, reproduces its own calibration targets, and survives gmnet's writers.

Scenario and worldview files (scenarios*.yaml, worldviews*.yaml) are not networks and are
skipped. A new network file is covered by adding it to networks/: nothing to register.
"""

from pathlib import Path

import numpy as np
import pytest
import yaml

import gmnet
from gmnet.io.formats import export_network, import_network
from gmnet.io.yaml_writer import network_yaml
from gmnet.model.network import NETWORKS_DIR, network_from_dict

NETWORK_FILES = sorted(p for p in NETWORKS_DIR.glob("*.yaml")
                       if not p.name.startswith(("scenarios", "worldviews")))
IDS = [p.stem for p in NETWORK_FILES]


def test_the_bundled_networks_are_calibrated():
    assert {"goal_misgeneralization", "reward_hacking"} <= set(IDS)
    assert set(IDS) == set(gmnet.bundled_networks())
    for name in ("goal_misgeneralization", "reward_hacking"):
        assert len(gmnet.load_network(name).spec.targets) >= 6


@pytest.fixture(scope="module", params=NETWORK_FILES, ids=IDS)
def network(request):
    return gmnet.validate_file(request.param)


def test_loads_under_its_file_name(network):
    assert gmnet.load_network(network.name).spec == network.spec
    assert Path(network.path).stem == network.name


def test_every_number_and_table_has_a_source(network):
    for p in network.parameters.values():
        assert p.source.strip(), p.name
    for v in network.variables:
        cpt = network.node(v).cpt
        if cpt.kind in ("uniform", "table"):
            assert cpt.source.strip(), v
    for target in network.spec.targets:
        assert target.source.strip()


def test_reproduces_its_calibration_targets(network):
    for t in network.spec.targets:
        got = network.query(t.target, evidence=t.evidence, do=t.do)[t.state]
        assert abs(got - t.value) <= t.tolerance, (
            f"{network.name}: P({t.target}={t.state} | {t.evidence}, do {t.do}) = {got:.6f}, "
            f"target {t.value} +- {t.tolerance} ({t.source})")


def test_targets_agree_with_pgmpy(network):
    for t in network.spec.targets[:3]:
        ours = network.query(t.target, evidence=t.evidence, do=t.do)
        theirs = network.query(t.target, evidence=t.evidence, do=t.do, engine="pgmpy")
        for state in ours:
            assert abs(ours[state] - theirs[state]) < 1e-10


def test_neutral_context_names_real_states(network):
    neutral = network.metadata.get("neutral_context", {})
    for var, state in neutral.items():
        network.check_state(var, state)


def test_yaml_writer_reproduces_the_file(network):
    text = network_yaml(network)
    again = network_from_dict(yaml.safe_load(text), path="<rewritten>")
    assert again.spec == network.spec


def test_exports_and_imports_exactly(tmp_path, network):
    path = tmp_path / f"{network.name}.xml"
    export_network(network, path)
    back = import_network(path)
    assert back.spec == network.spec
    plain = import_network(path, sidecar=False)
    for v in network.variables:
        assert np.array_equal(plain.cpt(v), network.cpt(v))
    for t in network.spec.targets:
        a = network.query(t.target, evidence=t.evidence, do=t.do)[t.state]
        b = plain.query(t.target, evidence=t.evidence, do=t.do)[t.state]
        assert abs(a - b) <= 1e-12


def test_the_yaml_in_docs_networks_md_parses():
    import re

    text = (NETWORKS_DIR.parent / "docs" / "networks.md").read_text()
    blocks = re.findall(r"```yaml\n(.*?)```", text, re.S)
    assert len(blocks) >= 8
    for block in blocks:
        assert isinstance(yaml.safe_load(block), dict), block[:60]
    # the worked example's CPT is the file's
    rh = gmnet.load_network("reward_hacking")
    assert rh.node("reward_hacked").cpt.probabilities["yes"] in text
