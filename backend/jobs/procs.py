"""Facts about processes read from ``/proc`` (Linux), and killing a process group for sure.

Why the start time: a pid alone is not an identity — after a reboot, or on a busy machine, the
pid of a finished job can belong to some unrelated process. ``/proc/<pid>/stat`` field 22 (start
time in clock ticks since boot) taken when the job started tells "our" process from a newcomer.
A zombie (exited, not yet reaped) counts as gone: it holds no memory, no GPU and runs nothing.
"""

from __future__ import annotations

import os
import signal
import time
from dataclasses import dataclass


@dataclass(frozen=True)
class ProcStat:
    pid: int
    state: str
    ppid: int
    pgid: int
    start_time: int


def proc_stat(pid: int) -> ProcStat | None:
    """Parse ``/proc/<pid>/stat``; None if there is no such process."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            raw = f.read().decode("utf-8", "replace")
    except (FileNotFoundError, ProcessLookupError, PermissionError, OSError):
        return None
    # comm (field 2) is in parentheses and may itself contain spaces or ')': split after the last ')'.
    rest = raw[raw.rfind(")") + 2:].split()
    try:
        # rest[0] is field 3 (state); field N is rest[N - 3]
        return ProcStat(pid=pid, state=rest[0], ppid=int(rest[1]), pgid=int(rest[2]), start_time=int(rest[19]))
    except (IndexError, ValueError):
        return None


def boot_id() -> str | None:
    """This boot's id: start times count from boot, so they only compare within one boot."""
    try:
        with open("/proc/sys/kernel/random/boot_id", encoding="ascii") as f:
            return f.read().strip() or None
    except OSError:
        return None


def start_time(pid: int) -> int | None:
    st = proc_stat(pid)
    return st.start_time if st else None


def is_alive(pid: int | None, expected_start: int | None = None) -> bool:
    """True if ``pid`` runs (not a zombie) and, when given, started at ``expected_start``."""
    if not pid:
        return False
    st = proc_stat(pid)
    if st is None or st.state in ("Z", "X", "x"):
        return False
    return expected_start is None or st.start_time == expected_start


def group_members(pgid: int) -> list[int]:
    """Live (non-zombie) processes whose process group is ``pgid``."""
    out = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        st = proc_stat(int(name))
        if st is not None and st.pgid == pgid and st.state not in ("Z", "X", "x"):
            out.append(st.pid)
    return out


def _signal_group(pgid: int, sig: int) -> None:
    try:
        os.killpg(pgid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def wait_group_gone(pgid: int, timeout: float, poll: float = 0.05) -> list[int]:
    """Wait until no live process is left in the group; returns what is left at the deadline."""
    deadline = time.monotonic() + timeout
    while True:
        left = group_members(pgid)
        if not left or time.monotonic() >= deadline:
            return left
        time.sleep(poll)


def terminate_group(pgid: int, grace: float = 5.0, kill_wait: float = 5.0) -> list[int]:
    """SIGTERM the group, wait up to ``grace`` seconds, SIGKILL whatever is left, then verify.

    Returns the pids still alive after all that (empty on success; a process stuck in an
    uninterruptible kernel wait can survive SIGKILL for a while — the caller reports it).
    """
    if not group_members(pgid):
        return []
    _signal_group(pgid, signal.SIGTERM)
    if not wait_group_gone(pgid, grace):
        return []
    _signal_group(pgid, signal.SIGKILL)
    return wait_group_gone(pgid, kill_wait)


def signal_name(sig: int) -> str:
    try:
        return signal.Signals(sig).name
    except ValueError:
        return f"signal {sig}"
