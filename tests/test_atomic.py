import os
import stat

import pytest

from gmnet.io.atomic import atomic_path, write_text


def test_write_replaces_only_on_success(tmp_path):
    target = tmp_path / "out.txt"
    write_text(target, "good")
    with pytest.raises(RuntimeError):
        with atomic_path(target) as tmp:
            tmp.write_text("half")
            raise RuntimeError("interrupted")
    assert target.read_text() == "good"
    assert [p.name for p in tmp_path.iterdir()] == ["out.txt"]  # no temporary left behind


def test_written_files_get_the_usual_mode(tmp_path):
    umask = os.umask(0o022)
    try:
        path = write_text(tmp_path / "report.html", "x")
    finally:
        os.umask(umask)
    assert stat.S_IMODE(path.stat().st_mode) == 0o644


def test_missing_folder_is_a_clear_error(tmp_path):
    from gmnet import GmnetError

    with pytest.raises(GmnetError, match="folder .*missing does not exist"):
        write_text(tmp_path / "missing" / "x.txt", "x")


def test_os_errors_name_the_target_not_the_temporary(tmp_path, monkeypatch):
    from gmnet import InvalidArgumentError

    target = tmp_path / "plot.png"
    with pytest.raises(InvalidArgumentError) as info:
        with atomic_path(target) as tmp:
            raise OSError(28, "No space left on device", str(tmp))
    assert str(info.value) == f"cannot write {target}: No space left on device"
    assert list(tmp_path.iterdir()) == []

    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr("tempfile.mkstemp", refuse)
    with pytest.raises(InvalidArgumentError, match=rf"cannot write {target}: Permission denied"):
        write_text(target, "x")
    with pytest.raises(InvalidArgumentError, match="it is a folder"):
        write_text(tmp_path, "x")
