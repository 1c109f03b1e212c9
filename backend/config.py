"""User settings: ``config.toml`` in the platform's config folder.

Only what a person would want to set once for all projects lives here: default GPUs, the
preferred ASR engine per language, key overrides, the listening-bridge port and the synthesis
precision. Every value is validated on load; a bad value is reported with its key and the fix,
never silently ignored.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import platformdirs
import tomli_w

from .errors import ConfigError
from .fsutil import atomic_write_text
from .infer.device import PRECISIONS

ASR_ENGINES = ("faster-whisper", "funasr")


def config_path() -> Path:
    env = os.environ.get("GSV_CONFIG")
    if env:
        return Path(env).expanduser()
    return Path(platformdirs.user_config_dir("gsv-tui", appauthor=False)) / "config.toml"


def _default_asr() -> dict[str, str]:
    # The official guide: FunASR (Paraformer) for Chinese, Faster-Whisper for everything else.
    return {"zh": "funasr", "yue": "funasr", "en": "faster-whisper", "ja": "faster-whisper",
            "ko": "faster-whisper"}


@dataclass
class ServeSettings:
    """``[serve]``: folders besides the workspace whose files clients of ``gsv serve`` may name."""

    allowed_dirs: list[str] = field(default_factory=list)


@dataclass
class Config:
    gpus: list[int] = field(default_factory=list)  # empty: every visible GPU, or the CPU
    asr_engine: dict[str, str] = field(default_factory=_default_asr)
    keys: dict[str, str] = field(default_factory=dict)  # binding id -> key(s), e.g. "transcripts.play" = "p"
    listen_port: int = 9877
    listen_host: str = "127.0.0.1"
    precision: str = "auto"  # synthesis: auto/fp32/fp16/bf16 (see backend.infer.device)
    serve: ServeSettings = field(default_factory=ServeSettings)

    def to_toml(self) -> str:
        return tomli_w.dumps(asdict(self))

    def save(self, path: Path | None = None) -> None:
        atomic_write_text(path or config_path(), self.to_toml())


def _fail(path: Path, key: str, problem: str, fix: str) -> ConfigError:
    return ConfigError(f"{path}: `{key}` {problem}", fix)


def parse_config(data: dict[str, Any], path: Path) -> Config:
    cfg = Config()
    known = {"gpus", "asr_engine", "keys", "listen_port", "listen_host", "precision", "serve"}
    for key in data:
        if key not in known:
            raise _fail(path, key, "is not a setting", f"remove it; known settings: {', '.join(sorted(known))}")
    if "gpus" in data:
        g = data["gpus"]
        if not isinstance(g, list) or not all(isinstance(i, int) and not isinstance(i, bool) and i >= 0 for i in g):
            raise _fail(path, "gpus", f"must be a list of GPU indices, got {g!r}", "write e.g. gpus = [0, 1]")
        cfg.gpus = list(g)
    if "asr_engine" in data:
        a = data["asr_engine"]
        if not isinstance(a, dict):
            raise _fail(path, "asr_engine", "must be a table", 'write e.g. [asr_engine]\nzh = "funasr"')
        for lang, eng in a.items():
            if eng not in ASR_ENGINES:
                raise _fail(path, f"asr_engine.{lang}", f"is {eng!r}", f"use one of {', '.join(ASR_ENGINES)}")
            cfg.asr_engine[str(lang)] = eng
    if "keys" in data:
        k = data["keys"]
        if not isinstance(k, dict) or not all(isinstance(v, str) and v for v in k.values()):
            raise _fail(path, "keys", "must map binding ids to key names", 'write e.g. [keys]\n"transcripts.play" = "p"')
        cfg.keys = {str(a): b for a, b in k.items()}
    if "listen_port" in data:
        p = data["listen_port"]
        if not isinstance(p, int) or isinstance(p, bool) or not 1024 <= p <= 65535:
            raise _fail(path, "listen_port", f"is {p!r}", "use a port number between 1024 and 65535")
        cfg.listen_port = p
    if "listen_host" in data:
        h = data["listen_host"]
        if not isinstance(h, str) or not h:
            raise _fail(path, "listen_host", f"is {h!r}", 'use "127.0.0.1" (loopback; recommended)')
        cfg.listen_host = h
    if "precision" in data:
        v = data["precision"]
        if v not in PRECISIONS:
            raise _fail(path, "precision", f"is {v!r}",
                        f"use one of {', '.join(PRECISIONS)} (bf16 speeds up CPU synthesis on CPUs with native bfloat16)")
        cfg.precision = v
    if "serve" in data:
        sv = data["serve"]
        dirs = sv.get("allowed_dirs", []) if isinstance(sv, dict) else None
        if not isinstance(dirs, list) or not all(isinstance(d, str) and d for d in dirs) or set(sv) - {"allowed_dirs"}:
            raise _fail(path, "serve", f"is {sv!r}", 'write e.g. [serve]\nallowed_dirs = ["/data/voices"]')
        cfg.serve = ServeSettings(allowed_dirs=list(dirs))
    return cfg


def load_config(path: Path | None = None) -> Config:
    """Read the config (defaults when the file does not exist)."""
    path = path or config_path()
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return Config()
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{path} is not valid TOML: {e}", "fix the line it names, or delete the file for defaults") from None
    return parse_config(data, path)
