import os
from pathlib import Path

import pytest

import gmnet

TOY_DIR = Path(__file__).parent / "networks"


@pytest.fixture(scope="session", autouse=True)
def kernel_cache(tmp_path_factory):
    """Compiled loops (gmnet.model.expression_kernel) go to one directory of this run, never
    to the user's cache; subprocesses (the CLI, the server) inherit it."""
    path = tmp_path_factory.getbasetemp() / "gmnet-cache"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("GMNET_CACHE_DIR", str(path))
        yield path


@pytest.fixture()
def chunk_calls(monkeypatch):
    """The (size, effort) of every chunk the batched engine computes in this process, in order
    (a spy on ``BatchedQuery._chunk``)."""
    from gmnet.inference.batched import BatchedQuery

    calls: list[tuple[int, int]] = []
    chunk = BatchedQuery._chunk

    def spy(self, values, size, effort):
        calls.append((size, effort))
        return chunk(self, values, size, effort)

    monkeypatch.setattr(BatchedQuery, "_chunk", spy)
    return calls


@pytest.fixture(scope="session")
def net():
    return gmnet.load_network()


@pytest.fixture(scope="session")
def toy():
    return {name: gmnet.load_network(TOY_DIR / f"{name}.yaml")
            for name in ("chain", "fork", "collider")}


CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]


@pytest.fixture(scope="module")
def browser():
    """Debian's chromium under Playwright, for the browser tests (each module skips itself
    first when Playwright is missing)."""
    from playwright.sync_api import sync_playwright

    if not os.path.exists(CHROMIUM):
        pytest.fail(f"Debian's chromium is not installed ({CHROMIUM} is missing); `make test` "
                    "installs it (its system-deps target: apt-get install chromium)")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()
