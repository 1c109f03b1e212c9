"""What a checkup takes from the project: its reference clip, its training clips and texts."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .evaluate import CheckupError


def transcript_clips(project: Any) -> list[tuple[Path, str, str]]:
    """(audio path, text, language) of every transcript line whose audio exists."""
    from ..transcripts import Transcript

    path = Path(project.transcript_path)
    if not path.is_file():
        return []
    t = Transcript.open(path)
    out = []
    for n, clip in enumerate(t.clips()):
        audio = t.audio_path(n)
        if audio is not None and audio.is_file():
            out.append((audio, clip.text.strip(), clip.lang.lower()))
    return out


def reference_of(project: Any) -> dict[str, str]:
    """The project's chosen reference (``settings.reference``), else the first transcript clip of
    3–10 s with a text: every checkup of a project uses the same clip."""
    chosen = project.settings.get("reference")
    if isinstance(chosen, dict) and chosen.get("audio_path") and Path(chosen["audio_path"]).is_file():
        return {"audio_path": str(chosen["audio_path"]), "text": str(chosen.get("text", "")),
                "language": str(chosen.get("language") or project.language)}
    import soundfile as sf

    for audio, text, lang in transcript_clips(project):
        try:
            seconds = sf.info(audio).duration
        except RuntimeError:
            continue
        if text and 3.0 <= seconds <= 10.0:
            return {"audio_path": str(audio), "text": text, "language": lang or project.language}
    raise CheckupError(f"project {project.name!r} has no reference clip for the checkup",
                       "choose one on the Transcripts screen, or pass --ref WAV --ref-text TEXT")
