"""``gsv sleep``: a self-test of the job system on this machine (no models, no data).

It sleeps in steps, reporting progress after each, and can be told to fail in each of the ways a
real stage fails, to leave out its output, or to start a child that starts a grandchild. Run it to
check, on a new machine, that jobs survive closing the terminal, that cancel stops a whole process
tree, that GPU jobs queue per GPU (``--gpus 0``) and that outcomes read right:

    gsv sleep --seconds 30 --detach            # then close the SSH session, come back, `gsv jobs list`
    gsv sleep --seconds 60 --spawn-child       # `gsv jobs cancel ID`: nothing of it may be left
    gsv sleep --seconds 60 --stubborn-child    # same, with children that ignore SIGTERM
    gsv sleep --gpus 0 --detach; gsv sleep --gpus 0 --detach   # the second waits for the first
    gsv sleep --fail oom                       # reported as "CUDA out of memory"

The tests of the job system use it for the same reasons.
"""

from __future__ import annotations

import argparse
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import GsvError
from ..fsutil import atomic_write_text
from ..progress import Reporter
from .base import StageSpec

STAGE = StageSpec(
    name="sleep",
    help="self-test of the job system: sleep with progress, optionally fail, spawn children or hold a GPU",
    uses_gpu=False,
)

FAILURES = ("error", "crash", "oom")


@dataclass
class Params:
    seconds: float = 2.0
    steps: int = 10
    fail: str | None = None  # None | "error" (user error) | "crash" (exception) | "oom" (CUDA OOM message)
    output: Path | None = None  # a file written at the end; it is this stage's expected output
    forget_output: bool = False  # expect ``output`` but do not write it
    spawn_child: bool = False  # start a child process that starts grandchildren, all sleeping
    stubborn_child: bool = False  # that child (and its children) ignore SIGTERM
    project: str | None = None


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--seconds", type=float, default=2.0, help="total time to sleep (default 2)")
    parser.add_argument("--steps", type=int, default=10, help="progress steps (default 10)")
    parser.add_argument("--fail", choices=FAILURES, default=None,
                        help="fail half-way: 'error' a user error (exit 2), 'crash' an exception (exit 1), "
                             "'oom' the error torch raises on CUDA out-of-memory (to check it is named)")
    parser.add_argument("--output", type=Path, default=None,
                        help="write this file at the end; the job succeeds only if it exists")
    parser.add_argument("--forget-output", action="store_true",
                        help="expect --output but do not write it (the job must then be reported failed)")
    parser.add_argument("--spawn-child", action="store_true",
                        help="start a child that starts a grandchild, left running until the job's process "
                             "group is stopped (checks that cancel reaches the whole tree)")
    parser.add_argument("--stubborn-child", action="store_true",
                        help="with --spawn-child: the child and grandchildren ignore SIGTERM (checks that "
                             "cancel escalates to SIGKILL after the grace period)")
    parser.add_argument("--project", default=None, help="project to file the job under (optional)")


def params_from_args(args: argparse.Namespace, workspace: Any) -> Params:
    if args.seconds < 0:
        raise GsvError(f"--seconds must be 0 or more, got {args.seconds:g}", "give a duration like --seconds 5")
    if args.steps < 1:
        raise GsvError(f"--steps must be at least 1, got {args.steps}", "give e.g. --steps 10")
    if args.forget_output and args.output is None:
        raise GsvError("--forget-output needs --output", "add --output PATH")
    if args.project is not None:
        workspace.open_project(args.project)  # refuses an unknown project with its own message
    output = args.output.expanduser().absolute() if args.output is not None else None
    return Params(seconds=args.seconds, steps=args.steps, fail=args.fail, output=output,
                  forget_output=args.forget_output, spawn_child=args.spawn_child or args.stubborn_child,
                  stubborn_child=args.stubborn_child, project=args.project)


def project_of(params: Params) -> str | None:
    return params.project


def expected_outputs(params: Params) -> list[Path]:
    return [params.output] if params.output is not None else []


def run(params: Params, report: Reporter) -> None:
    if params.fail is not None and params.fail not in FAILURES:
        raise GsvError(f"unknown failure mode {params.fail!r}", f"use one of {', '.join(FAILURES)}")
    if params.spawn_child:
        # sh is the child; the two sleeps are grandchildren. All share the job's process group.
        script = ("trap '' TERM; " if params.stubborn_child else "") + "sleep 3600 & sleep 3600 & wait"
        child = subprocess.Popen(["sh", "-c", script])
        report.info(f"started child process {child.pid}")
    report.progress(0, params.steps, "steps")
    step_time = params.seconds / params.steps
    for i in range(params.steps):
        if params.fail and i >= params.steps // 2:
            _fail(params.fail)
        time.sleep(step_time)
        report.progress(i + 1, params.steps, "steps")
    if params.fail:
        _fail(params.fail)
    if params.output is not None and not params.forget_output:
        atomic_write_text(params.output, f"gsv sleep self-test: slept {params.seconds:g} s in {params.steps} steps\n")
        report.artifact(params.output, role="output")
    report.info("done")


def _fail(mode: str) -> None:
    if mode == "error":
        raise GsvError("the sleep self-test was asked to fail (--fail error)", "run it without --fail")
    if mode == "oom":
        raise RuntimeError("CUDA out of memory. Tried to allocate 2.00 GiB (raised on purpose by `gsv sleep --fail oom`)")
    raise RuntimeError("the sleep self-test was asked to crash (--fail crash)")
