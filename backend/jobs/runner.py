"""Runs one stage inside a job: ``python -m backend.jobs.runner JOB_DIR``.

Loads the record, imports the stage, rebuilds its Params from the stored JSON, calls
``run(params, reporter)`` with a reporter writing ``events.jsonl``, then checks the stage's
expected outputs. What the stage reports also goes to log.txt as plain lines (messages, metrics,
saved files, and progress every few seconds), so ``gsv jobs logs --follow`` shows a training run
as it goes. Before exiting it writes ``result.json`` — the reason in words and the list of
expected outputs — which the supervisor combines with the exit status it observes.

Exit codes (the supervisor turns them into an outcome and a reason):

====  =====================================================================================
0     ``run`` returned and every expected output exists
1     the stage crashed (traceback in log.txt; CUDA out-of-memory recognised and named)
2     a user error (:class:`~backend.errors.GsvError`; message and fix as an error event), an
      unknown stage or parameters the stage does not accept
3     ``run`` returned but an expected output is missing
4     this runner is not the job's (its supervisor died before recording it; the job was relaunched)
====  =====================================================================================

SIGTERM (cancel) raises inside the stage so its ``finally`` blocks run (partial files removed);
the runner then dies by SIGTERM itself, so the exit status says what happened.
"""

from __future__ import annotations

import os
import signal
import sys
import traceback
from pathlib import Path
from typing import Any

from ..errors import GsvError
from ..progress import LogEcho, Reporter
from .record import EVENTS_FILE, RESULT_FILE, load_record, write_json_file

EXIT_OK, EXIT_CRASH, EXIT_USER_ERROR, EXIT_OUTPUTS_MISSING, EXIT_NOT_OWNER = 0, 1, 2, 3, 4


class Terminated(BaseException):
    """Raised in the stage when the job is cancelled (SIGTERM); not an Exception, so a stage's
    ``except Exception`` does not swallow it."""


def is_cuda_oom(exc: BaseException) -> bool:
    """torch.cuda.OutOfMemoryError (torch.OutOfMemoryError in newer torch) or its message, also
    when wrapped (DDP and DataLoader workers re-raise with the original text)."""
    seen: set[int] = set()
    e: BaseException | None = exc
    while e is not None and id(e) not in seen:
        seen.add(id(e))
        if type(e).__name__ == "OutOfMemoryError" and type(e).__module__.startswith("torch"):
            return True
        if "CUDA out of memory" in str(e) or "CUBLAS_STATUS_ALLOC_FAILED" in str(e):
            return True
        e = e.__cause__ or e.__context__
    return False


def _one_line(exc: BaseException, limit: int = 300) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    text = f"{type(exc).__name__}: {text}" if text else type(exc).__name__
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _on_sigterm(signum: int, frame: Any) -> None:
    signal.signal(signal.SIGTERM, signal.SIG_DFL)  # a second TERM (or the grace period's KILL) is final
    raise Terminated()


def _owns_job(job_dir: Path) -> bool:
    """True when the record names this process as the job's runner. The supervisor saves our pid
    under the store lock right after starting us; if it died before that, the job is relaunched
    by the next scheduling pass and this runner must not start the stage as well."""
    from .scheduler import store_lock

    with store_lock(job_dir.parent):
        job = load_record(job_dir, with_progress=False)
    return not job.is_corrupt and job.state == "running" and job.pid == os.getpid()


def _adopt_if_orphaned(job_dir: Path) -> None:
    """Our supervisor died (we were reparented): start an adopting supervisor, which settles the job
    once we are gone and advances the queue, so nobody has to run a gsv command for it."""
    expected = os.environ.get("GSV_SUPERVISOR_PID", "")
    if not expected.isdigit() or os.getppid() == int(expected):
        return
    from . import scheduler

    try:
        with scheduler.store_lock(job_dir.parent):
            job = load_record(job_dir, with_progress=False)
            if not job.is_corrupt and job.state == "running" and not scheduler.job_processes(job).supervisor:
                scheduler.adopt(job_dir.parent, job)
    except OSError as e:
        print(f"gsv: could not hand the job to a new supervisor: {e}", file=sys.stderr)


def run_job(job_dir: Path) -> int:
    if not _owns_job(job_dir):
        print("gsv: this job was relaunched by another supervisor; this runner stops", file=sys.stderr)
        return EXIT_NOT_OWNER
    result: dict[str, Any] = {"expected_outputs": []}
    reporter = Reporter.to_file(job_dir / EVENTS_FILE, echo=LogEcho(sys.stdout))
    code = EXIT_CRASH
    terminated = False
    try:
        job = load_record(job_dir, with_progress=False)
        if job.is_corrupt:
            raise GsvError(job.reason or "job record unreadable")
        from ..stages import get_stage
        from ..stages.base import params_from_json

        try:
            mod = get_stage(job.stage)
        except KeyError as e:
            raise GsvError(str(e.args[0]), "this gsv-tui does not have that stage; update it") from None
        try:
            params = params_from_json(mod.Params, job.params)
        except (TypeError, ValueError) as e:
            raise GsvError(f"stage {job.stage} does not accept these parameters: {e}") from None

        mod.run(params, reporter)

        outputs = [str(p) for p in mod.expected_outputs(params)]
        missing = [p for p in outputs if not Path(p).exists()]
        result["expected_outputs"] = outputs
        if missing:
            from .scheduler import missing_outputs_reason

            result["reason"] = missing_outputs_reason(missing)
            reporter.error(result["reason"])
            print(f"gsv: {result['reason']}", file=sys.stderr)
            code = EXIT_OUTPUTS_MISSING
        else:
            code = EXIT_OK
    except GsvError as e:
        reporter.error(e.message + (f" — fix: {e.fix}" if e.fix else ""))
        print(f"gsv: error: {e.message}" + (f"\n  fix: {e.fix}" if e.fix else ""), file=sys.stderr)
        result["reason"] = e.message
        code = EXIT_USER_ERROR
    except Terminated:
        print("gsv: terminated (job cancelled)", file=sys.stderr)
        result["reason"] = "terminated by SIGTERM"
        terminated = True
    except SystemExit as e:  # a stage (or a library) called sys.exit
        c = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
        if c != 0:
            result["reason"] = f"exit code {c}" + (f": {e.code}" if isinstance(e.code, str) else "")
        code = c if c != 0 else EXIT_CRASH
        if c == 0:
            result["reason"] = "the stage exited early (sys.exit(0)) without finishing"
    except BaseException as e:  # noqa: BLE001 — everything else is a crash, reported with its traceback
        traceback.print_exc()
        if is_cuda_oom(e):
            result["reason"] = "CUDA out of memory"
            reporter.error("CUDA out of memory — try a smaller batch size, or free the GPU")
        else:
            result["reason"] = f"exit code 1: {_one_line(e)}"
            reporter.error(f"crashed: {_one_line(e)}")
        code = EXIT_CRASH
    result["exit_code"] = code
    result["terminated"] = terminated
    try:
        write_json_file(job_dir / RESULT_FILE, result)
    except OSError as e:
        print(f"gsv: could not write {RESULT_FILE}: {e}", file=sys.stderr)
    sys.stdout.flush()
    sys.stderr.flush()
    _adopt_if_orphaned(job_dir)
    if terminated:
        os.kill(os.getpid(), signal.SIGTERM)  # default action now: die by the signal
    return code


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m backend.jobs.runner JOB_DIR", file=sys.stderr)
        return EXIT_USER_ERROR
    signal.signal(signal.SIGTERM, _on_sigterm)
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    return run_job(Path(args[0]).absolute())


if __name__ == "__main__":
    sys.exit(main())
