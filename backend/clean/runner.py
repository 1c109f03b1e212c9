"""The separation runner: audio-separator (python-audio-separator), driven offline from our models folder.

audio-separator runs the UVR family of networks (VR, MDX, MDX23C/Roformer, Demucs) on torch and
onnxruntime. Left alone it downloads its model list and the settings tables of VR/MDX models
from the internet every time a model loads. We write those files ourselves into the models folder
before loading (``download_checks.json``, ``vr_model_data.json``, ``mdx_model_data.json`` and one
YAML per Roformer/MDX23C model), listing only the models we know, so the runner finds everything
it looks for on disk and never reaches the network; the model files themselves come through
:mod:`backend.clean.fetch` with our progress and offline rules.

It is installed apart from gsv-tui's dependencies, with only what our model families need
(:mod:`backend.clean.install`: ``gsv install-cleaner``, the Clean panel's key, ``./setup.sh test``).
A missing or partial install is a :class:`RunnerMissingError` naming that command.
"""

from __future__ import annotations

import hashlib
import json
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import GsvError
from ..fsutil import atomic_write_text, read_json_file
from ..infer.device import resolve_device
from .catalogue import CleanModel
from .install import INSTALL_COMMAND, MDX_EXTRA, missing

if TYPE_CHECKING:
    import numpy as np  # only for annotations: the TUI asks this module whether the runner is here

_HASH_TAIL = 10000 * 1024  # the runner identifies VR/MDX files by the MD5 of their last ~10 MB


class RunnerMissingError(GsvError):
    """audio-separator is not installed."""


class CleanRunError(GsvError):
    """The runner failed on a model or a file."""


def require_runner() -> None:
    from . import install

    gone = missing()
    if gone:
        what = ("audio-separator, which is not installed" if set(gone) & set(install.RUNNER)
                else "audio-separator's " + ", ".join(gone))
        raise RunnerMissingError(f"cleaning needs {what}", f"run `{INSTALL_COMMAND}` (no restart needed)")


def model_file_hash(path: Path) -> str:
    """The key under which the runner looks up a VR/MDX model's settings (MD5 of the last ~10 MB)."""
    size = path.stat().st_size
    with open(path, "rb") as f:
        if size > _HASH_TAIL:
            f.seek(size - _HASH_TAIL)
        return hashlib.md5(f.read()).hexdigest()


def _yaml_text(config: dict[str, Any]) -> str:
    import yaml

    return yaml.safe_dump(config, sort_keys=False)


def write_runner_catalogue(model_dir: Path, models: list[CleanModel]) -> None:
    """Write the runner's model list and settings tables (and Roformer YAMLs) for ``models``.

    Files of models already described are merged, so models used by other runs stay listed.
    """
    model_dir.mkdir(parents=True, exist_ok=True)
    checks_path = model_dir / "download_checks.json"
    checks: dict[str, dict[str, Any]] = {k: {} for k in (
        "vr_download_list", "mdx_download_list", "mdx_download_vip_list", "demucs_download_list",
        "mdx23c_download_list", "mdx23c_download_vip_list", "roformer_download_list")}
    if checks_path.is_file():
        old = read_json_file(checks_path) or {}  # a damaged list of ours is simply rewritten
        for k, v in checks.items():
            v.update(old.get(k, {}))
    tables = {name: (read_json_file(model_dir / name) or {}) for name in ("vr_model_data.json", "mdx_model_data.json")}
    for m in models:
        label = f"gsv: {m.name}"
        if m.arch in ("roformer", "mdxc"):
            assert m.yaml_name is not None
            atomic_write_text(model_dir / m.yaml_name, _yaml_text(m.config))
            key = "roformer_download_list" if m.arch == "roformer" else "mdx23c_download_list"
            checks[key][label] = {m.filename: m.yaml_name}
        else:
            checks["vr_download_list" if m.arch == "vr" else "mdx_download_list"][label] = m.filename
            path = model_dir / m.filename
            if path.is_file():
                key = "vr_model_data.json" if m.arch == "vr" else "mdx_model_data.json"
                tables[key][model_file_hash(path)] = m.model_data
    atomic_write_text(checks_path, json.dumps(checks, indent=1))
    for name, table in tables.items():
        atomic_write_text(model_dir / name, json.dumps(table, indent=1))


def _check_band_resampler(model: CleanModel) -> None:
    """Multi-band VR models (every UVR de-reverb/denoise model) resample each band through
    python-samplerate, which needs the system's libsamplerate; say so before the first file."""
    if model.arch != "vr" or str(model.model_data.get("vr_model_param", "")).startswith("1band"):
        return
    try:
        import samplerate  # noqa: F401
    except OSError as e:  # samplerate 0.1 loads the system's library; 0.2 carries its own
        raise CleanRunError(f"{model.name} needs libsamplerate, which this system lacks ({e})",
                            f"run `{INSTALL_COMMAND}` (it installs samplerate 0.2, which bundles it), or "
                            "`apt install libsamplerate0` (Debian/Ubuntu)") from e


def _check_mdx(model: CleanModel) -> None:
    """MDX (ONNX) models load through a module that imports onnx2torch and so torchvision, which
    the runner's install leaves out (the registry's torchvision does not load beside a CPU torch)."""
    if model.arch != "mdx":
        return
    try:
        import importlib

        importlib.import_module("audio_separator.separator.architectures.mdx_separator")
    except Exception as e:  # noqa: BLE001 - an ImportError, or torchvision failing to load its operators
        raise CleanRunError(f"{model.name} is an MDX (ONNX) model, which needs {', '.join(MDX_EXTRA)} ({e})",
                            f"install them with a torchvision built for your torch "
                            f"(`pip install {' '.join(MDX_EXTRA)}` on a CUDA build), or choose another model") from e


def _separator_class() -> type:
    """The runner's ``Separator`` without its ffmpeg check: it needs ffmpeg only to write mp3/m4a
    through pydub, and we hand it WAV files and have it write WAV through soundfile."""
    from audio_separator.separator import Separator

    class _WavSeparator(Separator):  # type: ignore[misc, valid-type]
        def check_ffmpeg_installed(self) -> None:
            return None

    return _WavSeparator


class StepRunner:
    """One loaded model of the chain; ``process`` turns a WAV file into the kept stem's samples."""

    def __init__(self, model: CleanModel, model_dir: Path, work_dir: Path, device: str = "auto") -> None:
        require_runner()
        _check_band_resampler(model)
        _check_mdx(model)
        self.model = model
        self.work_dir = work_dir
        work_dir.mkdir(parents=True, exist_ok=True)
        write_runner_catalogue(model_dir, [model])
        self._sep = _separator_class()(log_level=logging.WARNING, model_file_dir=str(model_dir), output_dir=str(work_dir),
                              output_format="WAV", output_single_stem=model.keep, sample_rate=model.sample_rate,
                              use_soundfile=True, normalization_threshold=1.0)
        if resolve_device(device) == "cpu":  # the lease may show a GPU the user asked us not to use
            import torch

            self._sep.torch_device = torch.device("cpu")
            self._sep.onnx_execution_provider = ["CPUExecutionProvider"]
        try:
            self._sep.load_model(model.filename)
        except Exception as e:  # the runner's own errors: a wrong file, a config that does not fit it
            raise CleanRunError(f"cannot load cleaning model {model.name} ({model.filename}): {e}",
                                "fetch it again (`gsv models fetch --clean`) or choose another model") from e

    def process(self, wav_in: Path) -> np.ndarray:
        """Samples (frames, channels) of the kept stem for ``wav_in``; the runner's file is removed."""
        import soundfile as sf

        out_name = f"{wav_in.stem}.{self.model.step}"
        for old in self.work_dir.glob(f"{out_name}*"):
            old.unlink()
        self._sep.separate(str(wav_in), custom_output_names={self.model.keep: out_name})
        found = sorted(self.work_dir.glob(f"{out_name}.*"))
        if not found:
            raise CleanRunError(f"{self.model.name} wrote no {self.model.keep!r} stem for {wav_in.name}",
                                "the model's stems do not include the one kept; check its entry")
        data, _ = sf.read(found[0], dtype="float32", always_2d=True)
        for f in found:
            f.unlink()
        return data
