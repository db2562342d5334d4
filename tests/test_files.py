"""Output files: checked before any work, never overwritten by accident, replaced atomically."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from kltools.errors import SpecError
from kltools.files import check_output, create_exclusively, replacing, write_text_atomically


def test_a_new_file_in_a_writable_directory_passes(tmp_path: Path) -> None:
    assert check_output(tmp_path / "a.png", "--plot") == tmp_path / "a.png"
    assert list(tmp_path.iterdir()) == []  # the writability probe leaves nothing behind


def test_an_existing_file_is_refused_unless_forced(tmp_path: Path) -> None:
    p = tmp_path / "a.json"
    p.write_text("mine")
    with pytest.raises(SpecError, match=r"--save: .*a\.json exists; pass --force"):
        check_output(p, "--save")
    check_output(p, "--save", force=True)
    assert p.read_text() == "mine"  # checking writes nothing


@pytest.mark.parametrize(("where", "message"), [
    ("missing/a.png", "directory .*missing does not exist"),
    ("afile/a.png", "is not a directory"),
    ("adir", "is a directory"),
])
def test_unusable_places_are_refused_with_the_path(tmp_path: Path, where: str,
                                                   message: str) -> None:
    (tmp_path / "afile").write_text("x")
    (tmp_path / "adir").mkdir()
    with pytest.raises(SpecError, match=message) as err:
        check_output(tmp_path / where, "--plot")
    assert str(tmp_path) in str(err.value) and str(err.value).startswith("--plot: ")


def test_a_directory_where_files_cannot_be_created_is_refused() -> None:
    # /proc refuses new files even to root (for whom permission bits are no obstacle).
    with pytest.raises(SpecError, match=r"cannot write /proc/kltools-test\.json"):
        check_output("/proc/kltools-test.json", "--save")


def test_a_failed_write_leaves_the_old_file(tmp_path: Path) -> None:
    p = tmp_path / "r.json"
    p.write_text("old")
    with pytest.raises(RuntimeError), replacing(p, "--save") as tmp:
        tmp.write_text("half of the new")
        raise RuntimeError("killed mid-write")
    assert p.read_text() == "old"
    assert sorted(x.name for x in tmp_path.iterdir()) == ["r.json"]  # no temporary left


def test_a_full_disk_is_one_error_with_the_path(tmp_path: Path) -> None:
    p = tmp_path / "r.json"
    with pytest.raises(SpecError, match=r"--save: cannot write .*r\.json: No space left"), \
            replacing(p, "--save"):
        raise OSError(28, "No space left on device")
    assert not p.exists() and list(tmp_path.iterdir()) == []


def test_replacement_is_a_rename_with_the_old_mode(tmp_path: Path) -> None:
    p = tmp_path / "r.txt"
    p.write_text("old")
    os.chmod(p, 0o640)
    inode = p.stat().st_ino
    write_text_atomically(p, "new\n", "--out")
    assert p.read_text() == "new\n"
    assert p.stat().st_ino != inode  # a new file renamed into place, not the old one rewritten
    assert stat.S_IMODE(p.stat().st_mode) == 0o640


def test_a_new_file_gets_the_usual_mode_and_the_suffix_survives(tmp_path: Path) -> None:
    mask = os.umask(0o022)
    try:
        seen: list[str] = []
        with replacing(tmp_path / "plot.png", "--plot") as tmp:
            seen.append(tmp.suffix)
            tmp.write_bytes(b"png")
        assert seen == [".png"]  # matplotlib chooses the format from the suffix
        assert stat.S_IMODE((tmp_path / "plot.png").stat().st_mode) == 0o644
    finally:
        os.umask(mask)


def test_create_exclusively_never_overwrites(tmp_path: Path) -> None:
    p = tmp_path / "r.jsonl"
    assert create_exclusively(p, "header\n", "--out") is True
    assert p.read_text() == "header\n"
    assert create_exclusively(p, "other\n", "--out") is False
    assert p.read_text() == "header\n"
    assert sorted(x.name for x in tmp_path.iterdir()) == ["r.jsonl"]
