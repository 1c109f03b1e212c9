"""One formatting run: read the transcript, bring each step up to date, write the official files.

For every step the items whose journal entry is missing, stale (its hash differs from what the
item's inputs hash to now) or whose output files vanished are (re)done; everything else is kept.
Then the merged files are written from the journals in transcript order, and per-item files of
clips that left the transcript (or are now skipped) are removed, so the trainers — which take
the intersection of what they find — never pick up stale data.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..jobs.events import Reporter
from ..text.zh_readings import G2PW, PYPINYIN, RECORDED, ZhReadings, decide, needs_g2pw
from . import journal, layout
from .items import FormatInputError, FormatItem, Skipped, read_items
from .journal import Entry
from .parallel import WorkerPool, run_parallel
from .steps import STEPS, StepConfig, outputs_present

ALL_STEPS = ("text", "ssl", "semantic")


def steps_for(version: str, only: str | None = None) -> list[str]:
    """The steps to run in order; ``ssl`` brings ``sv`` with it for v2Pro/v2ProPlus."""
    chosen = [only] if only else list(ALL_STEPS)
    out: list[str] = []
    for s in chosen:
        out.append(s)
        if s == "ssl" and layout.needs_sv(version):
            out.append("sv")
    return out


@dataclass
class FormatOptions:
    list_path: Path
    exp_dir: Path
    version: str = "v2"
    only: str | None = None  # "text" | "ssl" | "semantic"; None = all three in order
    wav_dir: Path | None = None  # official rule: audio = <wav_dir>/<base name>
    extra_dirs: list[Path] = field(default_factory=list)  # where else to look for clips
    bert_dir: Path | None = None
    hubert_dir: Path | None = None
    s2g_path: Path | None = None
    sv_path: Path | None = None
    devices: list[str] = field(default_factory=lambda: ["cpu"])
    half: bool = True  # fp16 on GPU devices (never on CPU)
    threads: int | None = None
    pinyin_calls: list[dict[str, Any]] | None = None
    allow_pypinyin: bool = False  # without G2PW (offline), read v2+ Chinese with pypinyin instead of refusing


@dataclass
class StepResult:
    name: str
    done: int = 0  # computed in this run
    reused: int = 0  # up to date from an earlier run
    skipped: int = 0


@dataclass
class FormatSummary:
    version: str
    items: int  # clip lines in the transcript
    kept: int
    seconds: float  # total duration of the kept clips (known once the ssl step ran)
    skipped: list[Skipped]
    steps: list[StepResult]
    exp_dir: Path
    zh_readings: str | None = None  # what v2+ Chinese was read with: g2pw, pypinyin, recorded; None: no such text

    def to_json(self) -> dict[str, Any]:
        return {"version": self.version, "items": self.items, "kept": self.kept,
                "seconds": round(self.seconds, 2), "exp_dir": str(self.exp_dir), "zh_readings": self.zh_readings,
                "skipped": [s.to_json() for s in self.skipped],
                "steps": [vars(s) for s in self.steps]}


def _fresh(step: str, key: str, entry: Entry | None, h: str, exp: Path) -> bool:
    if entry is None or entry.get("hash") != h or entry.get("retry"):
        return False  # new, changed, or failed unexpectedly last time (tried again)
    return "skip" in entry or outputs_present(step, key, entry, exp)


def _skipped_now(entry: Entry | None, h: str) -> bool:
    return entry is not None and "skip" in entry and entry.get("hash") == h and not entry.get("retry")


def _ok_hashes(entries: dict[str, Entry]) -> dict[str, str]:
    return {k: e["hash"] for k, e in entries.items() if e.get("ok")}


def run_step(step: str, items: list[FormatItem], cfg: StepConfig, devices: list[str],
             report: Reporter, pool: WorkerPool | None = None,
             keep: set[str] | None = None) -> tuple[StepResult, dict[str, Entry]]:
    """Bring ``step`` up to date for ``items``; journal entries of ``keep`` (default: the items)
    survive compaction even when not processed now (e.g. audio features of a clip whose text is
    currently unusable, reused once the text is fixed)."""
    keys = {it.key for it in items} | (keep or set())
    entries = journal.compact(cfg.exp, step, keys)  # fold a killed run's parts in first
    hashes = {it.key: STEPS[step].hash_fn(it, cfg) for it in items}
    work = [(it, hashes[it.key]) for it in items
            if not _fresh(step, it.key, entries.get(it.key), hashes[it.key], cfg.exp)]
    result = StepResult(step, reused=len(items) - len(work))
    total = len(items)
    report.progress(result.reused, total, "clips", label=step)
    if work:
        def on_progress(n: int) -> None:
            report.progress(result.reused + n, total, "clips", label=step)

        run_parallel(step, cfg, devices[: max(1, min(len(devices), len(work)))], work, on_progress, pool)
    entries = journal.compact(cfg.exp, step, keys)
    result.done = len(work)
    for it in items:
        e = entries.get(it.key)
        if e is not None and "skip" in e:
            result.skipped += 1
    report.progress(total, total, "clips", label=step)
    return result, entries


def _remove_stale_files(exp: Path, current: set[str], known_before: set[str], text: dict[str, Entry],
                        ssl: dict[str, Entry]) -> None:
    """Per-item files nobody should train on: clips we formatted before that left the transcript,
    BERT files of items no longer Chinese or skipped, audio features of items now skipped.
    Only files of keys our journals know are touched (never an official run's leftovers)."""
    for d, suffix in ((layout.BERT_DIR, ".pt"), (layout.HUBERT_DIR, ".pt"), (layout.WAV32K_DIR, ""),
                      (layout.SV_DIR, ".pt")):
        folder = exp / d
        if not folder.is_dir():
            continue
        for f in folder.iterdir():
            if f.name.startswith(".") or (suffix and not f.name.endswith(suffix)):
                continue
            key = f.name[: len(f.name) - len(suffix)] if suffix else f.name
            gone = key not in current and key in known_before
            if d == layout.BERT_DIR:
                stale = key in text and not (text[key].get("ok") and text[key].get("bert"))
            else:
                stale = key in ssl and "skip" in ssl[key]
            if gone or stale:
                f.unlink(missing_ok=True)


def _remove_temp_files(exp: Path) -> None:
    """Half-written outputs of a killed run (written under a dot-name, renamed when complete)."""
    for d in (layout.BERT_DIR, layout.HUBERT_DIR, layout.WAV32K_DIR, layout.SV_DIR):
        folder = exp / d
        if folder.is_dir():
            for f in folder.glob(".*.tmp"):
                f.unlink(missing_ok=True)


def _previously_known(exp: Path) -> set[str]:
    known: set[str] = set()
    for step in STEPS:
        known.update(journal.read(exp, step))
    return known


def run_format(opts: FormatOptions, report: Reporter) -> FormatSummary:
    """Bring ``opts.exp_dir`` up to date with ``opts.list_path`` for ``opts.version``."""
    exp = Path(opts.exp_dir)
    items, skipped = read_items(opts.list_path, opts.version, opts.wav_dir, opts.extra_dirs)
    for s in skipped:
        report.warning(f"skipped {s.key}: {s.reason}")
    n_lines = len(items) + sum(1 for s in skipped if s.step == "transcript")
    if not items:
        raise FormatInputError(f"no clip of {opts.list_path} can be formatted ({len(skipped)} skipped)",
                               "fix the lines named in the warnings (language, audio path)")
    exp.mkdir(parents=True, exist_ok=True)
    with journal.RunLock(exp):
        return _run_locked(opts, exp, items, skipped, n_lines, report)


def _run_locked(opts: FormatOptions, exp: Path, items: list[FormatItem], skipped: list[Skipped], n_lines: int,
                report: Reporter) -> FormatSummary:
    _remove_temp_files(exp)
    known_before = _previously_known(exp)
    state = journal.read_state(exp)
    if state.get("version") and state["version"] != opts.version:
        report.info(f"version changed from {state['version']} to {opts.version}: phones and tokens are redone "
                    "where they differ")
    readings = _zh_readings(opts, items, state, report)
    journal.write_state(exp, {**state, "version": opts.version,
                              "zh_readings": readings.source if readings else state.get("zh_readings")})
    cfg = StepConfig(exp=exp, version=opts.version, bert_dir=opts.bert_dir, hubert_dir=opts.hubert_dir,
                     s2g_path=opts.s2g_path, sv_path=opts.sv_path, half=opts.half, threads=opts.threads,
                     pinyin_calls=opts.pinyin_calls, zh_readings=readings)
    results: list[StepResult] = []
    with WorkerPool(len(opts.devices)) as pool:
        for step in steps_for(opts.version, opts.only):
            results.append(_run_one(step, items, cfg, opts, report, pool))
    return finish(exp, opts.version, items, skipped, n_lines, results, known_before, report,
                  readings.source if readings else None)


def _zh_readings(opts: FormatOptions, items: list[FormatItem], state: dict[str, Any],
                 report: Reporter) -> ZhReadings | None:
    """G2PW or (allowed) pypinyin when a clip is v2+ Chinese: decided before any worker starts, so
    a missing model refuses the run with the fetch command instead of skipping every Chinese clip.
    Steps after ``text`` only need the source the text step used (for its hashes)."""
    version = layout.text_version(opts.version)
    if not any(needs_g2pw(it.language, version) for it in items):
        return None
    if opts.only not in (None, "text"):
        source = state.get("zh_readings")
        return ZhReadings(source) if source in (G2PW, PYPINYIN) else None
    if opts.pinyin_calls is not None:
        return ZhReadings(RECORDED)
    from ..pretrained import progress_to

    readings = decide(opts.allow_pypinyin, tokenizer=opts.bert_dir, on_progress=progress_to(report),
                      on_info=report.info)
    if readings.source == PYPINYIN:
        report.warning("v2 Chinese is read with pypinyin (allowed by --allow-pypinyin): polyphones can differ "
                       "from the official WebUI; `gsv models fetch v2` gets G2PW, then format again")
    return readings


def _run_one(step: str, items: list[FormatItem], cfg: StepConfig, opts: FormatOptions, report: Reporter,
             pool: WorkerPool) -> StepResult:
    """One step over the clips still worth it (text skips need no audio work)."""
    exp = cfg.exp
    todo = items
    if step != "text":  # clips whose current text is unusable need no audio work
        text = journal.read(exp, "text")
        todo = [it for it in items if not _skipped_now(text.get(it.key), STEPS["text"].hash_fn(it, cfg))]
    if step in ("sv", "semantic"):
        cfg.ssl_hashes = _ok_hashes(journal.read(exp, "ssl"))
    report.info(f"step {step}: {len(todo)} clips")
    res, _ = run_step(step, todo, cfg, opts.devices, report, pool, keep={it.key for it in items})
    report.info(f"step {step}: {res.done} computed, {res.reused} up to date, {res.skipped} skipped")
    return res


def finish(exp: Path, version: str, items: list[FormatItem], skipped: list[Skipped], n_lines: int,
           results: list[StepResult], known_before: set[str], report: Reporter,
           zh_readings: str | None = None) -> FormatSummary:
    """Write the merged official files from the journals and sum up what is usable."""
    keys = {it.key for it in items}
    per_step = {s: {k: e for k, e in journal.read(exp, s).items() if k in keys} for s in STEPS}
    text, ssl, sem = per_step["text"], per_step["ssl"], per_step["semantic"]
    _remove_stale_files(exp, keys, known_before, text, ssl)
    chain = ["text", "ssl", "semantic"] + (["sv"] if layout.needs_sv(version) else [])
    kept_keys: list[str] = []
    dropped: set[str] = set()
    seconds = 0.0
    for it in items:
        reasons = [(s, per_step[s][it.key]["skip"]) for s in chain if "skip" in per_step[s].get(it.key, {})]
        if reasons:
            step, why = reasons[0]
            dropped.add(it.key)
            skipped.append(Skipped(it.key, step, why))
            report.warning(f"skipped {it.key} ({step}): {why}")
            continue
        if all(per_step[s].get(it.key, {}).get("ok") for s in chain):
            kept_keys.append(it.key)
            seconds += float(ssl[it.key].get("seconds", 0.0))
    if text:
        lines = [text[it.key]["line"] for it in items
                 if text.get(it.key, {}).get("ok") and it.key not in dropped]
        report.artifact(layout.write_name2text(exp, lines), role="name2text")
    if sem:
        lines = [sem[it.key]["line"] for it in items if sem.get(it.key, {}).get("ok") and it.key not in dropped]
        report.artifact(layout.write_name2semantic(exp, lines), role="name2semantic")
    summary = FormatSummary(version, n_lines, len(kept_keys), seconds, skipped, results, exp, zh_readings)
    report.info(f"kept {summary.kept} of {n_lines} clips ({seconds / 60:.1f} min); {len(skipped)} skipped"
                + (" (reasons above)" if skipped else ""))
    report.summary(summary.to_json())
    journal.write_summary(exp, summary.to_json())
    return summary
