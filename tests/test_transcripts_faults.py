"""Transcript history under kills and torn files: real processes killed with SIGKILL, real files."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path

from transcript_helpers import make_dataset

from backend.transcripts import Transcript

REPO = Path(__file__).resolve().parent.parent


def run_until_killed(script: str, *args: str) -> None:
    """Run ``script`` in a fresh interpreter; it prints "ready" and waits; then kill -9 it."""
    proc = subprocess.Popen([sys.executable, "-c", script, *args], stdout=subprocess.PIPE, cwd=REPO,
                            text=True)
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL


def history_of(lst: Path) -> Path:
    return lst.with_name(lst.name + ".history.jsonl")


def test_an_edit_after_a_torn_history_record_is_not_lost(tmp_path):
    lst = make_dataset(tmp_path, [("ZH", "一", 1.0), ("ZH", "二", 1.0)])
    t = Transcript.open(lst)
    t.set_text(0, "壹")
    t.save()
    log = history_of(lst)
    whole = json.dumps({"t": "op", "op": {"index": 1, "label": "x", "old": [], "new": []}})
    with open(log, "a", encoding="utf-8") as f:
        f.write(whole[: len(whole) // 2])  # what a kill in the middle of an append leaves
    t2 = Transcript.open(lst)
    assert not t2.notices and t2.can_undo()
    t2.set_text(1, "贰")  # logged, not saved: the process "dies" here
    del t2
    t3 = Transcript.open(lst)
    assert [c.text for c in t3.clips()] == ["壹", "贰"]
    assert any("recovered 1" in n for n in t3.notices)
    assert t3.undo() == "edit text of clip 2" and t3.undo() == "edit text of clip 1"


def test_a_record_glued_onto_a_torn_one_by_an_older_writer_is_read(tmp_path):
    lst = make_dataset(tmp_path, [("ZH", "一", 1.0)])
    t = Transcript.open(lst)
    t.set_text(0, "壹")
    del t
    log = history_of(lst)
    lines = log.read_text(encoding="utf-8").splitlines()
    base, op = lines[0], next(line for line in lines if line.startswith('{"t": "op"'))
    log.write_text(base + "\n" + '{"t": "op", "op": {"ind' + op + "\n", encoding="utf-8")
    t2 = Transcript.open(lst)
    assert t2.clip(0).text == "壹" and t2.can_undo()


SAVE_THEN_DIE = r"""
import os, signal, sys
from backend.transcripts import Transcript
target = os.path.abspath(sys.argv[1])
real_replace = os.replace
def replace_then_die(src, dst):
    real_replace(src, dst)
    if os.path.abspath(dst) == target:  # the .list is replaced: nothing after this runs
        print("ready", flush=True)
        os.kill(os.getpid(), signal.SIGKILL)
os.replace = replace_then_die
t = Transcript.open(sys.argv[1])
t.set_text(0, "壹")
t.set_text(1, "贰")
t.save()
"""


def test_a_kill_right_after_the_list_is_replaced_keeps_the_undo_history(tmp_path):
    lst = make_dataset(tmp_path, [("ZH", "一", 1.0), ("ZH", "二", 1.0)])
    run_until_killed(SAVE_THEN_DIE, str(lst))
    t = Transcript.open(lst)
    assert [c.text for c in t.clips()] == ["壹", "贰"]  # the save did land
    assert not t.notices  # its own save: not "changed outside", no edit to recover
    assert t.undo() == "edit text of clip 2" and t.undo() == "edit text of clip 1"
    assert not history_of(lst).with_name(history_of(lst).name + ".stale").exists()


MARK_THEN_WAIT = r"""
import sys, time
from backend.transcripts import Transcript
t = Transcript.open(sys.argv[1])
t.mark_reviewed(0)
t.set_text(2, "叁")
t.mark_reviewed(1)
print("ready", flush=True)
time.sleep(60)  # the autosave delay: the review file is not written yet
"""


def test_review_marks_survive_a_kill_before_the_autosave(tmp_path):
    lst = make_dataset(tmp_path, [("ZH", "一", 1.0), ("ZH", "二", 1.0), ("ZH", "三", 1.0)])
    run_until_killed(MARK_THEN_WAIT, str(lst))
    assert not lst.with_name(lst.name + ".review.json").exists()
    t = Transcript.open(lst)
    assert [t.is_reviewed(n) for n in range(3)] == [True, True, True]
    assert t.clip(2).text == "叁" and t.dirty
    t.save()
    again = Transcript.open(lst)
    assert [again.is_reviewed(n) for n in range(3)] == [True, True, True] and not again.dirty
