"""Stage ``install-cleaner``: install the separation runner (audio-separator) as a tracked job.

``gsv install-cleaner [--python PY] [--find-links DIR] [--no-index]``

Runs pip for the interpreter gsv runs in (or ``--python``) with exactly what
:mod:`backend.clean.install` declares — the runner's needed dependencies resolved by pip, then the
runner itself without its declared ones — keeping torch and numpy at their installed versions.
A job, so that the Clean panel can start it with one key and show pip's progress (its
``Progress N of M`` lines become byte progress; what it collects and installs, messages), and so
a failure's reason stays with the job. New jobs see the runner at once (each job is a new
process); the panel looks again when the job ends, so nothing needs a restart.

``--find-links``/``--no-index`` install from a folder of wheels (an offline machine, the tests).
"""

from __future__ import annotations

import argparse
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..clean import install
from ..progress import Reporter
from .base import StageSpec

STAGE = StageSpec(name="install-cleaner", help="install the cleaning runner (audio-separator) for `gsv clean` "
                                               "(a job; keeps torch and numpy as they are)")

_PROGRESS = re.compile(r"^Progress (\d+) of (\d+)$")
_SAID = ("Collecting ", "Downloading ", "Processing ", "Installing collected", "Successfully installed",
         "Requirement already satisfied: audio-separator", "ERROR", "WARNING: Retrying")


@dataclass
class Params:
    python: Path | None = None  # the interpreter to install for; None: the one gsv runs in
    requirements: list[str] | None = None  # installed with their dependencies; None: the declared list
    no_deps: list[str] | None = None  # installed without theirs; None: the runner
    find_links: list[Path] = field(default_factory=list)  # folders of wheels pip also looks in
    no_index: bool = False  # only those folders, never the package index
    project: str | None = None  # only to file the job under a project


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--python", type=Path, default=None,
                        help="install for this interpreter (default: the one gsv runs in)")
    parser.add_argument("--find-links", type=Path, action="append", default=[], metavar="DIR",
                        help="also look for wheels in DIR (repeatable)")
    parser.add_argument("--no-index", action="store_true", help="only the --find-links folders, not the index")
    parser.add_argument("--project", default=None, help="file the job under this project (optional)")


def params_from_args(args: argparse.Namespace, workspace: Any) -> Params:
    if args.project is not None:
        workspace.open_project(args.project)
    params = Params(python=args.python.expanduser().absolute() if args.python else None,
                    find_links=[d.expanduser().absolute() for d in args.find_links], no_index=args.no_index,
                    project=args.project)
    check(params)
    return params


def target(params: Params) -> Path:
    return Path(params.python) if params.python else Path(sys.executable)


def check(params: Params) -> None:
    """Refuse before queueing: no interpreter, no pip, an environment we cannot write."""
    install.check_target(target(params))
    for d in params.find_links:
        if not Path(d).is_dir():
            raise install.RunnerInstallError(f"--find-links {d} is not a folder", "name a folder of wheels")


def project_of(params: Params) -> str | None:
    return params.project


def expected_outputs(params: Params) -> list[Path]:
    return []  # where pip puts files is the environment's business; run() checks the result


class _PipLines:
    """pip's output as job events: byte progress for downloads, a message per package step."""

    def __init__(self, report: Reporter) -> None:
        self.report = report
        self.current: str | None = None

    def __call__(self, line: str) -> None:
        m = _PROGRESS.match(line)
        if m:
            self.report.progress(int(m.group(1)), int(m.group(2)), unit="bytes", label=self.current)
            return
        text = line.strip()
        if text.startswith(("Downloading ", "Processing ")):
            self.current = text.split(" ", 1)[1].split(" (", 1)[0].rsplit("/", 1)[-1]
        if text.startswith(_SAID):
            self.report.info(text)
        else:
            print(line, file=sys.stderr)  # everything pip says stays in the job's log


def run(params: Params, report: Reporter) -> None:
    check(params)
    python = target(params)
    reqs = install.RUNNER_DEPS if params.requirements is None else tuple(params.requirements)
    top = install.RUNNER if params.no_deps is None else tuple(params.no_deps)
    report.info(f"installing for {python}: {', '.join((*reqs, *top))}")
    install.install(python, reqs, top, params.find_links, params.no_index, on_line=_PipLines(report))
    _verify(python, (*reqs, *top))
    report.summary({"python": str(python), "installed": [*reqs, *top]})
    report.info("the cleaning runner is installed")


def _verify(python: Path, reqs: tuple[str, ...]) -> None:
    """pip said yes; check that the interpreter now sees every requirement at a fitting version."""
    from packaging.requirements import Requirement

    parsed = [Requirement(r) for r in reqs]
    have = install.installed_versions(python, [r.name for r in parsed])
    bad = [str(r) for r in parsed if r.name not in have
           or (r.specifier and not r.specifier.contains(have[r.name], prereleases=True))]
    if bad:
        raise install.RunnerInstallError(f"after the install, {python} still lacks {', '.join(bad)}",
                                         "read the job's log (`gsv jobs logs ID`) for what pip did")
