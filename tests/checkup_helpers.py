"""A tiny project ready for a checkup: exports, clips with a transcript, a chosen reference, and
the tiny models a checkup needs (HuBERT in a pretrained folder, a random Whisper for the real
ASR engine, a narrow random ERes2NetV2 speaker-verification checkpoint)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from infer_helpers import GPT, HUBERT, SOVITS, make_pretrained_dir, write_voice

SENTENCES = ("The quick brown fox jumps.", "It was not amused at all.", "Then it went to sleep.",
             "Morning came with rain.")


@dataclass
class CheckupProject:
    home: Path
    name: str
    pretrained: Path
    whisper: Path
    sv: Path


def build_tiny_sv(path: Path) -> Path:
    """A randomly initialised ERes2NetV2 of the official layout, 4 channels wide (the official is 64)."""
    import torch

    from backend.models.safe_pickle import save_checkpoint
    from backend.models.sv import ERes2NetV2

    torch.manual_seed(0)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(save_checkpoint(ERes2NetV2(m_channels=4).state_dict()))
    return path


def make_checkup_project(root: Path, name: str = "dora", epochs: tuple[int, ...] = (1, 2)) -> CheckupProject:
    """An English v2 project with SoVITS and GPT exports at ``epochs`` (copies of the tiny models:
    a checkup of them tests the machinery, not the voice), four clips with their transcript, and
    the first clip as the chosen reference."""
    from asr_models import build_tiny_whisper

    from backend.workspace import Workspace

    home = root / "home"
    project = Workspace(home).create_project(name, language="en", version="v2")
    sdir, gdir = project.sovits_weights_dir(), project.gpt_weights_dir()
    sdir.mkdir(parents=True, exist_ok=True)
    gdir.mkdir(parents=True, exist_ok=True)
    for e in epochs:
        shutil.copy(SOVITS, sdir / f"{name}_e{e}_s{e * 4}.pth")
        shutil.copy(GPT, gdir / f"{name}-e{e}.ckpt")
    lines = []
    for i, text in enumerate(SENTENCES):
        clip = write_voice(project.clips_dir / f"clip_{i}.wav", 4.0 + i, seed=i)
        lines.append(f"{clip}|{name}|EN|{text}")
    project.transcript_path.parent.mkdir(parents=True, exist_ok=True)
    project.transcript_path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    project.settings["reference"] = {"audio_path": str(project.clips_dir / "clip_0.wav"), "text": SENTENCES[0],
                                     "language": "en"}
    project.save()
    pretrained = make_pretrained_dir(root / "pretrained")
    return CheckupProject(home, name, pretrained, build_tiny_whisper(root / "whisper-tiny"),
                          build_tiny_sv(root / "sv" / "tiny_eres2netv2.ckpt"))


def checkup_env(cp: CheckupProject) -> dict[str, str]:
    """The environment a ``gsv`` command for ``cp`` runs in: its home, its base models, offline."""
    return {**os.environ, "GSV_HOME": str(cp.home), "GSV_PRETRAINED_DIR": str(cp.pretrained), "HF_HUB_OFFLINE": "1",
            "OMP_NUM_THREADS": "1"}


def run_checkup(cp: CheckupProject, limit: int) -> "subprocess.CompletedProcess[str]":
    """``gsv checkup`` of ``cp`` on the CPU with its tiny models, ``limit`` sentences, short pieces."""
    return subprocess.run([sys.executable, "-m", "backend.cli", "checkup", "--project", cp.name, "--limit", str(limit),
                           "--asr-model", str(cp.whisper), "--asr-engine", "faster-whisper", "--asr-device", "cpu",
                           "--sv", str(cp.sv), "--hubert", str(HUBERT), "--device", "cpu", "--max-seconds", "0.5",
                           "--gpus", "cpu"], capture_output=True, text=True, timeout=900,
                          cwd=Path(__file__).resolve().parents[1], env=checkup_env(cp), check=False)
