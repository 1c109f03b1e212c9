"""``gsv models list|fetch``: which pretrained files each version needs, and fetching them here and now.

``gsv fetch-models`` (:mod:`backend.stages.fetch_models`) is the same download run as a job.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..pretrained import REPO_ID, VERSIONS, PretrainedError, fetch_command, status
from ..stages.fetch_models import add_fetch_options, fetch_all


def _list(_ws: Any, args: Any) -> int:
    import json

    versions = [args.version] if args.version else list(VERSIONS)
    rows = []
    for v in versions:
        for f, p in status(v, args.dir):
            rows.append({"version": v, "role": f.role, "file": f.path, "path": str(p) if p else None})
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    for v in versions:
        vr = [r for r in rows if r["version"] == v]
        n_missing = sum(r["path"] is None for r in vr)
        state = "complete" if not n_missing else f"{n_missing} missing — `{fetch_command(v, args.dir)}`"
        print(f"{v}: {state}")
        for r in vr:
            print(f"  {'ok ' if r['path'] else '-- '} {r['role']:<6} {r['file']}")
    return 0


def _fetch(_ws: Any, args: Any) -> int:
    import sys

    last: dict[str, int] = {}

    def show(name: str, done: int, total: int | None) -> None:
        pct = int(100 * done / total) if total else -1
        if last.get(name) != pct:
            last[name] = pct
            print(f"\r{name}: {done / 1e6:.1f} MB" + (f" / {total / 1e6:.1f} MB ({pct}%)" if total else ""),
                  end="", file=sys.stderr, flush=True)

    def done(what: str, n: int) -> None:
        print(file=sys.stderr)
        print(f"{what}: {n} files ready")

    if not args.versions and args.clean is None:
        raise PretrainedError("nothing to fetch", fix=f"name a version ({', '.join(VERSIONS)}) and/or add --clean")
    bad = [v for v in args.versions if v not in VERSIONS]
    if bad:
        raise PretrainedError(f"unknown model version(s) {', '.join(bad)}", fix=f"use some of {', '.join(VERSIONS)}")
    if args.versions:
        fetch_all(args.versions, args.dir, args.only, show, args.endpoint, done,
                  on_warning=lambda text: print(f"warning: {text}", file=sys.stderr))
    if args.clean is not None:
        from ..clean.fetch import fetch_named

        done("cleaning models", len(fetch_named(args.clean, show)))
    return 0


def register(sub: Any) -> None:
    """Add ``gsv models list|fetch`` to the top-level parser."""
    p = sub.add_parser("models", help="pretrained base models: what each version needs, fetch them")
    msub = p.add_subparsers(dest="models_command", required=True, metavar="ACTION")
    pl = msub.add_parser("list", help="which pretrained files each version needs and which are here")
    pl.add_argument("--version", choices=VERSIONS)
    pl.add_argument("--dir", type=Path, default=None, help="folder with the official layout (default: HF cache)")
    pl.add_argument("--json", action="store_true")
    pl.set_defaults(func=_list)
    pf = msub.add_parser("fetch", help=f"download the pretrained files of versions from {REPO_ID} "
                                       "(here and now; `gsv fetch-models` runs it as a job)")
    pf.add_argument("versions", nargs="*", metavar="VERSION", help=f"any of {', '.join(VERSIONS)}")
    add_fetch_options(pf)
    pf.add_argument("--clean", nargs="*", default=None, metavar="MODEL",
                    help="also the models of `gsv clean` (no MODEL: each step's default; `gsv clean --list-models`)")
    pf.set_defaults(func=_fetch)
