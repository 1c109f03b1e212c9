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
from gsv_tui.facade import Facade
t1 = time.perf_counter()

class Bench(GsvApp):
    def on_mount(self):  # runs after GsvApp.on_mount (Textual calls both)
        self.call_after_refresh(self.exit)

app = Bench(Facade.from_args(home=sys.argv[1]), project="bench")
app.run(headless=True, size=(80, 24))
t2 = time.perf_counter()
assert app.facade.project is not None and app.facade.project.name == "bench", "project did not open"
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
        run_once(BASELINE)  # warm the OS file cache and .pyc files for both
        run_once(OURS, str(home))
        base, ours = [], []
        for _ in range(args.runs):
            base.append(run_once(BASELINE))
            ours.append(run_once(OURS, str(home)))

    def med(rows: list[dict[str, float]], key: str) -> float:
        return statistics.median(r[key] for r in rows)

    print(f"runs: {args.runs} each, alternating; medians in ms")
    print(f"{'':24}{'import':>10}{'first frame':>14}{'process wall':>15}")
    for name, rows in (("textual minimal App", base), ("gsv-tui GsvApp", ours)):
        print(f"{name:24}{med(rows, 'import') * 1e3:10.0f}{med(rows, 'frame') * 1e3:14.0f}"
              f"{med(rows, 'wall') * 1e3:15.0f}")
    ratio = med(ours, "wall") / med(base, "wall")
    in_app = (med(ours, "import") + med(ours, "frame")) / (med(base, "import") + med(base, "frame"))
    print(f"ratio (process wall): {ratio:.2f}x   ratio (import + first frame): {in_app:.2f}x   goal <= 2x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
