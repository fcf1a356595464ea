"""``gmnet serve``: starts on loopback, answers, refuses a busy port with a one-line error."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time

import pytest

pytest.importorskip("uvicorn", reason="gmnet serve needs uvicorn: pip install 'gmnet[web]'")

import httpx  # noqa: E402

from gmnet.cli import main  # noqa: E402


def test_serve_starts_on_loopback_and_answers(tmp_path):
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    out = tmp_path / "out.txt"
    with open(out, "w") as sink:
        proc = subprocess.Popen([sys.executable, "-m", "gmnet.cli", "serve", "--port", "0"],
                                stdout=sink, stderr=subprocess.STDOUT, env=env)
    try:
        deadline = time.monotonic() + 30
        line = ""
        while time.monotonic() < deadline and proc.poll() is None:
            line = out.read_text()
            if "serving" in line:
                break
            time.sleep(0.05)
        assert line.startswith("gmnet: serving goal_misgeneralization at http://127.0.0.1:"), line
        url = line.split(" at ")[1].split()[0]
        for _ in range(100):
            try:
                r = httpx.get(url + "api/health", timeout=5)
                break
            except httpx.ConnectError:
                time.sleep(0.05)
        assert r.status_code == 200 and r.json()["networks"] == ["goal_misgeneralization"]
        r = httpx.post(url + "api/query", json={"do": {"shift_type": "extreme"}}, timeout=10)
        assert r.status_code == 200 and r.json()["target"] == "harm"
        assert httpx.get(url, timeout=5).text.startswith("<!doctype html>")
    finally:
        proc.terminate()
        proc.wait(10)


def test_serve_port_in_use(capsys):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        code = main(["serve", "--port", str(port)])
    _, err = capsys.readouterr()
    assert code == 2
    assert err.strip() == (f"gmnet: error: port {port} on 127.0.0.1 is already in use; choose "
                           "another with --port (or --port 0 for any free one)")


def test_serve_unknown_network(capsys):
    code = main(["serve", "--port", "0", "--network", "nonexistent"])
    _, err = capsys.readouterr()
    assert code == 2 and err.startswith("gmnet: error: unknown network 'nonexistent'")


def test_serve_help_names_the_options(capsys):
    code = main(["serve", "--help"])
    out, _ = capsys.readouterr()
    assert code == 0
    for option in ("--host", "--port", "--network", "--open", "--timeout"):
        assert option in out
