"""Generated documentation stays current, and the docs name every number of the network."""

from pathlib import Path

import gmnet
from gmnet.model.describe import parameter_users, parameters_markdown

DOCS = Path(__file__).parent.parent / "docs"


def test_parameters_md_is_current(net):
    committed = (DOCS / "parameters.md").read_text()
    assert committed == parameters_markdown(net).rstrip("\n") + "\n", (
        "docs/parameters.md is stale: run `gmnet show --markdown > docs/parameters.md`")


def test_every_parameter_is_listed_with_its_source(net):
    text = (DOCS / "parameters.md").read_text()
    for p in net.parameters.values():
        assert f"| `{p.name}` |" in text
    assert f"{len(net.parameters)} numbers," in text


def test_every_parameter_is_used_by_some_node(net):
    users = parameter_users(net)
    # costs and the cost weight are read by the decision analyses, not by a node
    unused = sorted({p.group for p in net.parameters.values() if p.unit not in ("cost", "weight")}
                    - set(users))
    assert unused == []


def test_cli_markdown_matches(capsys):
    from gmnet.cli import main

    assert main(["show", "--markdown", "--network", "reward_hacking"]) == 0
    out = capsys.readouterr().out
    assert out == parameters_markdown(gmnet.load_network("reward_hacking")).rstrip("\n") + "\n"
