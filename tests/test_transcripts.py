"""The .list model: byte-exact round trips, tolerant parsing, edits that never destroy audio,
undo/redo that survives a restart, and saves that refuse to clobber someone else's edit."""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import pytest
from transcript_helpers import make_dataset, make_wav, read_int16, sha

from backend.app import Application
from backend.transcripts import ClipAudioError, Transcript, TranscriptChangedOnDisk, TranscriptError
from backend.transcripts.flags import FlagSettings
from backend.workspace import Workspace

ASR_STYLE = "D:\\GPT-SoVITS\\output\\slicer_opt\\a.wav|slicer_opt|ZH|你好，世界。\n" \
            "D:\\GPT-SoVITS\\output\\slicer_opt\\b.wav|slicer_opt|EN| Hello there."


@pytest.mark.parametrize("data", [
    # official ASR output: "\n".join, no trailing newline, Windows paths, Whisper's leading space
    ASR_STYLE.encode(),
    # the official labelling tool's save: a newline after every line
    (ASR_STYLE + "\n").encode(),
    # made on Windows: BOM and CRLF
    b"\xef\xbb\xbf" + ASR_STYLE.replace("\n", "\r\n").encode() + b"\r\n",
    # a hand-edited file: blank lines, malformed lines, mixed endings, invalid UTF-8
    b"\n\na.wav|s|ZH|x\r\nnot a clip\nb.wav|s|EN|a|b\n\xff\xfe.wav|s|ZH|t\n   \n",
    b"",
])
def test_untouched_file_round_trips_byte_for_byte(tmp_path, data):
    lst = tmp_path / "x.list"
    lst.write_bytes(data)
    t = Transcript.open(lst)
    assert t.render() == data
    assert t.save() is False  # nothing changed: nothing written
    t.save(force=True)
    assert lst.read_bytes() == data


def test_edit_changes_only_that_line_and_keeps_the_style(tmp_path):
    data = b"\xef\xbb\xbf" + ASR_STYLE.replace("\n", "\r\n").encode()
    lst = tmp_path / "x.list"
    lst.write_bytes(data)
    t = Transcript.open(lst)
    assert t.set_text(1, "Hello | there\nfriend") is True
    assert t.save() is True
    out = lst.read_bytes()
    assert out.startswith(b"\xef\xbb\xbf") and not out.endswith(b"\r\n")
    lines = out[3:].decode().split("\r\n")
    assert lines[0] == ASR_STYLE.split("\n")[0]
    # the separator and line break become harmless: the line still has exactly 4 fields
    assert lines[1] == "D:\\GPT-SoVITS\\output\\slicer_opt\\b.wav|slicer_opt|EN|Hello ｜ there friend"
    assert (tmp_path / "x.list.bak").read_bytes() == data  # the previous version is kept


def test_malformed_lines_are_reported_by_number_and_kept(tmp_path):
    lst = tmp_path / "bad.list"
    lst.write_bytes("a.wav|s|ZH|一\n\njust words\nb.wav|s|EN|x|y\n|s|ZH|no path\n"
                    "c.wav|s|ZH\nd.wav|s|ZH|二\n".encode() + b"e.wav|s|ZH|\xc3(\n")
    t = Transcript.open(lst)
    assert [(p.lineno, p.reason.split(",")[0]) for p in t.problems] == [
        (3, "expected 4 fields separated by '|'"),
        (4, "expected 4 fields separated by '|'"),
        (5, "empty audio path"),
        (6, "expected 4 fields separated by '|'"),
        (8, "not valid UTF-8"),
    ]
    assert "line 4" in str(t.problems[1]) and "inside the text" in t.problems[1].reason
    assert [c.path for c in t.clips()] == ["a.wav", "d.wav"]
    t.set_text(1, "三")
    t.save()
    lines = lst.read_bytes().split(b"\n")
    assert lines[2] == b"just words" and lines[7] == b"e.wav|s|ZH|\xc3("  # nothing dropped
    assert lines[6] == "d.wav|s|ZH|三".encode()


def test_open_errors_are_named(tmp_path):
    with pytest.raises(TranscriptError) as e:
        Transcript.open(tmp_path / "nope.list")
    assert e.value.fix
    with pytest.raises(TranscriptError):
        Transcript.open(tmp_path)


def test_language_edit_and_cycle(tmp_path):
    lst = make_dataset(tmp_path, [("ZH", "你好", 1.5)])
    t = Transcript.open(lst)
    assert t.cycle_language(0) == "EN"
    assert t.cycle_language(0) == "JA"
    t.set_language(0, "YUE")
    with pytest.raises(TranscriptError):
        t.set_language(0, "DE")
    t.save()
    assert lst.read_text().split("|")[2] == "YUE"


def test_delete_moves_audio_to_the_list_trash_and_undo_brings_it_back(tmp_path):
    lst = make_dataset(tmp_path, [("ZH", "一", 1.5), ("ZH", "二", 1.5), ("ZH", "三", 1.5)])
    clip = tmp_path / "clips" / "clip_0001.wav"
    digest = sha(clip)
    t = Transcript.open(lst)
    t.delete(1)
    assert not clip.exists()
    trashed = lst.parent / "trash" / "clip_0001.wav"
    assert sha(trashed) == digest
    t.save()
    assert [c.text for c in Transcript.open(lst).clips()] == ["一", "三"]
    assert t.undo() == "delete clip 2"
    assert sha(clip) == digest and not trashed.exists()
    assert [c.text for c in t.clips()] == ["一", "二", "三"]
    assert t.redo() == "delete clip 2"
    assert not clip.exists()
    # restore from the trash as a new, undoable change
    items = t.trashed()
    assert [i.row.text for i in items] == ["二"]
    assert t.restore(items[0]) == 1
    assert sha(clip) == digest and [c.text for c in t.clips()] == ["一", "二", "三"]
    t.save()
    assert lst.read_text().count("\n") == 2  # still no trailing newline


def test_deleting_a_line_whose_file_another_line_uses_keeps_the_file(tmp_path):
    make_wav(tmp_path / "a.wav", 1.5)
    lst = tmp_path / "l.list"
    lst.write_text("a.wav|s|ZH|一\na.wav|s|ZH|一（重复）")
    t = Transcript.open(lst)
    t.delete(1)
    assert (tmp_path / "a.wav").is_file() and len(t) == 1


def test_delete_inside_a_project_uses_the_project_trash(tmp_path):
    p = Workspace(tmp_path / "ws").create_project("voice")
    make_wav(p.clips_dir / "a.wav", 2.0)
    p.transcript_path.write_text(f"{p.clips_dir / 'a.wav'}|clips|ZH|你好")
    t = Transcript.open(p.transcript_path)
    t.delete(0)
    assert (p.trash_dir / "a.wav").is_file() and not (p.clips_dir / "a.wav").exists()


def test_merge_writes_a_new_file_and_parks_the_originals_in_the_trash(tmp_path):
    lst = make_dataset(tmp_path, [("EN", "hello", 1.2), ("EN", "world", 0.7), ("EN", "x", 2.0)])
    a, b = tmp_path / "clips" / "clip_0000.wav", tmp_path / "clips" / "clip_0001.wav"
    ha, hb = sha(a), sha(b)
    joined = np.concatenate([read_int16(a), read_int16(b)])
    t = Transcript.open(lst)
    merged = t.merge_next(0)
    out = tmp_path / "clips" / "clip_0000+clip_0001.wav"
    assert merged.text == "hello world" and merged.path == str(out)
    assert np.array_equal(read_int16(out), joined)
    # the originals leave the clips folder (a new ASR run would list them again), unchanged
    assert not a.exists() and not b.exists()
    parked = [t.trash.dir / f"{f.stem}~replaced.wav" for f in (a, b)]
    assert [sha(f) for f in parked] == [ha, hb]
    assert len(t) == 2 and t.duration(0) == pytest.approx(1.9)
    t.save()
    t.undo()
    assert not out.exists() and (t.trash.dir / out.name).exists()
    assert (sha(a), sha(b)) == (ha, hb) and not any(f.exists() for f in parked)
    assert [c.text for c in t.clips()] == ["hello", "world", "x"]
    t.redo()
    assert out.exists() and len(t) == 2 and not a.exists()
    with pytest.raises(TranscriptError):
        t.merge_next(len(t) - 1)


def test_merge_with_a_gap_and_a_different_rate(tmp_path):
    make_wav(tmp_path / "a.wav", 1.0)
    make_wav(tmp_path / "b.wav", 0.5, sr=16000)
    lst = tmp_path / "l.list"
    lst.write_text("a.wav|s|ZH|一\nb.wav|s|ZH|二")
    t = Transcript.open(lst)
    m = t.merge_next(0, gap_seconds=0.25)
    assert m.text == "一二" and m.path == "a+b.wav"  # relative paths stay relative
    assert len(read_int16(tmp_path / "a+b.wav")) == 32000 + 8000 + 16000


def test_a_merged_file_another_line_still_uses_stays_in_place(tmp_path):
    make_wav(tmp_path / "a.wav", 1.0)
    make_wav(tmp_path / "b.wav", 0.5)
    lst = tmp_path / "l.list"
    lst.write_text("a.wav|s|ZH|一\nb.wav|s|ZH|二\na.wav|s|ZH|一（重复）")
    t = Transcript.open(lst)
    t.merge_next(0)
    assert (tmp_path / "a.wav").is_file() and not (tmp_path / "b.wav").exists()
    assert t.audio_path(1) == tmp_path / "a.wav"


def test_split_writes_two_files_that_add_up_to_the_original(tmp_path):
    lst = make_dataset(tmp_path, [("ZH", "你好世界", 3.0)])
    src = tmp_path / "clips" / "clip_0000.wav"
    h, whole = sha(src), read_int16(src)
    t = Transcript.open(lst)
    with pytest.raises(ClipAudioError):
        t.split(0, 3.5)
    a, b = t.split(0, 1.25, texts=("你好", "世界"))
    pa, pb = tmp_path / "clips" / "clip_0000_1.wav", tmp_path / "clips" / "clip_0000_2.wav"
    assert (a.path, b.path, a.text, b.text) == (str(pa), str(pb), "你好", "世界")
    assert len(read_int16(pa)) == 40000
    assert np.array_equal(np.concatenate([read_int16(pa), read_int16(pb)]), whole)
    assert not src.exists() and sha(t.trash.dir / "clip_0000~replaced.wav") == h
    t.save()
    assert Transcript.open(lst).clip(1).text == "世界"
    t.undo()
    assert not pa.exists() and not pb.exists() and len(t) == 1 and sha(src) == h


def test_undo_redo_survive_a_restart(tmp_path):
    lst = make_dataset(tmp_path, [("ZH", "一", 1.5), ("ZH", "二", 1.5), ("ZH", "三", 1.5)])
    t = Transcript.open(lst)
    t.set_text(0, "壹")
    t.delete(2)
    t.set_language(1, "JA")
    t.save()
    t2 = Transcript.open(lst)  # a new process would see the same
    assert t2.can_undo() and not t2.notices
    assert t2.undo() == "language of clip 2 to JA"
    assert t2.undo() == "delete clip 3"
    assert (tmp_path / "clips" / "clip_0002.wav").exists()
    t2.save()
    t3 = Transcript.open(lst)
    assert [c.text for c in t3.clips()] == ["壹", "二", "三"] and t3.can_redo()
    assert t3.redo() == "delete clip 3"
    assert t3.redo() == "language of clip 2 to JA"
    assert t3.redo() is None
    t3.undo(), t3.undo(), t3.undo()
    assert t3.undo() is None
    t3.save()
    assert [c.text for c in Transcript.open(lst).clips()] == ["一", "二", "三"]


def test_unsaved_edits_are_recovered_after_a_crash(tmp_path):
    lst = make_dataset(tmp_path, [("ZH", "一", 1.5), ("ZH", "二", 1.5)])
    before = lst.read_bytes()
    t = Transcript.open(lst)
    t.set_text(1, "贰")
    t.delete(0)
    del t  # never saved: the process "died"
    assert lst.read_bytes() == before
    t2 = Transcript.open(lst)
    assert [c.text for c in t2.clips()] == ["贰"] and t2.dirty
    assert any("recovered 2" in n for n in t2.notices)
    t2.save()
    assert Transcript.open(lst).clip(0).text == "贰"


def test_a_file_changed_behind_our_back_is_not_overwritten(tmp_path):
    lst = make_dataset(tmp_path, [("ZH", "一", 1.5), ("ZH", "二", 1.5)])
    t = Transcript.open(lst)
    t.set_text(0, "壹")
    theirs = lst.read_text().replace("二", "贰")
    time.sleep(0.01)
    lst.write_text(theirs)
    with pytest.raises(TranscriptChangedOnDisk) as e:
        t.save()
    assert "reload" in e.value.fix and lst.read_text() == theirs
    merged = t.merge_disk_changes()
    assert [c.text for c in merged.clips()] == ["壹", "贰"]
    merged.save()
    assert [c.text for c in Transcript.open(lst).clips()] == ["壹", "贰"]
    reloaded = t.reload()
    assert [c.text for c in reloaded.clips()] == ["壹", "贰"]


def test_history_that_no_longer_matches_the_file_is_set_aside(tmp_path):
    lst = make_dataset(tmp_path, [("ZH", "一", 1.5)])
    t = Transcript.open(lst)
    t.set_text(0, "壹")
    t.save()
    lst.write_text(lst.read_text().replace("壹", "幺"))
    t2 = Transcript.open(lst)
    assert not t2.can_undo() and "changed outside" in t2.notices[0]
    assert (lst.parent / "clips.list.history.jsonl.stale").exists()


def test_an_unwritable_history_keeps_undo_in_memory(tmp_path):
    lst = make_dataset(tmp_path, [("ZH", "一", 1.5)])
    lst.with_name("clips.list.history.jsonl").mkdir()  # in the way, as a read-only folder would be
    t = Transcript.open(lst)
    assert "not kept on disk" in t.notices[0]
    t.set_text(0, "壹")
    t.save()
    assert t.undo() == "edit text of clip 1"
    t.save()
    assert Transcript.open(lst).clip(0).text == "一"


def test_windows_and_relative_paths_resolve(tmp_path):
    make_wav(tmp_path / "slicer_opt" / "a.wav", 1.5)
    make_wav(tmp_path / "asr_opt" / "b.wav", 2.0)
    lst = tmp_path / "asr_opt" / "slicer_opt.list"
    lst.write_text("D:\\GPT-SoVITS\\output\\slicer_opt\\a.wav|slicer_opt|ZH|一\n"
                   "b.wav|slicer_opt|ZH|二\nmissing.wav|slicer_opt|ZH|三")
    t = Transcript.open(lst)
    assert t.audio_path(0) == tmp_path / "slicer_opt" / "a.wav"
    assert t.audio_path(1) == tmp_path / "asr_opt" / "b.wav"
    assert t.audio_path(2) is None and "missing" in t.flags(2)
    m = t.merge_next(0)
    assert m.path == "D:\\GPT-SoVITS\\output\\slicer_opt\\a+b.wav"
    assert (tmp_path / "slicer_opt" / "a+b.wav").is_file()


def test_flags(tmp_path):
    lst = make_dataset(tmp_path, [("ZH", "你好", 0.5), ("ZH", "  ", 2.0), ("EN", "fine", 20.0),
                                  ("EN", "日本語", 2.0), ("AUTO", "x", 2.0), ("ZH", "好", 2.0),
                                  ("ZH", "😀好", 2.0), ("JA", "こんにちは、世界!", 2.0)])
    clips = tmp_path / "clips"
    (lst.with_name("clips.list.asr.json")).write_text(json.dumps({
        str(clips / "clip_0005.wav"): {"avg_logprob": -1.7, "no_speech_prob": 0.1},
        "clip_0007.wav": {"avg_logprob": -0.1, "compression_ratio": 1.2, "language": "ja"},
    }))
    t = Transcript.open(lst, FlagSettings(max_seconds=15.0))
    assert t.flags(0) == ()  # duration unknown yet: no duration flags
    t.load_durations()
    got = [t.flags(n) for n in range(len(t))]
    assert got == [("short",), ("empty",), ("long",), ("chars",), ("lang",), ("lowconf",),
                   ("chars",), ()]
    assert t.order("confidence")[:2] == [5, 7]
    assert t.order("duration")[0] == 2
    s = t.stats()
    assert (s["clips"], s["flagged"], s["durations_known"]) == (8, 7, 8)
    assert s["seconds"] == pytest.approx(32.5)
    order = t.order("file")
    assert t.next_flagged(order, 0) == 1 and t.next_flagged(order, 0, backward=True) == 6
    assert t.search("FINE", order, 0) == 2 and t.search("zzz", order, 0) is None


def test_a_broken_sidecar_is_ignored_with_a_notice(tmp_path):
    lst = make_dataset(tmp_path, [("ZH", "你好", 1.5)])
    lst.with_name("clips.list.asr.json").write_text("{not json")
    t = Transcript.open(lst)
    assert "ASR sidecar" in t.notices[0] and t.flags(0) == ()


def test_reviewed_marks_and_reference_persist(tmp_path):
    p = Workspace(tmp_path / "ws").create_project("voice")
    make_wav(p.clips_dir / "a.wav", 4.0)
    p.transcript_path.write_text(f"{p.clips_dir / 'a.wav'}|clips|ZH|参考文本")
    t = Transcript.open(p.transcript_path)
    t.mark_reviewed(0)
    ref = Application(workspace=Workspace(tmp_path / "ws")).set_reference(t, 0)
    assert ref == {"audio_path": str(p.clips_dir / "a.wav"), "text": "参考文本", "language": "zh"}
    t.save()
    assert Transcript.open(p.transcript_path).is_reviewed(0)
    from backend.workspace import Project
    assert Project.load(p.root).settings["reference"]["text"] == "参考文本"


def test_a_reference_outside_any_project_stays_in_the_review_file(tmp_path):
    lst = make_dataset(tmp_path, [("ZH", "参考文本", 4.0)])
    t = Transcript.open(lst)
    assert t.project_root is None
    ref = Application(workspace=Workspace(tmp_path / "ws")).set_reference(t, 0)
    t.save()
    again = Transcript.open(lst)
    assert again.review.reference == ref
    again.mark_reviewed(0)
    again.save()  # a later save keeps it
    assert Transcript.open(lst).review.reference == ref


SAVER = r"""
import sys
from backend.transcripts import Transcript
from backend.transcripts.listfile import parse_bytes
t = Transcript.open(sys.argv[1])
versions = [parse_bytes(open(p, "rb").read()).rows for p in sys.argv[2:]]
print("ready", flush=True)
i = 0
while True:
    i += 1
    t.rows = list(versions[i % 2])  # a whole new content each time, saved the normal way
    t.version += 1
    t.save()
    print("saved", i, flush=True)
"""


@pytest.mark.slow
def test_killing_a_process_in_the_middle_of_saving_leaves_old_or_new(tmp_path):
    import subprocess
    import sys

    n = 20000
    lst = tmp_path / "big.list"
    old = "\n".join(f"c{k}.wav|s|EN|old text {k}" for k in range(n)).encode()
    new = "\n".join(f"c{k}.wav|s|EN|new text {k} with more words" for k in range(n)).encode()
    (tmp_path / "old").write_bytes(old)
    (tmp_path / "new").write_bytes(new)
    lst.write_bytes(old)
    saves = 0
    for attempt in range(5):
        proc = subprocess.Popen([sys.executable, "-c", SAVER, str(lst), str(tmp_path / "old"),
                                 str(tmp_path / "new")], stdout=subprocess.PIPE,
                                cwd=Path(__file__).resolve().parent.parent, text=True)
        assert proc.stdout.readline().strip() == "ready"
        time.sleep(0.2 + 0.13 * attempt)
        proc.kill()
        out, _ = proc.communicate()
        saves += out.count("saved")
        assert lst.read_bytes() in (old, new)  # whole, one or the other
        t = Transcript.open(lst)  # and it opens again, history and all
        assert len(t) == n and not t.problems
    assert saves > 0  # the kills really landed among saves


def test_the_asr_stage_sidecar_layout_is_read(tmp_path):
    lst = make_dataset(tmp_path, [("ZH", "你好", 1.5), ("ZH", "世界", 1.5)])
    clip = tmp_path / "clips" / "clip_0001.wav"
    lst.with_name("clips.list.asr.json").write_text(json.dumps({
        "engine": "faster-whisper", "clips": {str(clip): {"avg_logprob": -1.4, "no_speech_prob": None,
                                                        "compression_ratio": 1.1, "language": "zh"}},
        "failed": {}}))
    t = Transcript.open(lst)
    assert t.flags(1) == ("lowconf",) and t.flags(0) == ()
    assert t.asr_info(1).language == "zh" and t.order("confidence")[0] == 1


def test_split_never_copies_the_text_into_both_halves(tmp_path):
    lst = make_dataset(tmp_path, [("EN", "first part second part", 3.0), ("EN", "other", 3.0)])
    t = Transcript.open(lst)
    a, b = t.split(0, 1.0, text_at=len("first part "))  # where the editor's cursor stood
    assert (a.text, b.text) == ("first part", "second part")
    a, b = t.split(2, 1.0)  # no position given: the second half waits for its text, flagged
    assert (a.text, b.text) == ("other", "")
    assert "empty" in t.flags(3) and "empty" not in t.flags(2)
    with pytest.raises(TranscriptError):
        t.split(0, 0.5, text_at=99)
    t.save()
    assert [c.text for c in Transcript.open(lst).clips()] == ["first part", "second part", "other", ""]
