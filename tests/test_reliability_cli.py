"""Reliability on the command line: outputs never destroy inputs, hostile files are bounded and
refused with one line, and every refusal leaves the disk exactly as it was.

Each case asserts the exit code, the message and a snapshot of the folder before and after.
"""

from __future__ import annotations

import os
import pathlib
import signal
import stat
import subprocess
import sys
import time

import pytest

from gmnet.cli import main
from gmnet.model.network import NETWORKS_DIR

BUNDLED = NETWORKS_DIR / "goal_misgeneralization.yaml"
SOURCE = BUNDLED.read_text(encoding="utf-8")


def run(capsys, *args):
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


def snapshot(folder: pathlib.Path) -> dict:
    """Every entry of ``folder``: kind, mode, link target, inode and bytes."""
    state = {}
    for p in sorted(folder.iterdir()):
        st = os.lstat(p)
        entry = (stat.S_IFMT(st.st_mode), stat.S_IMODE(st.st_mode), st.st_ino)
        if p.is_symlink():
            entry += (os.readlink(p),)
        elif stat.S_ISREG(st.st_mode):
            entry += (p.read_bytes(),)
        state[p.name] = entry
    return state


def refused(capsys, folder, *args, says):
    """Run a command that must be refused: exit 2, one line with ``says``, nothing changed."""
    before = snapshot(folder)
    code, out, err = run(capsys, *args)
    assert code == 2, (code, out, err)
    assert out == "", out
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("gmnet: error: "), err
    assert says in lines[0], (says, lines[0])
    assert snapshot(folder) == before
    return lines[0]


@pytest.fixture()
def folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "n.yaml").write_text(SOURCE, encoding="utf-8")
    return tmp_path


# ------------------------------------------------------------- outputs never destroy inputs
def test_audit_refuses_to_write_over_its_network(capsys, folder):
    refused(capsys, folder, "audit", "--network", "n.yaml", "--out", "n.yaml",
            says="cannot write n.yaml: it is an input of this command; write the output to "
                 "another file")


def test_an_input_reached_through_a_symbolic_or_hard_link_is_refused(capsys, folder):
    os.symlink("n.yaml", folder / "soft.yaml")
    os.link(folder / "n.yaml", folder / "hard.yaml")
    for name in ("soft.yaml", "hard.yaml"):
        refused(capsys, folder, "audit", "--network", "n.yaml", "--out", name,
                says=f"cannot write {name}: it is an input of this command (n.yaml)")
    refused(capsys, folder, "audit", "--network", "n.yaml", "--out", str(folder / "n.yaml"),
            says="it is an input of this command")


def test_export_refuses_to_replace_its_inputs_sidecar(capsys, folder):
    assert run(capsys, "export", "--network", "reward_hacking", "--out", "in.bif")[0] == 0
    assert (folder / "in.bif.gmnet.json").is_file()
    refused(capsys, folder, "export", "--network", "in.bif", "--format", "bif", "--no-sidecar",
            "--out", "in.bif.gmnet.json",
            says="cannot write in.bif.gmnet.json: it is an input of this command")
    refused(capsys, folder, "export", "--network", "in.bif", "--out", "in.bif",
            says="cannot write in.bif: it is an input of this command")


def test_import_refuses_an_output_that_links_to_its_input(capsys, folder):
    assert run(capsys, "export", "--network", "reward_hacking", "--out", "in.bif")[0] == 0
    os.symlink("in.bif", folder / "out.yaml")
    refused(capsys, folder, "import", "in.bif", "--out", "out.yaml", "--force",
            says="cannot write out.yaml: it is an input of this command (in.bif)")


def test_a_bundled_network_is_an_input_too(capsys, folder):
    os.symlink(BUNDLED, folder / "bundled.yaml")
    refused(capsys, folder, "audit", "--out", "bundled.yaml",
            says="cannot write bundled.yaml: it is an input of this command")


def test_a_device_a_pipe_or_a_folder_is_never_replaced(capsys, folder):
    os.mkfifo(folder / "pipe")
    refused(capsys, folder, "audit", "--out", "pipe",
            says="cannot write pipe: it is a named pipe, not a regular file; name a file")
    line = refused(capsys, folder, "audit", "--out", "/dev/null", says="/dev/null")
    assert line.endswith("it is a character device, not a regular file; name a file")
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)
    (folder / "sub").mkdir()
    refused(capsys, folder, "audit", "--out", "sub", says="'--out': File 'sub' is a directory")
    refused(capsys, folder, "audit", "--out", "newdir/",
            says="cannot write newdir/: it ends with '/', so it names a folder")
    assert not (folder / "newdir").exists()


def test_rewriting_a_file_keeps_its_mode_and_its_links(capsys, folder):
    out = folder / "audit.txt"
    out.write_text("old\n")
    os.chmod(out, 0o600)
    os.link(out, folder / "also.txt")
    os.symlink("audit.txt", folder / "via-link.txt")
    code, _, err = run(capsys, "audit", "--out", "via-link.txt")
    assert code == 0, err
    assert (folder / "via-link.txt").is_symlink()  # the link stays a link
    text = out.read_text()
    assert text.startswith("Audit") or "verdict" in text.lower() or len(text) > 1000, text[:200]
    assert stat.S_IMODE(os.stat(out).st_mode) == 0o600
    assert (folder / "also.txt").read_text() == text  # the hard link sees the new text
    assert sorted(p.name for p in folder.iterdir()) == ["also.txt", "audit.txt", "n.yaml",
                                                        "via-link.txt"]  # no temporary left


def test_run_report_into_an_unwritable_folder_fails_before_the_work(capsys, folder):
    refused(capsys, folder, "run", "--report", "/proc/x.html",
            says="cannot write /proc/x.html: No such file or directory")
    refused(capsys, folder, "run", "--report", "",
            says="--report '' is not a file name; give one like out/report.html")


def test_an_empty_plot_name_is_refused(capsys, folder):
    refused(capsys, folder, "uncertainty", "P(harm)", "--samples", "10", "--plot", "",
            says="an empty plot file name; name a .png or .svg file")
    refused(capsys, folder, "sensitivity", "P(harm)", "--plot", "",
            says="an empty plot file name")


# --------------------------------------------------------------- hostile and broken files
def _with(text: str) -> str:
    return SOURCE.replace("metadata:\n", text + "\nmetadata:\n", 1)


ALIAS_BOMB = "".join(
    [f"  l0: &l0 [{', '.join(['x'] * 10)}]\n"]
    + [f"  l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 10)}]\n" for i in range(1, 9)])

# the line of the bundled file where P(capability transfers | superficial) is written
_LINE = next(i for i, line in enumerate(SOURCE.splitlines(), 1) if "value: 0.85," in line)

HOSTILE = {
    "duplicate value": (
        SOURCE.replace("superficial: {value: 0.85,", "superficial: {value: 0.1, value: 0.85,", 1),
        f"key 'value' is given twice in one mapping (lines {_LINE} and {_LINE})"),
    "duplicate name": (
        SOURCE.replace("name: goal_misgeneralization\n",
                       "name: goal_misgeneralization\nname: other\n", 1),
        "key 'name' is given twice in one mapping (lines 6 and 7); keep one of them"),
    "alias bomb in metadata": (
        SOURCE.replace("metadata:\n", "metadata:\n  bomb:\n" + ALIAS_BOMB.replace("  l", "    l"),
                       1),
        "the document expands through its aliases to more than 2,000,000 values"),
    "circular alias": (SOURCE.replace("metadata:\n", "metadata:\n  loop: &loop [1, *loop]\n", 1),
                       "an alias refers to the value that contains it (a circular alias)"),
    "5000-digit integer": (SOURCE.replace("value: 0.85,", "value: " + "9" * 5000 + ",", 1),
                           f"line {_LINE}: an integer with 5000 digits; the limit is 60"),
    "10k nested lists": (SOURCE + "\nextra: " + "[" * 10000 + "]" * 10000 + "\n",
                         "values nested too deeply (the limit is 64 levels)"),
    "not YAML": ("name: [unclosed\n", "not valid YAML at line 2"),
}


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_hostile_network_files_are_one_line_errors(capsys, folder, case):
    text, says = HOSTILE[case]
    (folder / "bad.yaml").write_text(text, encoding="utf-8")
    for command in (["validate", "bad.yaml"], ["export", "--network", "bad.yaml", "--out",
                                               "bad.bif"]):
        line = refused(capsys, folder, *command, says=says)
        assert line.startswith("gmnet: error: bad.yaml: ")
        assert len(line) < 400


def test_duplicate_keys_in_scenario_and_worldview_files(capsys, folder):
    for kind in ("scenarios", "worldviews"):
        text = (NETWORKS_DIR / f"{kind}.yaml").read_text()
        lines = text.splitlines()
        network_line = next(i for i, line in enumerate(lines) if line.startswith("network:"))
        lines.insert(network_line + 1, lines[network_line])
        (folder / f"{kind}.yaml").write_text("\n".join(lines) + "\n")
        from gmnet.errors import NetworkFileError
        from gmnet.model.scenarios import load_scenarios
        from gmnet.model.worldviews import load_worldviews

        load = load_scenarios if kind == "scenarios" else load_worldviews
        with pytest.raises(NetworkFileError) as info:
            load(folder / f"{kind}.yaml")
        n = network_line + 1
        assert info.value.problems == [f"key 'network' is given twice in one mapping (lines "
                                       f"{n} and {n + 1}); keep one of them"]


def _expression_network(expression: str) -> str:
    return ("format: gmnet/1\nname: t\nnodes:\n"
            '  A: {states: ["no", "yes"], cpt: {kind: table, rows: [[0.7, 0.3]], source: t}}\n'
            '  B: {states: ["no", "yes"], parents: [A], cpt: {kind: expression, probabilities: '
            f'{{"yes": "{expression}", "no": rest}}, source: t}}}}\n')


EXPRESSIONS = {
    "100k-term sum": ("+".join(["0.00001"] * 100_000), "characters long; the limit is 20000"),
    "2000-term sum": ("+".join(["0.0001"] * 2000), "is nested more than 100 levels deep"),
    "10k unary minus": ("-" * 10_000 + "0.5", "is nested too deeply to read"),
    "100k unary minus": ("-" * 100_000 + "0.5", "characters long; the limit is 20000"),
    "deep parentheses": ("(" * 5000 + "0.5" + ")" * 5000, "does not parse"),
    "1e400": ("1e400 * 0", "the number '1e400' is too large to compute with"),
}


@pytest.mark.parametrize("case", sorted(EXPRESSIONS))
def test_hostile_expressions_are_one_line_errors(capsys, folder, case):
    expression, says = EXPRESSIONS[case]
    (folder / "e.yaml").write_text(_expression_network(expression))
    line = refused(capsys, folder, "query", "P(B)", "--network", "e.yaml", says=says)
    assert line.startswith("gmnet: error: e.yaml: node 'B': cpt: expression ")
    assert len(line) < 400


def test_ragged_rows_and_huge_tables_are_refused_before_building(capsys, folder):
    (folder / "r.yaml").write_text(
        "format: gmnet/1\nname: r\nnodes:\n"
        '  A: {states: ["no", "yes"], cpt: {kind: table, rows: [[0.7, 0.3]], source: t}}\n'
        '  B: {states: ["no", "yes"], parents: [A], cpt: {kind: table, rows: [[0.8, 0.2], '
        '[0.1]], source: t}}\n')
    refused(capsys, folder, "validate", "r.yaml",
            says="node 'B': cpt.rows: row 2 has 1 probabilities but row 1 has 2; every row "
                 "needs one per state")
    nodes = "".join(f'  P{i}: {{states: ["no", "yes"], cpt: {{kind: uniform, source: t}}}}\n'
                    for i in range(30))
    nodes += ('  harm: {states: ["no", "yes"], parents: [' + ", ".join(f"P{i}" for i in range(30))
              + '], cpt: {kind: uniform, source: t}}\n')
    (folder / "w.yaml").write_text("format: gmnet/1\nname: w\nnodes:\n" + nodes)
    refused(capsys, folder, "query", "P(harm)", "--network", "w.yaml",
            says="node 'harm': its table would hold 2.1e9 entries, 17.2 GB (2 states x 1.1e9 "
                 "configurations of 30 parents); the limit is 1.7e7 entries, 134 MB")


def test_long_inputs_are_cut_in_error_lines(capsys, folder):
    name = "x" * 10_000
    line = refused(capsys, folder, "query", f"P({name})", says="unknown variable 'xxxxx")
    assert len(line) < 700
    assert "characters]" in line
    line = refused(capsys, folder, "query", "P(harm)", "--network", name + ".yaml",
                   says="File name too long")
    assert len(line) < 700


# ---------------------------------------------------------------------------- interrupts
def _spawn(args, cwd):
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen([sys.executable, "-m", "gmnet.cli", *args], cwd=cwd, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _wait_until_loading_numpy(proc, timeout=30.0):
    """Until the child has mapped numpy's core module: gmnet's interrupt hook (the package's
    first import) is installed and the package is still loading. A fixed sleep could land in
    Python's own start-up on a busy machine, where no hook can exist yet."""
    maps = f"/proc/{proc.pid}/maps"
    if not os.path.exists(maps):  # pragma: no cover - not Linux
        time.sleep(0.15)
        return
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            with open(maps) as f:
                if "_multiarray_umath" in f.read():
                    return
        except OSError:
            pass
        time.sleep(0.005)


def test_ctrl_c_while_loading_exits_130_with_one_line(tmp_path):
    proc = _spawn(["report", "--out", "r.html"], tmp_path)
    _wait_until_loading_numpy(proc)  # still importing the package
    assert proc.poll() is None
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, (proc.returncode, err)
    assert err.strip().splitlines() == ["gmnet: interrupted"], err
    assert list(tmp_path.iterdir()) == []


def test_ctrl_c_during_a_long_analysis_leaves_no_file(tmp_path):
    # the population question (--context prior) reaches every uncertain number: a million
    # draws of it take far longer than the 3 s before the interrupt (at the baseline only a
    # few numbers can move P(harm), and the run would be over before Ctrl+C)
    proc = _spawn(["uncertainty", "P(harm)", "--context", "prior", "--samples", "1000000",
                   "--plot", "u.svg"], tmp_path)
    time.sleep(3.0)  # past the imports, inside the draws
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, (proc.returncode, err)
    assert err.strip().splitlines()[-1] == "gmnet: interrupted", err
    assert "Traceback" not in err and out == ""
    assert list(tmp_path.iterdir()) == []  # neither the plot nor a temporary beside it
