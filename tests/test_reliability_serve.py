"""``gmnet serve`` under hostile clients, against a real uvicorn on a free loopback port: idle
and slow connections cannot starve it, and the Host check holds for every bind address."""

from __future__ import annotations

import contextlib
import os
import resource
import socket
import subprocess
import sys
import time

import pytest

pytest.importorskip("uvicorn", reason="gmnet serve needs uvicorn: pip install 'gmnet[web]'")

from gmnet.cli.serve import allowed_hosts  # noqa: E402

IDLE = 2000
SERVER_FILES = 512  # the server's open-files limit: far fewer than the idle sockets


@contextlib.contextmanager
def served(tmp_path, *args: str, files: int | None = None):
    """A `gmnet serve --port 0` process; yields (port, log path)."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    log = tmp_path / "serve.log"

    def limit_files():  # runs in the child before exec
        if files is not None:
            resource.setrlimit(resource.RLIMIT_NOFILE, (files, files))

    with open(log, "w") as sink:
        proc = subprocess.Popen([sys.executable, "-m", "gmnet.cli", "serve", "--port", "0",
                                 *args], stdout=sink, stderr=subprocess.STDOUT, env=env,
                                preexec_fn=limit_files)
    try:
        deadline = time.monotonic() + 60
        text = ""
        while time.monotonic() < deadline and proc.poll() is None:
            text = log.read_text()
            if "serving" in text:
                break
            time.sleep(0.05)
        assert "gmnet: serving" in text, text
        port = int(text.split(" at ")[1].split()[0].rstrip("/").rsplit(":", 1)[1])
        yield port, log
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:  # pragma: no cover - a hung server
            proc.kill()
            proc.wait(10)


def get(port: int, path: str, host: str = "127.0.0.1", timeout: float = 10) -> tuple[int, bytes]:
    """One HTTP/1.1 GET on a fresh connection: (status, body)."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(f"GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"
                     .encode())
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    return int(head.split()[1]), body


def test_health_answers_past_2000_idle_connections(tmp_path):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < IDLE + 100:
        pytest.skip(f"this process may open only {hard} files")
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(IDLE + 200, hard)
                                                    if hard != resource.RLIM_INFINITY
                                                    else IDLE + 200), hard))
    sockets = []
    try:
        with served(tmp_path, "--max-connections", "1000", files=SERVER_FILES) as (port, log):
            assert get(port, "/api/health")[0] == 200
            for _ in range(IDLE):  # connect and say nothing
                s = socket.socket()
                s.settimeout(10)
                s.connect(("127.0.0.1", port))
                sockets.append(s)
            status, body = get(port, "/api/health")
            assert status == 200 and b'"ok"' in body.replace(b" ", b""), body
            # the server held no more connections than its open-files limit allows: most idle
            # sockets were closed by it (read gives EOF at once)
            closed = 0
            for s in sockets[: IDLE // 2]:
                s.settimeout(0.01)
                try:
                    closed += s.recv(1) == b""
                except (TimeoutError, ConnectionResetError):
                    closed += isinstance(sys.exc_info()[1], ConnectionResetError)
            assert closed >= IDLE // 2 - SERVER_FILES, closed
            text = log.read_text()
            assert "Too many open files" not in text and "Traceback" not in text, text
    finally:
        for s in sockets:
            s.close()


def test_a_connection_that_never_finishes_its_headers_or_body_is_closed(tmp_path):
    with served(tmp_path, "--header-timeout", "0.5") as (port, _):
        with socket.create_connection(("127.0.0.1", port), timeout=10) as slow:
            slow.sendall(b"GET /api/health HTTP/1.1\r\nHost: 127.0.0.1\r\n")  # no blank line
            start = time.monotonic()
            assert slow.recv(1) == b""  # closed by the server, not by our 10 s timeout
            assert time.monotonic() - start < 9
        with socket.create_connection(("127.0.0.1", port), timeout=10) as slow_body:
            slow_body.sendall(b"POST /api/query HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                              b"Content-Type: application/json\r\nContent-Length: 100\r\n"
                              b"\r\n{\"target\"")  # then nothing more of the 100 bytes
            start = time.monotonic()
            assert slow_body.recv(1) == b""
            assert time.monotonic() - start < 9
        assert get(port, "/api/health")[0] == 200  # others still served


def test_host_check_stays_on_for_any_bind_address():
    assert allowed_hosts("0.0.0.0") == ("0.0.0.0", "127.0.0.1", "localhost", "::1")
    assert allowed_hosts("::", ("MyBox.local",)) == ("::", "127.0.0.1", "localhost", "::1",
                                                     "mybox.local")
    assert allowed_hosts("127.0.0.2")[0] == "127.0.0.2"


def test_serve_accepts_its_own_address_and_refuses_others(tmp_path):
    with served(tmp_path, "--host", "127.0.0.2", "--allow-host", "gm.example") as (port, log):
        with socket.create_connection(("127.0.0.2", port), timeout=10) as sock:
            sock.sendall(b"GET /api/health HTTP/1.1\r\nHost: 127.0.0.2:%d\r\n"
                         b"Connection: close\r\n\r\n" % port)
            assert sock.recv(100).split()[1] == b"200"
        text = log.read_text()
        assert "not loopback" not in text  # 127.0.0.2 is loopback
    with served(tmp_path, "--host", "0.0.0.0", "--allow-host", "gm.example") as (port, log):
        assert get(port, "/api/health", host="gm.example")[0] == 200
        assert get(port, "/api/health", host=f"localhost:{port}")[0] == 200
        status, body = get(port, "/api/health", host="attacker.example")
        assert status == 400 and b"'attacker.example' is not served here" in body
        text = log.read_text()
        assert "listening on every network interface of this machine, not loopback" in text
        assert "Host names accepted: 0.0.0.0, 127.0.0.1, localhost, ::1, gm.example" in text


def test_allow_host_with_a_port_is_refused(capsys):
    from gmnet.cli import main

    assert main(["serve", "--allow-host", "box:8000", "--port", "0"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("gmnet: error: --allow-host 'box:8000': give a host name"), err
