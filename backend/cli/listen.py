"""``gsv listen``: run the listening bridge without the TUI, and play files through it.

Useful to check the SSH port forward once, or to hear results from a script:
``gsv listen --project alice outputs/take1.wav``. Without ``--project`` only the files named
on the command line are served (nothing at all when none is named).
"""

from __future__ import annotations

import argparse
import sys
import threading
from collections.abc import Callable
from pathlib import Path

from ..config import load_config
from ..errors import GsvError
from ..listen.hosts import validate_port
from ..listen.protocol import AUDIO_TYPES, PageState
from ..listen.server import ListenBridge
from ..listen.ssh_hint import ssh_forward_hint
from ..listen.token import workspace_token
from ..workspace import Workspace


def _audio_file(arg: str) -> Path:
    f = Path(arg).expanduser().resolve()
    if not f.is_file():
        raise GsvError(f"{f} does not exist", "give the path of an audio file")
    if f.suffix.lower() not in AUDIO_TYPES:
        raise GsvError(f"{f.name} is not an audio file the browser can play",
                       f"give one of: {', '.join(sorted(AUDIO_TYPES))}")
    return f


def _playing(seq: int) -> Callable[[PageState], bool]:
    return lambda s: s.seq == seq and not s.paused


def _ended(seq: int) -> Callable[[PageState], bool]:
    return lambda s: s.seq == seq and (s.paused or s.error is not None)


def _run(ws: Workspace, args: argparse.Namespace) -> int:
    cfg = load_config()
    port = validate_port(args.port if args.port is not None else cfg.listen_port)
    files = [_audio_file(f) for f in args.files]
    roots: list[Path] = [ws.open_project(args.project).root] if args.project else []
    roots += [f for f in files if not any(r in f.parents for r in roots)]
    token = workspace_token(ws.root, renew=args.new_token)
    with ListenBridge(roots, host=cfg.listen_host, port=port, token=token,
                      allow_remote=cfg.listen_allow_remote) as bridge:
        print(f"listening bridge: open {bridge.url}", flush=True)
        if bridge.warning:
            print(f"gsv: warning: {bridge.warning}", file=sys.stderr, flush=True)
        if not roots:
            print("serving no audio: give --project NAME or audio files to play", flush=True)
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
                    bridge.wait_for_state(_playing(seq), 30)
                    bridge.wait_for_state(_ended(seq), 3600)
            threading.Event().wait()
        except KeyboardInterrupt:
            print(file=sys.stderr)
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("listen", help="hear clips in your local browser over an SSH port forward")
    p.add_argument("files", nargs="*", help="audio files to play once a browser tab is connected")
    p.add_argument("--project", help="serve this project's clips and outputs (else only the files given)")
    p.add_argument("--port", type=int, default=None, help="port (default: listen_port in config.toml, 9877; 0: any free)")
    p.add_argument("--new-token", action="store_true",
                   help="make a new access token for this workspace (open browser tabs must reload the new URL)")
    p.set_defaults(func=_run)
