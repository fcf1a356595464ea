from pathlib import Path

import pytest

import gmnet

TOY_DIR = Path(__file__).parent / "networks"


@pytest.fixture(scope="session")
def net():
    return gmnet.load_network()


@pytest.fixture(scope="session")
def toy():
    return {name: gmnet.load_network(TOY_DIR / f"{name}.yaml")
            for name in ("chain", "fork", "collider")}
