"""The backend calls the application layer uses for the checkup: the evaluation set, the
project's reference, queuing a checkup behind a training job, and the project setting."""

from __future__ import annotations

from pathlib import Path

import pytest
from infer_helpers import write_voice

from backend.app.checkup import submit_checkup
from backend.checkup import checkup_after_training, latest_report
from backend.checkup.evaluate import CheckupError
from backend.checkup.sentences import BUILT_IN, EvaluationSetError, evaluation_set
from backend.workspace import Workspace


def test_built_in_sets_are_large_varied_and_skip_the_projects_own_sentences(tmp_path: Path) -> None:
    for lang in ("zh", "en", "ja"):
        sents = BUILT_IN[lang]
        assert len(sents) >= 30 and len(set(sents)) == len(sents)
        assert any(any(c.isdigit() for c in s) for s in sents)  # numbers written as digits
        assert any(s.endswith(("?", "？")) for s in sents) and any(s.endswith(("!", "！")) for s in sents)
        lengths = sorted(len(s) for s in sents)
        assert lengths[-1] >= 3 * lengths[0]
    mine = tmp_path / "mine.txt"
    mine.write_text("# my lines\nA sentence of mine.\n\nGood morning.\n", encoding="utf-8")
    got = evaluation_set("en", mine, exclude={"Good morning.", "Thank you so much for your help!"})
    assert got[-1] == "A sentence of mine." and "Good morning." not in got
    assert "Thank you so much for your help!" not in got and len(got) == len(BUILT_IN["en"]) - 1
    assert evaluation_set("en", limit=3) == list(BUILT_IN["en"][:3])
    with pytest.raises(EvaluationSetError, match="--sentences FILE"):
        evaluation_set("ko")


def _project(tmp_path: Path, reference: bool = True):
    ws = Workspace(tmp_path / "home")
    project = ws.create_project("eve", language="en", version="v2")
    clip = write_voice(project.clips_dir / "a.wav", 4.0)
    project.transcript_path.parent.mkdir(parents=True, exist_ok=True)
    project.transcript_path.write_text(f"{clip}|eve|EN|Hello there.\n", encoding="utf-8")
    if reference:
        project.settings["reference"] = {"audio_path": str(clip), "text": "Hello there.", "language": "en"}
        project.save()
    return ws, project, clip


def test_submit_checkup_queues_it_behind_a_training_job(tmp_path: Path) -> None:
    from backend.jobs.manager import JobManager

    ws, project, clip = _project(tmp_path)
    assert checkup_after_training(project)  # on unless the project says otherwise
    jm = JobManager(ws.jobs_dir)
    first = jm.submit("sleep", {"seconds": 30.0}, gpus=[])
    try:
        job = submit_checkup(ws, "eve", after=first.id, gpus=[], limit=5, asr_model="tiny")
        assert (job.stage, job.project, job.after, job.state) == ("checkup", "eve", first.id, "queued")
        assert job.params["limit"] == 5 and job.params["asr_model"] == "tiny"
        assert job.params["reference"] == {"audio_path": str(clip), "text": "Hello there.", "language": "en"}
        assert Path(job.params["out"]).parent == project.root / "checkups"
        assert latest_report(project) is None  # nothing has run yet
    finally:
        jm.cancel(first.id, grace=1.0)
    project.settings["checkup_after_training"] = False
    assert not checkup_after_training(project)


def test_reference_falls_back_to_a_transcript_clip_and_is_refused_without_one(tmp_path: Path) -> None:
    from backend.checkup.project_inputs import reference_of

    _ws, project, clip = _project(tmp_path, reference=False)
    assert reference_of(project) == {"audio_path": str(clip), "text": "Hello there.", "language": "en"}
    clip.unlink()
    with pytest.raises(CheckupError, match="no reference clip"):
        reference_of(project)
