"""``gsv-tui [--home DIR] [--project NAME] [PATH.list]`` — start the TUI.

A ``.list`` path opens straight into the Transcripts mode with that file (and in its project,
when it lives inside one of the workspace's projects).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from backend.app import Workspace


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="gsv-tui", description="gsv-tui: GPT-SoVITS in the terminal.")
    p.add_argument("--home", type=Path, default=None,
                   help="workspace folder (default: $GSV_HOME or the platform's user-data folder)")
    p.add_argument("--project", default=None, help="open this project (default: the last one opened)")
    p.add_argument("list_path", nargs="?", type=Path, default=None, metavar="PATH.list",
                   help="a transcript to review: opens the Transcripts mode with it")
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.list_path is not None and args.list_path.suffix.lower() != ".list":
        print(f"gsv-tui: error: {args.list_path} is not a .list file", file=sys.stderr)
        print("  fix: give a transcript like transcripts/clips.list, or no path", file=sys.stderr)
        return 2
    from backend.app import Application

    from .app import GsvApp
    from .quiet import terminal_only

    application = Application.from_args(home=args.home, list_path=args.list_path)
    app = GsvApp(application, project=args.project)
    log_path = Workspace(args.home).root / "logs" / "tui.log"
    start = log_path.stat().st_size if log_path.exists() else 0
    with terminal_only(log_path):
        app.run()
    code = app.return_code or 0
    if code != 0:
        # A crash report went to the log with everything else; show this run's part of it too.
        with open(log_path, "rb") as f:
            f.seek(start)
            tail = f.read().decode("utf-8", errors="replace").splitlines()[-60:]
        print("\n".join(tail), file=sys.stderr)
        print(f"gsv-tui: stopped on an error (exit {code}); the full log is {log_path}", file=sys.stderr)
    return code


if __name__ == "__main__":
    sys.exit(main())
