"""File modes of atomic writes: new files follow the umask, replaced files keep their mode."""

from __future__ import annotations

import os
import stat
from contextlib import contextmanager
from pathlib import Path

from transcript_helpers import make_dataset

from backend.fsutil import atomic_write_bytes
from backend.transcripts import Transcript
from backend.workspace import Project, Workspace


@contextmanager
def umask(mask: int):
    old = os.umask(mask)
    try:
        yield
    finally:
        os.umask(old)


def mode(p: Path) -> int:
    return stat.S_IMODE(p.stat().st_mode)


def test_new_files_follow_the_umask(tmp_path):
    with umask(0o022):
        atomic_write_bytes(tmp_path / "a", b"x")
    with umask(0o027):
        atomic_write_bytes(tmp_path / "b", b"x")
    assert (mode(tmp_path / "a"), mode(tmp_path / "b")) == (0o644, 0o640)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a", "b"]  # no temp files left


def test_a_replaced_file_keeps_its_mode(tmp_path):
    shared, private = tmp_path / "shared", tmp_path / "private"
    for p, m in ((shared, 0o664), (private, 0o600)):
        p.write_bytes(b"old")
        p.chmod(m)
    with umask(0o077):  # a strict umask neither narrows the shared file ...
        atomic_write_bytes(shared, b"new")
    with umask(0o000):  # ... nor does a loose one widen the private file
        atomic_write_bytes(private, b"new")
    assert (mode(shared), mode(private)) == (0o664, 0o600)
    assert shared.read_bytes() == private.read_bytes() == b"new"


def test_transcript_and_project_saves_stay_readable_to_others(tmp_path):
    with umask(0o022):
        lst = make_dataset(tmp_path, [("ZH", "一", 1.0)])
        lst.chmod(0o644)
        t = Transcript.open(lst)
        t.set_text(0, "壹")
        t.save()
        project = Workspace(tmp_path / "ws").create_project("voice")
        project.settings["reference"] = {"text": "x"}
        project.save()
        Project.load(project.root).save()
    assert mode(lst) == 0o644
    assert mode(lst.with_name(lst.name + ".bak")) == 0o644
    assert mode(lst.with_name(lst.name + ".history.jsonl")) == 0o644
    assert mode(lst.with_name(lst.name + ".review.json")) == 0o644
    assert mode(project.root / "project.toml") == 0o644


def test_a_file_whose_name_is_near_the_limit_can_be_replaced(tmp_path):
    target = tmp_path / ("n" * 250 + ".list")
    target.write_bytes(b"old")
    atomic_write_bytes(target, b"new")
    assert target.read_bytes() == b"new" and [p.name for p in tmp_path.iterdir()] == [target.name]
