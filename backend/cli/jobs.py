"""``gsv jobs …`` and one ``gsv <stage> …`` subcommand per stage module.

``gsv jobs list [--json]``, ``show ID [--json]``, ``logs ID [--follow]``, ``wait ID`` (exit 0 only
if the job succeeded, else 1), ``cancel ID [--grace S]``. An ID may be a unique prefix or suffix.

Every stage found by :func:`backend.stages.stage_modules` becomes ``gsv <name>`` with the stage's
own options plus the job options, which stages must not define themselves:

- ``--detach``: print only the job id and return at once;
- ``--gpus 0,1``: GPU ids the job leases (``cpu`` for none); default: config.toml ``gpus`` for GPU
  stages (else every visible GPU), none for CPU stages. The resolved list is ``args.job_gpus`` when
  the stage's ``params_from_args`` runs; in the job, ``CUDA_VISIBLE_DEVICES`` and ``GSV_JOB_GPUS``
  hold these ids;
- ``--after ID``: start only after job ID succeeded (cancelled if it did not);
- ``--now``: run the stage in this process instead (quick tries: no record, no log, no GPU lease).

Without ``--detach`` the command shows a progress bar on stderr until the job finishes, prints the
outcome, and exits 0 if it succeeded, 1 if not. Ctrl-C stops the watching, not the job.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from types import ModuleType
from typing import Any

from ..jobs.manager import JobError, JobManager, normalize_gpus
from ..jobs.record import JobRecord
from ..jobs.scheduler import missing_outputs_reason
from ..jobs.watch import ConsoleView, Watcher, detach_hint, outcome_line, progress_text
from ..progress import Reporter, read_events
from ..workspace import Workspace

JOB_OPTIONS = ("--detach", "--gpus", "--after")


def _jm(ws: Workspace) -> JobManager:
    return JobManager(ws.jobs_dir)


def _status(job: JobRecord) -> str:
    return (job.outcome or "finished") if job.is_finished else job.state


def _short_time(iso: str | None) -> str:
    return iso[5:19].replace("T", " ") if iso else "-"


# --- gsv jobs … --------------------------------------------------------------------------

def _list(ws: Workspace, args: argparse.Namespace) -> int:
    jm = _jm(ws)
    jm.reconcile()
    jobs = jm.list()
    for problem in jm.problems():  # shown, never fatal: the other jobs are listed as usual
        print(f"warning: {problem}", file=sys.stderr)
    if args.project:
        jobs = [j for j in jobs if j.project == args.project]
    if args.json:
        data = [j.to_json() for j in jobs]
        for row, j in zip(data, jobs):
            row["waiting"] = jm.waiting_reason(j)
        print(json.dumps(data, ensure_ascii=False, indent=2))
        return 0
    if not jobs:
        print(f"no jobs in {jm.jobs_dir}")
        return 0
    rows = [("ID", "STAGE", "PROJECT", "STATUS", "PROGRESS", "GPUS", "CREATED", "REASON")]
    for j in jobs:
        prog = "" if j.progress.done is None else progress_text(j.progress, width=10)
        rows.append((j.id, j.stage, j.project or "-", _status(j), prog, ",".join(j.gpus) or "-",
                     _short_time(j.created), j.reason or ""))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]) - 1)]
    for r in rows:
        print("  ".join(c.ljust(w) for c, w in zip(r, widths)) + "  " + r[-1])
    return 0


def _show(ws: Workspace, args: argparse.Namespace) -> int:
    jm = _jm(ws)
    jm.reconcile()
    job = jm.get(args.id)
    if args.json:
        print(json.dumps({**job.to_json(), "waiting": jm.waiting_reason(job)}, ensure_ascii=False, indent=2))
        return 0
    lines = [
        ("id", job.id), ("stage", job.stage), ("project", job.project or "-"), ("status", _status(job)),
        ("reason", job.reason or "-"), ("exit code", "-" if job.exit_code is None else str(job.exit_code)),
        ("gpus", ",".join(job.gpus) or "-"), ("after", job.after or "-"),
        ("created", job.created), ("started", job.started or "-"), ("finished", job.finished or "-"),
        ("pid", "-" if job.pid is None else str(job.pid)),
        ("progress", progress_text(job.progress)), ("params", json.dumps(job.params, ensure_ascii=False)),
    ]
    if job.state == "queued":
        lines.append(("waiting", jm.waiting_reason(job) or "-"))
    if job.job_dir is not None:
        lines.append(("log", str(job.log_path)))
    for k, v in lines:
        print(f"{k:>10}: {v}")
    if not job.is_corrupt:
        msgs = [e for e in read_events(job.events_path) if e.get("kind") == "message"][-5:]
        if msgs:
            print("  messages:")
            for m in msgs:
                print(f"    {m.get('level', 'info')}: {m.get('text', '')}")
    return 0


def _logs(ws: Workspace, args: argparse.Namespace) -> int:
    jm = _jm(ws)
    jid = jm.resolve_id(args.id)
    path = jm.log_path(jid)
    out = sys.stdout.buffer
    offset = 0
    last_reconcile = time.monotonic()
    while True:
        try:
            with open(path, "rb") as f:
                f.seek(offset)
                data = f.read()
        except FileNotFoundError:
            data = b""
        except OSError as e:
            raise JobError(f"cannot read the log of job {jid}: {path}: {e.strerror}",
                           "the job's other files are intact: `gsv jobs show` still works") from None
        if data:
            out.write(data)
            out.flush()
            offset += len(data)
        if not args.follow:
            return 0
        job = jm.get(jid)
        if job.is_finished and not data:
            return 0
        if time.monotonic() - last_reconcile > 2.0:
            jm.reconcile()
            last_reconcile = time.monotonic()
        time.sleep(0.2)


def _watch(jm: JobManager, job_id: str, quiet: bool = False) -> int:
    try:
        job = jm.wait(job_id) if quiet else Watcher(jm, job_id).run()
    except KeyboardInterrupt:
        print("\n" + detach_hint(jm.resolve_id(job_id)), file=sys.stderr)
        return 130
    print(outcome_line(job), file=sys.stderr)
    if job.outcome != "succeeded" and job.job_dir is not None:
        print(f"  log: gsv jobs logs {job.id}", file=sys.stderr)
    return 0 if job.outcome == "succeeded" else 1


def _wait(ws: Workspace, args: argparse.Namespace) -> int:
    jm = _jm(ws)
    jm.reconcile()
    return _watch(jm, args.id, quiet=args.quiet)


def _cancel(ws: Workspace, args: argparse.Namespace) -> int:
    jm = _jm(ws)
    jm.reconcile()
    job = jm.cancel(args.id, grace=args.grace)
    print(outcome_line(job))
    return 0 if job.outcome == "cancelled" else 1


# --- gsv <stage> … -----------------------------------------------------------------------

def _parse_gpus(value: str) -> list[str]:
    if value.strip().lower() in ("", "cpu", "none"):
        return []
    try:
        return normalize_gpus(value)
    except JobError as e:  # -> argparse's own message format (exit 2)
        raise argparse.ArgumentTypeError(e.message) from None


def _run_stage(ws: Workspace, args: argparse.Namespace) -> int:
    from ..jobs.gpus import default_gpus
    from ..stages.base import params_to_json

    mod: ModuleType = args.stage_module
    gpus = args.job_gpus if args.job_gpus is not None else default_gpus(mod.STAGE.uses_gpu)
    args.job_gpus = gpus
    if args.job_now and (args.job_detach or args.job_after):
        raise JobError("--now runs the stage here and now; it cannot be combined with --detach or --after",
                       "drop --now to run it as a tracked job")
    params = mod.params_from_args(args, ws)
    if args.job_now:
        return _run_now(mod, params, gpus)
    jm = _jm(ws)
    job = jm.submit(mod.STAGE.name, params_to_json(params), gpus=gpus, after=args.job_after)
    if args.job_detach:
        print(job.id)
        return 0
    print(f"job {job.id} submitted ({mod.STAGE.name}); Ctrl-C stops watching, not the job", file=sys.stderr)
    rc = _watch(jm, job.id)
    if rc == 0:
        _print_result(mod, params)
    return rc


def _print_result(mod: ModuleType, params: Any) -> None:
    """A stage's own account of what it produced (``result_text``), on stdout, when it has one."""
    text = mod.result_text(params) if hasattr(mod, "result_text") else None
    if text:
        print(text)


def _run_now(mod: ModuleType, params: Any, gpus: list[str]) -> int:
    """Run the stage in this process: no record, no log file, no GPU lease; Ctrl-C stops it."""
    if gpus and "torch" not in sys.modules:
        os.environ["CUDA_VISIBLE_DEVICES"] = ",".join(gpus)
    view = ConsoleView()
    try:
        mod.run(params, Reporter(view.live))
    finally:
        view.finish()
    missing = [str(p) for p in mod.expected_outputs(params) if not Path(p).exists()]
    if missing:
        print(f"gsv: {mod.STAGE.name} failed: {missing_outputs_reason(missing)}", file=sys.stderr)
        return 1
    print(f"{mod.STAGE.name} succeeded", file=sys.stderr)
    _print_result(mod, params)
    return 0


def _add_stage(sub: Any, name: str, mod: ModuleType) -> None:
    p = sub.add_parser(name, help=mod.STAGE.help, description=(mod.__doc__ or mod.STAGE.help).strip(),
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    mod.add_arguments(p)
    taken = set(p._option_string_actions)
    g = p.add_argument_group("job options")
    if "--detach" not in taken:
        g.add_argument("--detach", dest="job_detach", action="store_true",
                       help="print only the job id and return at once (follow it with `gsv jobs wait ID`)")
    if "--gpus" not in taken:
        g.add_argument("--gpus", dest="job_gpus", type=_parse_gpus, default=None, metavar="IDS",
                       help="GPU ids to lease, e.g. 0 or 0,1 ('cpu' for none); default: "
                            + ("config.toml `gpus`, else every visible GPU" if mod.STAGE.uses_gpu else "none"))
    if "--after" not in taken:
        g.add_argument("--after", dest="job_after", default=None, metavar="ID",
                       help="start only after job ID succeeded")
    if "--now" not in taken:
        g.add_argument("--now", dest="job_now", action="store_true",
                       help="run here in this process instead of as a tracked job (quick tries: no record, "
                            "no GPU lease, stops with the terminal)")
    p.set_defaults(func=_run_stage, stage_module=mod, job_detach=False, job_gpus=None, job_after=None,
                   job_now=False)


def register(sub: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    """Add ``jobs`` and one subcommand per stage to the ``gsv`` parser."""
    jobs = sub.add_parser("jobs", help="list, inspect, follow, wait for and cancel tracked jobs")
    jsub = jobs.add_subparsers(dest="jobs_command", required=True, metavar="ACTION")

    p = jsub.add_parser("list", help="every job with its state, outcome and progress")
    p.add_argument("--json", action="store_true")
    p.add_argument("--project", default=None, help="only this project's jobs")
    p.set_defaults(func=_list)

    p = jsub.add_parser("show", help="one job in detail")
    p.add_argument("id")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=_show)

    p = jsub.add_parser("logs", help="a job's full log (stdout and stderr)")
    p.add_argument("id")
    p.add_argument("--follow", "-f", action="store_true", help="keep printing until the job finishes")
    p.set_defaults(func=_logs)

    p = jsub.add_parser("wait", help="wait for a job; exit status 0 only if it succeeded")
    p.add_argument("id")
    p.add_argument("--quiet", "-q", action="store_true", help="no progress bar, only the outcome")
    p.set_defaults(func=_wait)

    p = jsub.add_parser("cancel", help="cancel a job (queued: never starts; running: TERM, grace, KILL)")
    p.add_argument("id")
    p.add_argument("--grace", type=float, default=5.0, help="seconds between SIGTERM and SIGKILL (default 5)")
    p.set_defaults(func=_cancel)

    from ..stages import stage_modules

    for name, mod in sorted(stage_modules().items()):
        if name in sub.choices:  # a stage may not shadow `jobs`, `project`, …
            raise RuntimeError(f"stage name {name!r} clashes with the gsv command of that name")
        _add_stage(sub, name, mod)
