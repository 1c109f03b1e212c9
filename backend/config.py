"""User settings: ``config.toml`` in the platform's config folder.

Only what a person would want to set once for all projects lives here: default GPUs, the
preferred ASR engine per language, key overrides, the listening-bridge port and the synthesis
precision. Every value is validated on load; a bad value is reported with its key and the fix,
never silently ignored.
"""

from __future__ import annotations

import ipaddress
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
MAX_GPU_INDEX = 1023  # far beyond any machine; a larger id is a typo that CUDA would only reject late


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
    listen_allow_remote: bool = False  # unsafe: lets listen_host be a non-loopback address (warned on every start)
    precision: str = "auto"  # synthesis: auto/fp32/fp16/bf16 (see backend.infer.device)
    serve: ServeSettings = field(default_factory=ServeSettings)

    def asr_engine_for(self, language: str) -> str:
        """The ASR engine for ``language``: the configured one, else faster-whisper."""
        return self.asr_engine.get(language, "faster-whisper")

    def to_toml(self) -> str:
        return tomli_w.dumps(asdict(self))

    def save(self, path: Path | None = None) -> None:
        atomic_write_text(path or config_path(), self.to_toml())


def _fail(path: Path, key: str, problem: str, fix: str) -> ConfigError:
    return ConfigError(f"{path}: `{key}` {problem}", fix)


def parse_config(data: dict[str, Any], path: Path) -> Config:
    cfg = Config()
    known = {"gpus", "asr_engine", "keys", "listen_port", "listen_host", "listen_allow_remote", "precision", "serve"}
    for key in data:
        if key not in known:
            raise _fail(path, key, "is not a setting", f"remove it; known settings: {', '.join(sorted(known))}")
    if "gpus" in data:
        g = data["gpus"]
        if not isinstance(g, list) or not all(isinstance(i, int) and not isinstance(i, bool)
                                              and 0 <= i <= MAX_GPU_INDEX for i in g):
            raise _fail(path, "gpus", f"must be a list of GPU indices (0–{MAX_GPU_INDEX}), got {g!r}",
                        "write e.g. gpus = [0, 1] (`nvidia-smi -L` lists the indices)")
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
        if not isinstance(h, str) or not _is_address(h):
            raise _fail(path, "listen_host", f"is {h!r}, not an IP address", 'use "127.0.0.1" (loopback; recommended)')
        cfg.listen_host = h
    if "listen_allow_remote" in data:
        v = data["listen_allow_remote"]
        if not isinstance(v, bool):
            raise _fail(path, "listen_allow_remote", f"is {v!r}", "use true or false (false keeps the bridge on loopback)")
        cfg.listen_allow_remote = v
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


def _is_address(host: str) -> bool:
    """An IP literal (IPv6 with or without brackets) or ``localhost``: what the bridge can bind."""
    if host == "localhost":
        return True
    try:
        ipaddress.ip_address(host[1:-1] if host.startswith("[") and host.endswith("]") else host)
    except ValueError:
        return False
    return True


def load_config(path: Path | None = None) -> Config:
    """Read the config (defaults when the file does not exist)."""
    path = path or config_path()
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return Config()
    except IsADirectoryError:
        raise ConfigError(f"{path} is a folder, not a file",
                          "move the folder away; config.toml must be a TOML file (or absent for defaults)") from None
    except OSError as e:
        raise ConfigError(f"cannot read {path}: {e.strerror or e}", "make the file readable, or remove it for defaults") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        line = raw[:e.start].count(b"\n") + 1
        raise ConfigError(f"{path} is not UTF-8 text (byte {raw[e.start]:#04x} on line {line})",
                          "save the file as UTF-8, or fix that line") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{path} is not valid TOML: {e}", "fix the line it names, or delete the file for defaults") from None
    return parse_config(data, path)
