"""Slicing a cleaned folder: each file's loudness before and after cleaning in the summary (the
JSON, the typed SliceSummary, ``gsv slice``'s output and the Dataset screen's result area), read
from the clean job's report beside the folder; a file it does not list is measured here."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import soundfile as sf
from audio_synth import speechlike
from jobs_helpers import gsv
from tui_helpers import SIZE, make_app, screen_text

from backend.app.summaries import SliceSummary, read_slice_summary
from backend.clean.loudness import add_to_slice_rows, report_path
from backend.workspace import Workspace


def _clean_report(folder: Path, rows: dict[str, tuple[float, float]]) -> None:
    """A report as the clean job writes it (its ``files`` rows; see backend/stages/clean.py)."""
    files = [{"input": f"/recordings/{name}", "output": str(folder / name), "status": "cleaned", "seconds": 4.0,
              "chunks": 1, "rms_db_before": before, "rms_db_after": after} for name, (before, after) in rows.items()]
    report_path(folder).write_text(json.dumps({"chain": [], "out_dir": str(folder), "files": files}))


def _cleaned_folder(root: Path) -> Path:
    folder = root / "clean"
    folder.mkdir(parents=True)
    for k, name in enumerate(("talk.wav", "song.wav", "added by hand.wav")):
        audio = speechlike(4, 44100, seed=k)
        if name == "song.wav":  # what a separation leaves of music with no voice: a whisper of noise
            audio = (audio * 10 ** (-50 / 20)).astype(np.float32)
        sf.write(folder / name, audio, 44100)
    _clean_report(folder, {"talk.wav": (-21.5, -23.0), "song.wav": (-14.2, -70.3)})
    return folder


def test_rows_get_the_reports_levels_measure_the_rest_and_flag_an_emptied_file(tmp_path: Path) -> None:
    folder = _cleaned_folder(tmp_path)
    other = tmp_path / "raw"
    other.mkdir()
    sf.write(other / "plain.wav", speechlike(2, 16000), 16000)
    rows = [{"path": str(p), "warnings": []} for p in (*sorted(folder.iterdir()), other / "plain.wav")]
    warned = add_to_slice_rows(rows)
    by = {Path(r["path"]).name: r for r in rows}
    assert (by["talk.wav"]["rms_db_original"], by["talk.wav"]["rms_db_cleaned"]) == (-21.5, -23.0)
    assert warned == ["the cleaning left little of song.wav (-14.2 → -70.3 dBFS): listen to it before transcribing"]
    hand = by["added by hand.wav"]
    data, _ = sf.read(folder / "added by hand.wav")
    assert hand["rms_db_original"] is None  # not in the report: unknown, and its level measured
    assert math.isclose(hand["rms_db_cleaned"], 10 * math.log10(np.mean(np.square(data))), abs_tol=0.01)
    assert "rms_db_cleaned" not in by["plain.wav"]  # not a cleaned folder: nothing to compare

    summary = SliceSummary.from_json({"clips": 3, "seconds": 9.0, "files": rows})
    assert [f.path.rsplit("/", 1)[-1] for f in summary.cleaned_files] == ["added by hand.wav", "song.wav", "talk.wav"]
    assert [f.emptied for f in summary.cleaned_files] == [False, True, False]
    assert not summary.files[-1].from_cleaning and not summary.files[-1].emptied


def test_gsv_slice_prints_each_files_loudness_and_the_dataset_screen_shows_it(tmp_path: Path) -> None:
    assert gsv("project", "create", "alice", "--language", "en").returncode == 0
    project = Workspace().open_project("alice")
    _cleaned_folder(project.root)
    r = gsv("slice", "--project", "alice", timeout=120)
    assert r.returncode == 0, r.stderr
    assert "slicing the cleaned recordings" in r.stderr
    assert "warning: the cleaning left little of song.wav" in r.stderr  # a warning of the run
    lines = r.stdout.splitlines()
    start = lines.index("loudness (RMS dBFS), original → cleaned:")
    table = {ln.split()[0]: ln for ln in lines[start + 1:]}
    assert "-21.5 →   -23.0" in table["talk.wav"] and "emptied" not in table["talk.wav"]
    assert "-14.2 →   -70.3" in table["song.wav"] and "emptied by the cleaning?" in table["song.wav"]
    assert "unknown →" in table["added"]  # "added by hand.wav": measured, its original unknown

    summary = read_slice_summary(project.clips_dir)
    assert summary is not None and [f.emptied for f in summary.cleaned_files] == [False, True, False]
    assert any("left little of song.wav" in w for w in summary.warnings)


async def test_the_result_area_shows_loudness_before_and_after(tmp_path: Path) -> None:
    ws = Workspace(tmp_path / "home")
    project = ws.create_project("bob", language="en")
    folder = _cleaned_folder(project.root)
    rows = [{"path": str(p), "clips": 2, "seconds": 3.0, "source_seconds": 4.0, "warnings": []}
            for p in sorted(folder.iterdir())]
    summary = {"clips": 6, "seconds": 9.0, "histogram": {"edges": [0, 3], "counts": [0, 6]},
               "folder": {"clips": 6, "seconds": 9.0}, "files": rows, "skipped": [],
               "warnings": add_to_slice_rows(rows)}
    project.clips_dir.mkdir(parents=True, exist_ok=True)
    project.clips_dir.with_name("clips.slice.json").write_text(json.dumps(summary))
    app = make_app(ws.root, project="bob")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        shown = " ".join(screen_text(app).split())
        assert "loudness dBFS: original → cleaned" in shown
        assert "talk.wav -21.5 → -23.0" in shown and "song.wav -14.2 → -70.3 ⚠" in shown
        assert "added by hand… ? → -18." in shown  # not in the report: original unknown, cleaned measured
        # the run's warning (wrapped beside the histogram) replaces "ready for speech recognition"
        assert "the cleaning left little of" in shown and "song.wav (-14.2 → -70.3 dBFS)" in shown
        assert "ready for speech" not in shown


def test_long_and_wide_names_keep_the_columns_aligned() -> None:
    """Names are cut by terminal cells, not characters: a Chinese name is twice as wide as it is long."""
    from rich.cells import cell_len

    from backend.app.summaries import SlicedFile
    from gsv_tui.widgets.slice_summary import loudness_text

    files = tuple(SlicedFile(f"/p/clean/{name}", from_cleaning=True, rms_db_original=-20.0, rms_db_cleaned=-22.5)
                  for name in ("a.wav", "采访录音第一段第二部分.wav", "a rather long recording name.wav"))
    lines = loudness_text(SliceSummary(clips=3, seconds=9.0, files=files)).plain.splitlines()[1:]
    assert len({cell_len(line) for line in lines}) == 1 and all(line.endswith("-20.0 →  -22.5") for line in lines)
    assert "采访录音第一" in lines[1] and "…" in lines[1] and "…" in lines[2]


def test_gsv_slices_table_lines_up_wide_names(tmp_path: Path) -> None:
    from rich.cells import cell_len

    from backend.stages.slice import Params, result_text, summary_path

    out = tmp_path / "clips"
    rows = [{"path": f"/p/clean/{name}", "rms_db_original": -20.0, "rms_db_cleaned": -22.5}
            for name in ("a.wav", "采访录音.wav")]
    summary_path(out).write_text(json.dumps({"clips": 2, "seconds": 6.0, "files": rows}), encoding="utf-8")
    table = (result_text(Params(inputs=[], out_dir=out)) or "").splitlines()[2:]
    assert len(table) == 2 and cell_len(table[0]) == cell_len(table[1])
