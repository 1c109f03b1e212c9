"""Stage ``fetch-models``: download the pretrained base models (text data, G2PW) as a tracked job.

``gsv fetch-models v2Pro [--detach] [--dir DIR] [--only s2G s2D] [--endpoint URL]``

The same download as ``gsv models fetch`` (see :mod:`backend.pretrained`), run the way every long
step runs: a job that survives the terminal closing, with byte progress as job events (the TUI's
Training screen starts it with ``f`` and shows that progress). A few gigabytes over a shaky SSH
session is exactly what should not die with it; a cancelled or broken download resumes from its
partial files when the job runs again.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import GsvError
from ..pretrained import (
    ROLES,
    VERSIONS,
    ProgressFn,
    fetch,
    files_for,
    locate,
    progress_to,
)
from ..progress import Reporter
from .base import StageSpec

STAGE = StageSpec(name="fetch-models", help="download the pretrained base models of versions (a job: survives "
                                            "the terminal, resumes partial files)")


@dataclass
class Params:
    versions: list[str] = field(default_factory=lambda: ["v2Pro"])
    directory: Path | None = None  # official pretrained_models layout; None: $GSV_PRETRAINED_DIR or the HF cache
    only: list[str] | None = None  # kinds of files (roles); None: all of them and the text data
    endpoint: str | None = None  # a hub mirror
    project: str | None = None  # only to file the job under a project


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("versions", nargs="+", choices=VERSIONS, metavar="VERSION",
                        help=f"one or more of {', '.join(VERSIONS)}")
    add_fetch_options(parser)
    parser.add_argument("--project", default=None, help="file the job under this project (optional)")


def check(params: Params) -> None:
    bad = [v for v in params.versions if v not in VERSIONS]
    if not params.versions or bad:
        raise GsvError(f"unknown model version(s) {', '.join(bad) or '(none given)'}",
                       f"use one or more of {', '.join(VERSIONS)}")
    bad = [r for r in params.only or [] if r not in ROLES]
    if bad:
        raise GsvError(f"unknown kind(s) of model file {', '.join(bad)}", f"use some of {', '.join(ROLES)}")


def params_from_args(args: argparse.Namespace, workspace: Any) -> Params:
    if args.project is not None:
        workspace.open_project(args.project)  # refuses an unknown project with its own message
    params = Params(versions=list(args.versions),
                    directory=args.dir.expanduser().absolute() if args.dir is not None else None,
                    only=list(args.only) if args.only else None, endpoint=args.endpoint, project=args.project)
    check(params)
    return params


def add_fetch_options(parser: Any) -> None:
    """Options shared by ``gsv models fetch`` and the ``fetch-models`` job stage."""
    parser.add_argument("--dir", type=Path, default=None, help="folder with the official layout (default: HF cache)")
    parser.add_argument("--only", nargs="+", choices=ROLES, help="only these kinds of files")
    parser.add_argument("--endpoint", default=None,
                        help="a HuggingFace mirror, e.g. https://hf-mirror.com (default: $HF_ENDPOINT or the hub)")


def fetch_all(versions: Iterable[str], directory: Path | None = None, roles: Iterable[str] | None = None,
              on_progress: ProgressFn | None = None, endpoint: str | None = None,
              on_done: Callable[[str, int], None] | None = None,
              on_warning: Callable[[str], None] | None = None) -> None:
    """Fetch every version's files, then (unless ``roles`` narrows the fetch to some kinds of
    model) the text frontend's dictionaries and tagger, which every version needs too, its optional
    files (the full language-ID model, the Japanese user dictionary: a failure there is only
    ``on_warning(reason)``), and for v2 and later the G2PW model that reads Chinese polyphones (the
    official install fetches it too). ``on_done(what, n_files)`` after each version and each of those."""
    roles = list(roles) if roles else None
    done = on_done or (lambda what, n: None)
    versions = list(versions)
    for v in versions:
        done(v, len(fetch(v, directory, roles=roles, on_progress=on_progress, endpoint=endpoint)))
    if roles is None:
        from ..text import g2pw
        from ..text.data import fetch_official_files, fetch_optional_files

        done("text frontend data", len(fetch_official_files(progress=on_progress)))
        here, problems = fetch_optional_files(progress=on_progress)
        done("optional text data", len(here))
        for problem in problems:
            (on_warning or (lambda text: None))(problem)
        if any(v != "v1" for v in versions) and g2pw.model_dir() is None:
            g2pw.fetch_g2pw(on_progress, endpoint)
            done("G2PW (Chinese polyphones)", 1)


def project_of(params: Params) -> str | None:
    return params.project


def expected_outputs(params: Params) -> list[Path]:
    return []  # where the hub cache puts files is only known after the download; run() checks them


def run(params: Params, report: Reporter) -> None:
    check(params)
    todo = _missing(params)
    report.info(f"{len(todo)} model files to download" if todo else "every model file is already here")
    fetch_all(params.versions, params.directory, params.only, progress_to(report), params.endpoint,
              on_done=lambda what, n: report.info(f"{what}: {n} files ready"), on_warning=report.warning)
    missing = _missing(params)
    if missing:  # a download that "succeeded" but left nothing where the loaders look
        raise GsvError(f"downloaded, yet not found where the models are looked for: {', '.join(sorted(missing))}",
                       "check GSV_PRETRAINED_DIR / HF_HUB_CACHE, then fetch again")
    report.summary({"versions": params.versions, "downloaded": len(todo)})


def _missing(params: Params) -> set[str]:
    """Repository paths of the asked-for files not on this machine (versions share some)."""
    return {f.path for v in params.versions for f in files_for(v, params.only) if locate(f, params.directory) is None}
