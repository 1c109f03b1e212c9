"""Dataset mode's requests: slice recordings into the project's clips, transcribe the clips."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import GsvError
from .forms import FieldSpec, field_spec, problem_fields

if TYPE_CHECKING:
    from ..stages import asr
    from ..stages import slice as slice_stage
    from .core import Application


def slicer_fields() -> tuple[FieldSpec, ...]:
    """The slicer settings a form shows, in the WebUI's order, from ``slice.Params``."""
    from ..stages import slice as slice_stage

    return tuple(field_spec(slice_stage.Params, name, off_when_zero=name == "max_length")
                 for name in slice_stage.SLICER_FIELDS)


def check_slicer_values(values: dict[str, Any]) -> tuple[list[str], set[str]]:
    """Every problem of these slicer settings, and the fields they are about (as you type)."""
    from ..stages import slice as slice_stage

    problems = slice_stage.Params(inputs=[], out_dir=Path(), **values).problems()
    return problems, problem_fields(slice_stage.Params, problems)


def slice_request(app: "Application", inputs: list[Path], values: dict[str, Any]) -> "slice_stage.Params":
    """The ``slice`` Params for the open project, or GsvError saying what is wrong or missing."""
    from ..stages import slice as slice_stage

    project = app.require_project()
    if not inputs:
        raise GsvError("no input chosen", "type a path or press ctrl+o to browse")
    params = slice_stage.Params(inputs=list(inputs), out_dir=project.clips_dir, project=project.name,
                                backup_dir=project.trash_dir / "replaced-clips", **values)
    slice_stage.check(params)
    if not params.replace:
        done = slice_stage.already_sliced(params)
        if done:
            names = ", ".join(name for name, _ in done[:3]) + (" …" if len(done) > 3 else "")
            raise GsvError(f"already sliced into {project.clips_dir.name}/: {names}",
                           "tick 'replace earlier clips' to slice again (the earlier clips are backed up)")
    return params



def asr_choices() -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The ASR engines and the languages they can be asked for (the asr stage's own lists)."""
    from ..asr.base import ASR_LANGUAGES, ENGINES

    return tuple(ENGINES), tuple(ASR_LANGUAGES)


def asr_engine_options() -> tuple[tuple[str, str, str, str | None], ...]:
    """What the ASR dialog offers: (choice id, label, engine, model preset). SenseVoice and
    Fun-ASR-Nano are FunASR models, listed as their own choices so nobody has to know their names
    to pick them."""
    return (
        ("faster-whisper", "Faster-Whisper (large-v3; any language)", "faster-whisper", None),
        ("funasr", "FunASR Paraformer-zh (Chinese)", "funasr", None),
        ("funasr:sensevoice", "FunASR SenseVoice (zh/en/ja/ko/yue)", "funasr", "sensevoice"),
        ("funasr:fun-asr-nano", "FunASR Fun-ASR-Nano (zh/en/ja/ko/yue; best on a GPU)", "funasr", "fun-asr-nano"),
    )


def asr_engine(app: "Application") -> str:
    """The engine the project's language calls for (config.toml may choose another)."""
    project = app.require_project()
    return app.config.asr_engine_for(project.language)


def asr_request(app: "Application", engine: str, model: str | None, language: str,
                on_existing: str) -> "asr.Params":
    """The ``asr`` Params: the project's clips into its transcript."""
    from ..stages import asr

    project = app.require_project()
    return asr.Params(input_dir=project.clips_dir, out_dir=project.transcripts_dir, engine=engine, model=model,
                      language=language, on_existing=on_existing, project=project.name)
