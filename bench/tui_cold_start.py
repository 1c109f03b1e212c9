"""Cold start of the gsv-tui app against Textual's own minimal App, side by side.

Each run is a fresh Python process that imports the app, runs it headless at 80x24 and exits
right after the first frame has been composed and rendered. The parent times the whole
process (interpreter start included, the same for both) and the child reports how long the
import and the first frame took. Runs alternate between the two apps to share any noise;
the medians are compared.

    python bench/tui_cold_start.py [--runs 9]

Goal: gsv-tui's cold start within 2x of the minimal Textual app's.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

BASELINE = """
import json, sys, time
t0 = time.perf_counter()
from textual.app import App
from textual.widgets import Footer, Static
t1 = time.perf_counter()

class Minimal(App):
    def compose(self):
        yield Static("hello")
        yield Footer()
    def on_mount(self):
        self.call_after_refresh(self.exit)

Minimal().run(headless=True, size=(80, 24))
t2 = time.perf_counter()
print(json.dumps({"import": t1 - t0, "frame": t2 - t1}))
"""

OURS = """
import json, sys, time
t0 = time.perf_counter()
from gsv_tui.app import GsvApp
from backend.app import Application
t1 = time.perf_counter()

class Bench(GsvApp):
    DEFAULT_MODE = sys.argv[2]

    def on_mount(self):  # Textual also runs GsvApp.on_mount
        self.call_after_refresh(self.exit)

app = Bench(Application.from_args(home=sys.argv[1]), project="bench")
app.run(headless=True, size=(80, 24))
t2 = time.perf_counter()
assert app.application.project is not None and app.application.project.name == "bench", "project did not open"
heavy = [m for m in ("torch", "transformers", "funasr") if m in sys.modules]
assert not heavy, heavy
print(json.dumps({"import": t1 - t0, "frame": t2 - t1}))
"""


def run_once(code: str, *args: str) -> dict[str, float]:
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="0")
    t0 = time.perf_counter()
    r = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, cwd=REPO, env=env,
                       timeout=120)
    wall = time.perf_counter() - t0
    if r.returncode != 0:
        raise SystemExit(f"benchmark child failed:\n{r.stderr}")
    out = json.loads(r.stdout.strip().splitlines()[-1])
    out["wall"] = wall
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=9)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / "home"
        config = Path(tmp) / "config.toml"
        os.environ["GSV_CONFIG"] = str(config)  # defaults, not the user's settings
        sys.path.insert(0, str(REPO))
        from backend.workspace import Workspace

        Workspace(home).create_project("bench")
        variants = {
            "textual minimal App": (BASELINE,),
            # as shipped: the app opens on the Dataset mode
            "gsv-tui (Dataset first)": (OURS, str(home), "dataset"),
            # the shell's own cost: the same app opening on its Jobs screen
            "gsv-tui (Jobs first)": (OURS, str(home), "jobs"),
        }
        for v in variants.values():  # warm the OS file cache and .pyc files for all
            run_once(*v)
        rows: dict[str, list[dict[str, float]]] = {name: [] for name in variants}
        for _ in range(args.runs):
            for name, v in variants.items():
                rows[name].append(run_once(*v))

    def med(name: str, key: str) -> float:
        return statistics.median(r[key] for r in rows[name])

    print(f"runs: {args.runs} each, interleaved; medians in ms")
    print(f"{'':26}{'import':>8}{'first frame':>13}{'process wall':>14}{'ratio':>8}")
    base = "textual minimal App"
    for name in variants:
        ratio = med(name, "wall") / med(base, "wall")
        print(f"{name:26}{med(name, 'import') * 1e3:8.0f}{med(name, 'frame') * 1e3:13.0f}"
              f"{med(name, 'wall') * 1e3:14.0f}{ratio:7.2f}x")
    print("ratio = process wall (interpreter start + import + first frame) / the minimal App's; goal <= 2x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
