"""Small things of the command line: ``python -m gmnet``, ``--version``, ``serve --access-log``,
``run`` writing a report only when asked, ``show NODE --cpt``."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

import gmnet
from gmnet.cli import main


def _run(capsys, *args):
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_python_m_gmnet_runs_the_command_line():
    version = subprocess.run([sys.executable, "-m", "gmnet", "--version"], capture_output=True,
                             text=True, timeout=60)
    assert version.returncode == 0
    assert version.stdout.strip() == f"gmnet, version {gmnet.__version__}"
    bare = subprocess.run([sys.executable, "-m", "gmnet"], capture_output=True, text=True,
                          timeout=60)
    assert bare.returncode == 0 and bare.stdout.startswith("Usage: gmnet [OPTIONS] COMMAND")
    answer = subprocess.run([sys.executable, "-m", "gmnet", "query", "P(harm=yes | do("
                             "shift_type=extreme))", "--json"], capture_output=True, text=True,
                            timeout=60)
    assert answer.returncode == 0 and '"probability"' in answer.stdout


def test_run_writes_no_file_unless_asked(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    code, out, _ = _run(capsys, "run")
    assert code == 0 and "27.7%" in out and "Report" not in out
    assert list(tmp_path.iterdir()) == []  # (tests/test_report.py runs it with --report)


def test_show_cpt_prints_the_formula_and_the_labelled_table(capsys):
    code, out, _ = _run(capsys, "show", "capability_transfer", "--cpt")
    assert code == 0
    assert "formula" in out and "p_capability_transfer[shift_type]" in out
    lines = out.splitlines()
    header = next(line for line in lines if line.lstrip().startswith("shift_type"))
    assert header.split() == ["shift_type", "yes", "no"]
    extreme = next(line for line in lines if line.lstrip().startswith("extreme"))
    assert extreme.split() == ["extreme", "0.4500", "0.5500"]
    code, out, err = _run(capsys, "show", "--cpt")
    assert code == 2 and "--cpt needs a NODE" in err


def test_show_cpt_json_gives_the_table(capsys):
    import json

    code, out, _ = _run(capsys, "show", "harm", "--cpt", "--json")
    assert code == 0
    cpt = json.loads(out)["cpt"]
    assert cpt["parents"] == ["goal_misgeneralizes", "containment", "harm_if_failed"]
    assert cpt["states"] == ["yes", "no"]
    assert len(cpt["rows"]) == 2 * 2 * 2
    assert cpt["rows"][0]["probabilities"] == {"yes": 0.0, "no": 1.0}  # contained: no harm
    first = cpt["rows"][0]
    assert set(first["parents"]) == set(cpt["parents"])
    assert sum(first["probabilities"].values()) == pytest.approx(1.0)


def test_serve_access_log_logs_each_request(tmp_path):
    pytest.importorskip("uvicorn")
    import httpx

    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    out = tmp_path / "out.txt"
    with open(out, "w") as sink:
        proc = subprocess.Popen([sys.executable, "-m", "gmnet", "serve", "--port", "0",
                                 "--access-log"], stdout=sink, stderr=subprocess.STDOUT, env=env)
    try:
        deadline = time.monotonic() + 30
        text = ""
        while time.monotonic() < deadline and proc.poll() is None and "serving" not in text:
            text = out.read_text()
            time.sleep(0.05)
        url = text.split(" at ")[1].split()[0]
        for _ in range(100):
            try:
                assert httpx.get(url + "api/health", timeout=5).status_code == 200
                break
            except httpx.ConnectError:
                time.sleep(0.05)
        for _ in range(100):
            text = out.read_text()
            if "/api/health" in text:
                break
            time.sleep(0.05)
        assert '"GET /api/health HTTP/1.1" 200' in text
        assert "Uvicorn running" not in text  # the server's own chatter stays quiet
    finally:
        proc.terminate()
        proc.wait(10)
