"""``gsv doctor [--json]``: the checks of :mod:`backend.doctor`, printed one per line."""

from __future__ import annotations

import json
import sys
from dataclasses import asdict
from typing import Any

from ..doctor import FAIL, OK, WARN, run_checks


def _run(workspace: Any, args: Any) -> int:
    checks = run_checks(workspace)
    if args.json:
        print(json.dumps([asdict(c) for c in checks], ensure_ascii=False, indent=2))
    else:
        marks = {OK: "ok  ", WARN: "warn", FAIL: "FAIL"}
        width = max(len(c.name) for c in checks)
        for c in checks:
            print(f"{marks[c.status]}  {c.name:<{width}}  {c.detail}")
            if c.fix and c.status != OK:
                print(f"      {'':<{width}}  fix: {c.fix}")
    failed = [c for c in checks if c.status == FAIL]
    if failed and not args.json:
        print(f"\n{len(failed)} problem(s) stop work here; fix them first.", file=sys.stderr)
    return 1 if failed else 0


def register(sub: Any) -> None:
    p = sub.add_parser("doctor", help="is this machine ready? settings, disk, GPUs, data and model files, jobs")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=_run)
