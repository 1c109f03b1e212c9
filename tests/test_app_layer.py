"""The application layer: the TUI's only door, Params as the one declaration, review rules headless."""

from __future__ import annotations

import ast
import dataclasses
import os
import subprocess
import sys
from pathlib import Path

import pytest

from backend.app import Application
from backend.app import training as train_requests
from backend.app.review import CONFLICT, SAVED, UNSAVED, ReviewSession, open_transcript
from backend.cli import build_parser
from backend.errors import GsvError
from backend.stages import slice as slice_stage
from backend.stages import train_sovits
from backend.workspace import Workspace

REPO = Path(__file__).resolve().parents[1]
ALLOWED = ("backend.app", "backend.errors")


def _backend_imports(path: Path) -> list[str]:
    """Every backend module a gsv_tui file imports, wherever the import sits (lazy ones too)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [a.name for a in node.names if a.name.split(".")[0] == "backend"]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            if node.module == "backend":
                found += [f"backend.{a.name}" for a in node.names]
            elif node.module.startswith("backend."):
                found.append(node.module)
    return found


def test_the_tui_imports_only_the_application_layer_and_errors() -> None:
    files = sorted((REPO / "gsv_tui").rglob("*.py"))
    assert len(files) > 20
    wrong = {str(f.relative_to(REPO)): m for f in files for m in _backend_imports(f)
             if not any(m == a or m.startswith(a + ".") for a in ALLOWED)}
    assert wrong == {}


def test_the_application_layer_imports_neither_textual_nor_torch() -> None:
    code = ("import sys, backend.app, backend.app.dataset, backend.app.training, backend.app.inference, "
            "backend.app.review, backend.app.summaries, backend.app.jobs, backend.app.serve\n"
            "print(sorted(m for m in ('textual', 'torch', 'transformers', 'funasr') if m in sys.modules))")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, env=dict(os.environ),
                       timeout=60)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "[]"


# --- Params: one declaration ----------------------------------------------------------------------
def _with_default(monkeypatch: pytest.MonkeyPatch, cls: type, name: str, value: object) -> None:
    """Change the declared default of ``cls.name`` for this test (what editing the source does)."""
    f = cls.__dataclass_fields__[name]  # type: ignore[attr-defined]
    monkeypatch.setattr(f, "default", value)


def _help(*argv: str) -> str:
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")  # the subcommand's own parser
    return sub.choices[argv[0]].format_help()  # type: ignore[union-attr]


def _option_help(command: str, option: str) -> str:
    """The help text of one option (its entry in the options list, not the usage line)."""
    return " ".join(_help(command).split()).rsplit(option, 1)[1][:90]


@pytest.mark.slow
def test_a_changed_default_shows_in_the_cli_help_and_the_tui_forms(monkeypatch: pytest.MonkeyPatch,
                                                                  tmp_path: Path) -> None:
    import asyncio

    from textual.widgets import Input
    from tui_helpers import make_app, wait_until

    from gsv_tui.widgets.slice_form import SliceForm
    from gsv_tui.widgets.train_form import TrainForm

    assert "(default 8)" in _option_help("train-sovits", "--epochs EPOCHS")
    _with_default(monkeypatch, train_sovits.Params, "epochs", 11)
    _with_default(monkeypatch, slice_stage.Params, "min_length", 3500)
    assert "(default 11)" in _option_help("train-sovits", "--epochs EPOCHS")
    assert "(default 3500)" in _option_help("slice", "--min-length MIN_LENGTH")

    home = tmp_path / "home"
    Workspace(home).create_project("alice")

    async def forms() -> tuple[str, str]:
        app = make_app(home, project="alice")
        async with app.run_test(size=(100, 40)) as pilot:
            await pilot.press("1")
            form = await wait_until(pilot, lambda: next(iter(app.screen.query(SliceForm)), None), what="slice form")
            slice_value = form.query_one("#param-min_length", Input).value
            await pilot.press("3")
            train = await wait_until(pilot, lambda: next(iter(app.screen.query(TrainForm)), None), what="train form")
            return slice_value, train.query_one("#sovits-epochs", Input).value

    assert asyncio.run(forms()) == ("3500", "11")


def test_params_problems_hold_every_rule(tmp_path: Path) -> None:
    p = train_sovits.Params(exp_dir=tmp_path, weights_dir=tmp_path, exp_name="x", batch_size=0, text_lr_weight=2.0)
    assert p.problems() == ["batch_size (0) must be at least 1", "text_lr_weight (2) must be in (0, 1]"]
    assert train_sovits.Params(exp_dir=tmp_path, weights_dir=tmp_path, exp_name="x").problems() == []
    # the job system refuses it at submission, not silently as "auto" in the trainer
    from backend.jobs.manager import JobManager

    with pytest.raises(GsvError, match="batch_size"):
        JobManager(tmp_path / "jobs").submit("train-sovits", p)


def test_slicer_message_names_the_declared_defaults() -> None:
    with pytest.raises(GsvError) as e:
        slice_stage.check(slice_stage.Params(inputs=[], out_dir=Path("/tmp"), hop_size=0))
    assert "threshold -34, min_length 4000, min_interval 300, hop_size 10, max_sil_kept 500" in str(e.value.fix)


# --- requests -----------------------------------------------------------------------------------
@pytest.fixture
def application(tmp_path: Path) -> Application:
    app = Application(workspace=Workspace(tmp_path / "home"))
    app.create_project("alice", language="en", version="v2")
    return app


def test_train_both_is_a_chain_on_one_gpu_and_side_by_side_on_two(application: Application) -> None:
    one = train_requests.train_requests(application, "both", train_requests.TrainSettings(gpus=["0"], gpt_epochs=3))
    assert one.chained and [j.stage for j in one.jobs] == ["train-sovits", "train-gpt"]
    assert one.jobs[1].params.epochs == 3 and one.jobs[0].params.epochs == train_sovits.Params.__dataclass_fields__[
        "epochs"].default
    two = train_requests.train_requests(application, "both", train_requests.TrainSettings(gpus=["0", "1"]))
    assert not two.chained and [j.gpus for j in two.jobs] == [["0"], ["1"]]
    with pytest.raises(GsvError, match="batch_size"):
        train_requests.train_requests(application, "gpt", train_requests.TrainSettings(gpus=[], batch_size=0))


def test_a_chosen_reference_is_told_to_listeners_and_kept_with_the_project(application: Application,
                                                                          tmp_path: Path) -> None:
    import numpy as np
    import soundfile as sf

    project = application.require_project()
    wav = project.clips_dir / "a.wav"
    wav.parent.mkdir(parents=True, exist_ok=True)
    sf.write(wav, np.zeros(32000 * 4, dtype=np.float32), 32000)
    project.transcript_path.parent.mkdir(parents=True, exist_ok=True)
    project.transcript_path.write_text(f"{wav}|alice|EN|Hello there.\n", encoding="utf-8")
    heard: list[dict[str, str]] = []
    stop = application.on_reference(heard.append)
    ref = application.set_reference(open_transcript(project.transcript_path, project.root), 0)
    assert heard == [ref] and ref["text"] == "Hello there." and application.reference() == ref
    assert Workspace(tmp_path / "home").open_project("alice").settings["reference"] == ref
    stop()
    application.set_reference(open_transcript(project.transcript_path, project.root), 0)
    assert len(heard) == 1


# --- the review rules, without a terminal -------------------------------------------------------
def _list(tmp_path: Path, lines: list[str]) -> Path:
    path = tmp_path / "voice.list"
    path.write_text("".join(f"{tmp_path / name}|v|EN|{text}\n" for name, text in
                            (line.split(":", 1) for line in lines)), encoding="utf-8")
    return path


def test_review_session_saves_follows_the_disk_and_resolves_conflicts(tmp_path: Path) -> None:
    path = _list(tmp_path, ["a.wav:one", "b.wav:two"])
    session = ReviewSession()
    session.adopt(open_transcript(path))
    assert session.state == SAVED and session.follow_disk() is None

    # nothing of ours pending: another program's rewrite is followed
    path.write_text(path.read_text(encoding="utf-8") + f"{tmp_path / 'c.wav'}|v|EN|three\n", encoding="utf-8")
    fresh = session.follow_disk()
    assert fresh is not None and len(fresh) == 3 and session.transcript is fresh and session.state == SAVED

    # an edit, then the file changes under it: saving reports the conflict, nothing is written
    assert fresh.set_text(0, "ONE")
    session.edited()
    assert session.state == UNSAVED
    path.write_text(path.read_text(encoding="utf-8").replace("two", "TWO"), encoding="utf-8")
    assert session.follow_disk() is None  # edits pending: not followed
    assert session.save().conflict and session.state == CONFLICT
    assert "TWO" in path.read_text(encoding="utf-8") and "ONE" not in path.read_text(encoding="utf-8")

    # merging keeps both: theirs (TWO) and ours (ONE), and saves
    merged = session.resolve("merge")
    assert merged is not None and session.state == SAVED
    text = path.read_text(encoding="utf-8")
    assert "ONE" in text and "TWO" in text

    # overwrite writes ours over theirs
    merged.set_text(2, "THREE")
    path.write_text(text.replace("TWO", "deux"), encoding="utf-8")
    assert session.save().conflict
    assert session.resolve("overwrite") is None and session.state == SAVED
    assert "deux" not in path.read_text(encoding="utf-8") and "THREE" in path.read_text(encoding="utf-8")


def test_review_session_reload_drops_the_pending_edit(tmp_path: Path) -> None:
    path = _list(tmp_path, ["a.wav:one"])
    session = ReviewSession()
    session.adopt(open_transcript(path))
    assert session.transcript is not None and session.transcript.set_text(0, "mine")
    path.write_text(path.read_text(encoding="utf-8").replace("one", "theirs"), encoding="utf-8")
    assert session.save().conflict
    fresh = session.resolve("reload")
    assert fresh is not None and fresh.clip(0).text.strip() == "theirs"
    assert "theirs" in path.read_text(encoding="utf-8")


def test_summaries_are_typed(tmp_path: Path) -> None:
    from backend.app.summaries import FormatSummary, read_slice_summary

    assert read_slice_summary(tmp_path / "clips") is None
    (tmp_path / "clips.slice.json").write_text('{"clips": 2, "seconds": 9.5, "folder": {"clips": 3, "seconds": 12},'
                                              ' "files": [{"path": "/x/a.wav", "source_seconds": 20}]}',
                                              encoding="utf-8")
    s = read_slice_summary(tmp_path / "clips")
    assert s is not None and (s.clips, s.folder_clips, s.recorded_seconds) == (2, 3, 20.0)
    f = FormatSummary.from_json({"kept": 1, "seconds": 3, "steps": [{"name": "text", "done": 1}]})
    assert dataclasses.astuple(f.steps[0]) == ("text", 1, 0)


def test_the_trainers_settings_start_from_the_stages_defaults(tmp_path: Path) -> None:
    pytest.importorskip("torch")
    from backend.stages import train_gpt
    from backend.train.gpt import GPTTrainSettings
    from backend.train.sovits import SoVITSTrainSettings

    for params_cls, settings_cls in ((train_sovits.Params, SoVITSTrainSettings), (train_gpt.Params, GPTTrainSettings)):
        settings = {f.name: f.default for f in dataclasses.fields(settings_cls)}
        shared = [f for f in dataclasses.fields(params_cls)
                  if f.name in settings and f.name not in ("batch_size", "num_workers", "version")
                  and f.default is not dataclasses.MISSING]
        assert len(shared) >= 5
        for f in shared:
            assert settings[f.name] == f.default, (settings_cls.__name__, f.name)


def test_infer_request_converts_seconds_with_the_stages_rate(application: Application) -> None:
    from backend.app import inference
    from backend.infer.params import MAX_PIECE_S, TOKENS_PER_S
    from backend.stages import infer

    fields = {f.name: f for f in inference.number_fields()}
    assert fields["top_k"].default == infer.Params.__dataclass_fields__["top_k"].default
    assert fields["max_s"].default == MAX_PIECE_S
    numbers = {name: f.default for name, f in fields.items()} | {"max_s": 2.0}
    s = inference.InferSettings(text="Hello.", lang="en", ref="/r.wav", gpt="/g.ckpt", sovits="/s.pth",
                                numbers=numbers)
    params = inference.infer_request(application, s)
    assert params.max_tokens == 2 * TOKENS_PER_S and params.project == "alice"
    assert inference.form_values({"max_tokens": params.max_tokens})["max_s"] == 2.0
    with pytest.raises(GsvError, match="top_k"):
        inference.infer_request(application, dataclasses.replace(s, numbers=numbers | {"top_k": 0}))
