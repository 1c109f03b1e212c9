"""Names that break files: '|' and line breaks in recordings and clips, and names too long for the
file system once clips are sliced, merged, split and trashed. Real files, the real slice and ASR stages."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from audio_synth import speechlike
from transcript_helpers import make_wav, read_int16

from backend.audio.slicer import clip_prefix
from backend.filenames import MAX_NAME_BYTES, is_list_safe, safe_name
from backend.progress import Reporter
from backend.stages import slice as slice_stage
from backend.transcripts import ClipAudioError, Transcript
from backend.transcripts.listfile import Clip, parse_bytes

HOSTILE = ["take|one.wav", "take\ntwo.wav", "take\u2028three.wav"]


def _clips(list_path: Path) -> list[Clip]:
    return [r for r in parse_bytes(list_path.read_bytes()).rows if isinstance(r, Clip)]


def test_safe_names_fit_the_file_system_and_a_list_line():
    long = "录音" * 120  # 720 bytes of UTF-8
    a, b = safe_name(long + "a", ".wav"), safe_name(long + "b", ".wav")
    assert a != b and a.endswith(".wav") and len(a.encode()) < MAX_NAME_BYTES
    assert safe_name("a|b\nc", ".wav") == "a_b_c.wav" and safe_name("plain", ".wav") == "plain.wav"
    assert is_list_safe(a) and not is_list_safe("a|b")


def test_slicing_recordings_with_hostile_names_writes_clips_a_list_can_hold(tmp_path):
    rec = tmp_path / "recordings"
    rec.mkdir()
    for i, name in enumerate(HOSTILE + ["x" * 240 + ".wav"]):
        sf.write(rec / name, speechlike(6.0, seed=i), 32000, subtype="PCM_16")
    out = tmp_path / "clips"
    report, events = Reporter.collect()
    slice_stage.run(slice_stage.Params(inputs=[rec], out_dir=out, workers=1), report)
    (summary,) = [e["data"] for e in events if e["kind"] == "summary"]
    assert not summary["skipped"] and summary["clips"] > 0
    names = sorted(p.name for p in out.iterdir())
    assert names and all(is_list_safe(n) and len(n.encode()) <= MAX_NAME_BYTES for n in names)
    prefixes = {n.rsplit("_", 2)[0] for n in names}
    assert prefixes == {"take_one.wav", "take_two.wav", "take_three.wav", clip_prefix("x" * 240 + ".wav")}
    assert clip_prefix("x" * 240 + ".wav").startswith("x" * 100)  # cut, with a hash of the whole
    # the same recording again finds its clips under the safe name (not sliced twice)
    report, events = Reporter.collect()
    with pytest.raises(slice_stage.SliceError):
        slice_stage.run(slice_stage.Params(inputs=[rec / "take|one.wav"], out_dir=out, workers=1), report)
    assert any("already sliced" in str(e) for e in events)


def test_asr_renames_clips_whose_names_a_list_cannot_hold(tmp_path):
    """The real FunASR engine on a tiny random Paraformer; every line reads back as one clip."""
    from asr_models import build_tiny_paraformer

    from backend.stages import asr as asr_stage

    model = build_tiny_paraformer(tmp_path / "paraformer-tiny")
    clips = tmp_path / "clips"
    for i, name in enumerate(["ok.wav", *HOSTILE]):
        make_wav(clips / name, 1.5, freq=200 + 50 * i)
    report, events = Reporter.collect()
    asr_stage.run(asr_stage.Params(input_dir=clips, out_dir=tmp_path / "out", vad=False, batch_size=2,
                                   engine="funasr", model=str(model), language="zh"), report)
    lst = tmp_path / "out" / "clips.list"
    rows = _clips(lst)
    assert len(rows) == 4 and not parse_bytes(lst.read_bytes()).problems
    assert sorted(Path(r.path).name for r in rows) == ["ok.wav", "take_one.wav", "take_three.wav", "take_two.wav"]
    assert all(Path(r.path).is_file() for r in rows)
    warned = [e["text"] for e in events if e["kind"] == "message" and "renamed" in e.get("text", "")]
    assert len(warned) == 3


def test_asr_refuses_a_folder_whose_path_a_list_cannot_hold_before_any_work(tmp_path):
    from backend.asr.base import AsrError
    from backend.stages import asr as asr_stage

    clips = tmp_path / "a|b"
    make_wav(clips / "ok.wav", 1.5)
    with pytest.raises(AsrError) as e:
        asr_stage.run(asr_stage.Params(input_dir=clips, out_dir=tmp_path / "out", vad=False, engine="funasr",
                                       model=str(tmp_path / "no-model"), language="zh"), Reporter.collect()[0])
    assert "rename the folder" in e.value.fix and not (tmp_path / "out").exists()


def _long_dataset(root: Path, n: int, stem_chars: int = 243) -> Path:
    lines = []
    for i in range(n):
        stem = f"{i}" + "n" * (stem_chars - len(str(i)))
        p = root / "clips" / f"{stem}.wav"
        make_wav(p, 2.0, freq=200 + 40 * i)
        lines.append(f"{p}|clips|EN|clip {i}")
    lst = root / "clips.list"
    lst.write_text("\n".join(lines), encoding="utf-8")
    return lst


def test_splitting_a_243_character_name_works_and_leaves_no_orphans(tmp_path):
    lst = _long_dataset(tmp_path, 1)
    src = Path(_clips(lst)[0].path)
    whole = read_int16(src)
    t = Transcript.open(lst)
    a, b = t.split(0, 0.5)
    pa, pb = Path(a.path), Path(b.path)
    assert pa != pb and pa.is_file() and pb.is_file()
    assert np.array_equal(np.concatenate([read_int16(pa), read_int16(pb)]), whole)
    t.save()
    assert [Path(c.path) for c in _clips(lst)] == [pa, pb]
    assert t.undo() and not pa.exists() and not pb.exists() and src.is_file()
    assert sorted(p.name for p in (tmp_path / "clips").iterdir()) == [src.name]  # no orphan halves


def test_merging_several_long_clips_in_a_row(tmp_path):
    lst = _long_dataset(tmp_path, 4, stem_chars=200)
    t = Transcript.open(lst)
    for _ in range(3):
        t.merge_next(0)
    t.save()
    (merged,) = _clips(lst)
    assert Path(merged.path).is_file() and len(read_int16(Path(merged.path))) == 4 * 64000
    assert len(Path(merged.path).name.encode()) <= MAX_NAME_BYTES
    for _ in range(3):
        t.undo()
    t.save()
    assert [c.text for c in _clips(lst)] == [f"clip {i}" for i in range(4)]
    assert all(Path(c.path).is_file() for c in _clips(lst))


def test_a_failed_split_writes_nothing(tmp_path):
    lst = _long_dataset(tmp_path, 1)
    before = sorted(p.name for p in (tmp_path / "clips").iterdir())
    t = Transcript.open(lst)
    with pytest.raises(ClipAudioError):
        t.split(0, 5.0)  # outside the clip
    assert sorted(p.name for p in (tmp_path / "clips").iterdir()) == before and not t.can_undo()
