"""How review scales: a 10 000-clip .list against a 100-clip one, in the same run.

Measures, for each size:
  - ``parse``: Transcript.open (read, parse, history check) alone;
  - ``first frame``: the real app started with ``gsv-tui PATH.list`` until the table shows the
    clips (Pilot, headless);
  - ``all durations read``: until the background reading of clip headers finished (linear by
    nature; the table is usable meanwhile);
  - ``moves in rows 1-100``: presses of j/k moving the cursor one row at a time up and down the
    first 100 rows — the same keys and scrolling for both sizes, so only the size differs;
  - ``moves down``: presses of j straight down (1 000 rows of the big list; the short list
    bounces at its end, so it scrolls less often — scrolling redraws the whole table);
and prints each figure with its ratio to the 100-clip list. The goal is flat: the ratio for
first frame and moves stays within a small constant, not ~100× (linear).

    python bench/review_open.py [--big 10000] [--small 100] [--moves 1000]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def make_list(home: Path, n: int) -> Path:
    """A project with ``n`` real (tiny) wav clips and an ASR-style list pointing at them."""
    import numpy as np
    import soundfile as sf

    from backend.workspace import Workspace

    project = Workspace(home).create_project(f"bench{n}")
    clips = project.clips_dir
    tone = (np.sin(np.arange(800) / 5.0) * 3000).astype(np.int16)
    lines = []
    for i in range(n):
        p = clips / f"clip_{i:05d}.wav"
        sf.write(str(p), tone, 8000, subtype="PCM_16")
        lines.append(f"{p}|clips|ZH|第{i}句话，这是一个用来测试的句子。")
    lst = project.transcript_path
    lst.write_text("\n".join(lines), encoding="utf-8")
    return lst


def time_parse(lst: Path, repeat: int = 3) -> float:
    from backend.transcripts import Transcript

    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        Transcript.open(lst)
        best = min(best, time.perf_counter() - t0)
    return best


def _on_screen(app, words: str) -> bool:  # noqa: ANN001
    strips = app.screen._compositor.render_strips()
    return any(words in "".join(seg.text for seg in strip) for strip in strips)


async def _moves(pilot, app, n: int, rows: int, moves: int) -> float:  # noqa: ANN001
    """Seconds for ``moves`` presses, each moving the cursor one row within the first ``rows``
    rows (bouncing with k at the end), starting from the top."""
    from gsv_tui.widgets.clip_table import ClipTable

    await pilot.press("g")
    await pilot.pause()
    t1 = time.perf_counter()
    cur, step, rows = 0, 1, min(rows, n)
    for _ in range(moves):
        if not 0 <= cur + step < rows:
            step = -step
        await pilot.press("j" if step > 0 else "k")
        cur += step
    took = time.perf_counter() - t1
    assert app.screen.query_one(ClipTable).cursor == cur
    return took


async def time_app(lst: Path, home: Path, moves: int) -> tuple[float, float, float, float]:
    """Seconds to the first frame showing clips, until every duration is read (background),
    for ``moves`` one-row moves within the first 100 rows (the same pattern for every size),
    and for ``moves`` moves straight down (a short list bounces at its end)."""
    from backend.app import Application
    from gsv_tui.app import GsvApp
    from gsv_tui.widgets.clip_table import ClipTable

    application = Application.from_args(home=home, list_path=lst)
    app = GsvApp(application, watch_jobs=False)
    t0 = time.perf_counter()
    async with app.run_test(size=(120, 40)) as pilot:
        while True:
            table = app.screen.query(ClipTable)
            if table and table.first().count > 0 and _on_screen(app, "第0句话"):
                break
            if time.perf_counter() - t0 > 60:
                raise SystemExit(f"the review screen did not open {lst} within 60 s")
            await asyncio.sleep(0.002)
        first = time.perf_counter() - t0
        n = table.first().count
        while (app.screen.stats or {}).get("durations_known") != n:
            await asyncio.sleep(0.01)
        loaded = time.perf_counter() - t0
        await pilot.pause()
        same = await _moves(pilot, app, n, 100, moves)
        down = await _moves(pilot, app, n, n, moves)
    return first, loaded, same, down


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--big", type=int, default=10000)
    ap.add_argument("--small", type=int, default=100)
    ap.add_argument("--moves", type=int, default=1000, help="key presses per move figure")
    ap.add_argument("--rounds", type=int, default=2, help="interleaved runs per size (best kept)")
    args = ap.parse_args()
    os.environ.setdefault("GSV_PLAYER", "true")  # never probe real audio in a benchmark
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        os.environ["GSV_HOME"] = str(tmp_path / "home")
        os.environ["GSV_CONFIG"] = str(tmp_path / "config.toml")
        lists = {n: make_list(tmp_path / "home", n) for n in (args.small, args.big)}
        # Alternate the sizes and keep each one's best run: the machine's load changes over
        # minutes, and the best of interleaved runs compares like with like.
        results: dict[int, tuple[float, ...]] = {}
        order = [args.small] + [args.big, args.small] * args.rounds  # first small run: warm-up
        for k, n in enumerate(order):
            run = (time_parse(lists[n]), *asyncio.run(time_app(lists[n], tmp_path / "home", args.moves)))
            if k > 0:
                results[n] = tuple(min(x, y) for x, y in zip(results[n], run)) if n in results else run
    s, b = results[args.small], results[args.big]
    names = ("parse (backend)", "first frame", "all durations read",
             f"{args.moves} moves in rows 1-100", f"{args.moves} moves down")
    print(f"{'':26}{args.small:>9} clips{args.big:>9} clips{'ratio':>9}")
    for i, name in enumerate(names):
        print(f"{name:26}{s[i] * 1000:>12.1f} ms{b[i] * 1000:>12.1f} ms{b[i] / s[i]:>8.2f}×")
    print(f"(size ratio {args.big / args.small:.0f}×; best of {args.rounds} interleaved runs; flat: first "
          "frame and moves near 1×. Durations are read in the background after the first frame, "
          "so that row grows with the list.)")


if __name__ == "__main__":
    main()
