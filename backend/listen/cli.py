"""``gsv listen``: run the listening bridge without the TUI, and play files through it.

Useful to check the SSH port forward once, or to hear results from a script:
``gsv listen --project alice outputs/take1.wav``.
"""

from __future__ import annotations

import argparse
import sys
import threading
from pathlib import Path

from ..config import load_config
from ..errors import GsvError
from ..workspace import Workspace
from .server import ListenBridge, ssh_forward_hint


def _run(ws: Workspace, args: argparse.Namespace) -> int:
    cfg = load_config()
    files = [Path(f).expanduser().resolve() for f in args.files]
    for f in files:
        if not f.is_file():
            raise GsvError(f"{f} does not exist", "give the path of an audio file")
    if args.project:
        roots = [ws.open_project(args.project).root]
    else:
        roots = sorted({f.parent for f in files}) or [Path.cwd()]
    port = args.port if args.port is not None else cfg.listen_port
    with ListenBridge(roots, host=cfg.listen_host, port=port) as bridge:
        print(f"listening bridge: open {bridge.url}", flush=True)
        hint = ssh_forward_hint(bridge.port)
        if hint:
            print(f"on your own machine first run (adjust the host name if you use an alias):\n  {hint}", flush=True)
        print("press Ctrl-C to stop", flush=True)
        connected = threading.Event()
        bridge.on_change = lambda: connected.set() if bridge.listeners else None
        try:
            if files:
                while not bridge.listeners:
                    connected.wait(0.5)
                for f in files:
                    seq = bridge.play(f)
                    print(f"playing {f.name}", flush=True)
                    bridge.wait_for_state(lambda s: s.seq == seq and not s.paused, 30)
                    bridge.wait_for_state(lambda s: s.seq == seq and (s.paused or s.error is not None), 3600)
            threading.Event().wait()
        except KeyboardInterrupt:
            print("", file=sys.stderr)
    return 0


def register(sub: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    p = sub.add_parser("listen", help="hear clips in your local browser over an SSH port forward")
    p.add_argument("files", nargs="*", help="audio files to play once a browser tab is connected")
    p.add_argument("--project", help="serve this project's clips and outputs")
    p.add_argument("--port", type=int, default=None, help="port (default: listen_port in config.toml, 9877)")
    p.set_defaults(func=_run)
