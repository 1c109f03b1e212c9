"""The ``gsv`` command: everything the TUI can do, headless.

``gsv [--home DIR] project create NAME`` / ``project list [--json]``, ``gsv jobs …`` and one
subcommand per stage (``gsv slice …``, ``gsv asr …``), each run as a tracked job.
User errors (:class:`~backend.errors.GsvError`) print their message and fix and exit with 2.

The whole command is assembled here, one module per group of subcommands:
``jobs`` (``gsv jobs …`` and one subcommand per stage), ``listen``, ``models`` (pretrained files),
``g2p`` (the text frontend) and ``doctor``; ``project`` lives in this module.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from ..app import Application
from ..errors import GsvError
from ..workspace import DEFAULT_VERSION, LANGUAGES, VERSIONS, Workspace
from . import doctor, g2p, jobs, listen, models


def _project_create(ws: Workspace, args: argparse.Namespace) -> int:
    p = Application(workspace=ws).create_project(args.name, language=args.language, version=args.version,
                                                 remember=False)
    print(f"created project {p.name!r} at {p.root}")
    return 0


def _project_list(ws: Workspace, args: argparse.Namespace) -> int:
    projects = Application(workspace=ws).list_projects()
    if args.json:
        print(json.dumps([{"name": p.name, "path": str(p.root), "language": p.language,
                           "version": p.version, "created": p.created} for p in projects],
                         ensure_ascii=False, indent=2))
        return 0
    if not projects:
        print(f"no projects in {ws.projects_dir} — create one with `gsv project create NAME`")
    for p in projects:
        print(f"{p.name}\t{p.language}\t{p.version}\t{p.root}")
    for path, why in ws.broken_projects():
        print(f"unreadable: {path}: {why}", file=sys.stderr)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="gsv", description="gsv-tui headless: GPT-SoVITS from the command line.")
    parser.add_argument("--home", type=Path, default=None,
                        help="workspace folder (default: $GSV_HOME or the platform's user-data folder)")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    proj = sub.add_parser("project", help="create and list projects (one project = one voice)")
    psub = proj.add_subparsers(dest="project_command", required=True, metavar="ACTION")
    pc = psub.add_parser("create", help="create a project")
    pc.add_argument("name")
    pc.add_argument("--language", choices=LANGUAGES, default="zh", help="main language of the voice")
    pc.add_argument("--version", choices=VERSIONS, default=DEFAULT_VERSION, help="model version to train")
    pc.set_defaults(func=_project_create)
    pl = psub.add_parser("list", help="list projects")
    pl.add_argument("--json", action="store_true")
    pl.set_defaults(func=_project_list)

    for command in (jobs, listen, models, g2p, doctor):
        command.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    ws = Workspace(args.home)
    try:
        return int(args.func(ws, args) or 0)
    except GsvError as e:
        print(f"gsv: error: {e}", file=sys.stderr)  # GsvError's str: the message, then "  fix: …"
        return 2
    except KeyboardInterrupt:
        return 130

