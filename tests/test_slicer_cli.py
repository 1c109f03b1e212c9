"""``gsv slice`` end to end: the real CLI, a real tracked job, clips and summary on disk."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import soundfile as sf
from audio_synth import encode, speechlike
from jobs_helpers import gsv, gsv_json


@pytest.mark.slow
def test_gsv_slice_into_a_project(tmp_path: Path) -> None:
    src = tmp_path / "my recordings"
    src.mkdir()
    encode(src / "talk one.mp3", speechlike(15, 44100, seed=1), 44100)
    sf.write(src / "talk two.wav", speechlike(12, 48000, seed=2), 48000)
    (src / "readme.txt").write_text("not audio")
    assert gsv("project", "create", "alice", "--language", "en").returncode == 0

    r = gsv("slice", str(src), "--project", "alice", "--max-length", "8", timeout=120)
    assert r.returncode == 0, r.stderr

    (job,) = gsv_json("jobs", "list", "--json")
    assert (job["stage"], job["state"], job["outcome"], job["project"]) == ("slice", "finished", "succeeded", "alice")
    assert job["params"]["max_length"] == 8.0
    clips_dir = Path(job["params"]["out_dir"])
    assert clips_dir.name == "clips" and clips_dir.parent.name == "alice"
    clips = sorted(p.name for p in clips_dir.iterdir())
    assert any(c.startswith("talk one.mp3_") for c in clips) and any(c.startswith("talk two.wav_") for c in clips)
    assert all(sf.info(clips_dir / c).duration <= 8.0 for c in clips)
    summary = json.loads((clips_dir.parent / "clips.slice.json").read_text())
    assert summary["clips"] == len(clips)
    assert [Path(s["path"]).name for s in summary["skipped"]] == ["readme.txt"]
    events = [json.loads(line) for line in Path(job["events"]).read_text().splitlines()]
    assert [e["done"] for e in events if e["kind"] == "progress"][-1] == 3
    assert any(e["kind"] == "summary" for e in events)


@pytest.mark.slow
def test_gsv_slice_bad_values_fail_before_a_job(tmp_path: Path) -> None:
    wav = tmp_path / "a.wav"
    sf.write(wav, speechlike(2, 32000), 32000)
    r = gsv("slice", str(wav), "--out", str(tmp_path / "o"), "--min-interval", "5000")
    assert r.returncode == 2 and "min_length" in r.stderr and "fix:" in r.stderr
    assert gsv_json("jobs", "list", "--json") == []


@pytest.mark.slow
def test_cancel_stops_the_worker_processes_at_once(tmp_path: Path) -> None:
    """Cancel (SIGTERM to the job's process group) stops the pool workers and the job at once."""
    import os

    from jobs_helpers import poll

    from backend.jobs.manager import JobManager
    from backend.stages import slice as slice_stage
    from backend.stages.base import params_to_json
    from backend.workspace import Workspace

    src = tmp_path / "many"
    src.mkdir()
    x = speechlike(30, 32000, seed=3)
    for k in range(120):
        sf.write(src / f"f{k:02d}.wav", x, 32000, subtype="PCM_16")
    jm = JobManager(Workspace(os.environ["GSV_HOME"]).jobs_dir)
    params = slice_stage.Params(inputs=[src], out_dir=tmp_path / "out", workers=2)
    job = jm.submit("slice", params_to_json(params))
    poll(lambda: (jm.get(job.id).progress.done or 0) >= 1, timeout=60, what="the first sliced file")
    final = jm.cancel(job.id, grace=60.0)  # long enough for a pool that ignored the TERM to finish
    assert final.outcome == "cancelled" and "SIGTERM" in (final.reason or ""), final.reason
    sources = {p.name.split(".wav_")[0] for p in (tmp_path / "out").glob("*.wav")}
    assert len(sources) < 60, len(sources)  # it stopped, rather than slicing on to the end
