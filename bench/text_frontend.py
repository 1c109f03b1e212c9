"""Text-frontend speed: sentences per second per language, cold (first call) and warm.

    python bench/text_frontend.py [--repeat 3] [--json]

Sentences: the monolingual inputs of the reference records (tests/fixtures/text). For each
language present in this tree (zh v1, zh v2, en, ja):

- ``cold``: a fresh Python process imports the frontend and converts ONE sentence; the wall
  time to that first result (imports, dictionaries, jieba/Open JTalk start-up included);
- ``warm``: in this process, after a warm-up pass, every sentence ``--repeat`` times;
  sentences/s.

Baseline, measured in the same run for Chinese: pypinyin's ``lazy_pinyin`` over the same
normalised sentences (the library floor of a pinyin frontend); ``zh warm / baseline`` is the
ratio to compare across machines, not the absolute figures.
"""

from __future__ import annotations

import argparse
import gzip
import importlib.util
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
FIXTURE = ROOT / "tests" / "fixtures" / "text" / "text_vectors.jsonl.gz"
os.environ.setdefault("GSV_FRONTEND_DATA", str(ROOT.parent / "shared" / "frontend-data"))

_COLD = (
    "import time, sys; t=time.perf_counter();"
    "from backend.text.cleaner import clean_text;"
    "clean_text(sys.argv[1], sys.argv[2], sys.argv[3]);"
    "print(time.perf_counter()-t)"
)


def sentences() -> dict[str, list[str]]:
    with gzip.open(FIXTURE, "rt", encoding="utf-8") as handle:
        records = [json.loads(line) for line in handle]
    picked: dict[str, list[str]] = {"zh": [], "en": [], "ja": []}
    for record in records:
        language = record["language"]
        if record["path"] == "clean_text" and record["version"] == "v1" and language in picked \
                and record["sentence_id"].startswith(language + "-"):
            picked[language].append(record["input"])
    return picked


def available(language: str) -> bool:
    module = {"zh": "zh_g2p", "en": "english", "ja": "japanese"}[language]
    return importlib.util.find_spec(f"backend.text.{module}") is not None


def cold_seconds(text: str, language: str, version: str) -> float:
    run = subprocess.run([sys.executable, "-c", _COLD, text, language, version],
                         capture_output=True, text=True, cwd=ROOT, check=True)
    return float(run.stdout.strip().splitlines()[-1])


def warm_rate(texts: list[str], language: str, version: str, repeat: int) -> float:
    from backend.text.cleaner import clean_text

    for text in texts:
        clean_text(text, language, version)
    start = time.perf_counter()
    for _ in range(repeat):
        for text in texts:
            clean_text(text, language, version)
    return repeat * len(texts) / (time.perf_counter() - start)


def baseline_rate(texts: list[str], repeat: int) -> float:
    from pypinyin import Style, lazy_pinyin

    from backend.text.zh_normalize import normalize_zh

    normed = [normalize_zh(t) for t in texts]
    for text in normed:
        lazy_pinyin(text, style=Style.FINALS_TONE3)
    start = time.perf_counter()
    for _ in range(repeat):
        for text in normed:
            lazy_pinyin(text, style=Style.FINALS_TONE3, neutral_tone_with_five=True)
    return repeat * len(normed) / (time.perf_counter() - start)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    texts = sentences()
    rows = []
    for language, version in (("zh", "v1"), ("zh", "v2"), ("en", "v2"), ("ja", "v2")):
        if not available(language) or not texts[language]:
            rows.append({"language": language, "version": version, "skipped": "module missing"})
            continue
        rows.append({
            "language": language, "version": version, "sentences": len(texts[language]),
            "cold_first_call_s": round(cold_seconds(texts[language][0], language, version), 3),
            "warm_sentences_per_s": round(warm_rate(texts[language], language, version,
                                                    args.repeat), 1),
        })
    base = baseline_rate(texts["zh"], args.repeat)
    result = {"rows": rows, "baseline_pypinyin_sentences_per_s": round(base, 1)}
    for row in rows:
        if row["language"] == "zh" and "warm_sentences_per_s" in row:
            row["warm_vs_baseline"] = round(row["warm_sentences_per_s"] / base, 3)
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print(f"baseline (pypinyin lazy_pinyin, zh): {base:.1f} sentences/s")
        for row in rows:
            if "skipped" in row:
                print(f"{row['language']} {row['version']}: skipped ({row['skipped']})")
                continue
            extra = f", {row['warm_vs_baseline']}× baseline" if "warm_vs_baseline" in row else ""
            print(f"{row['language']} {row['version']}: cold {row['cold_first_call_s']} s to first "
                  f"result; warm {row['warm_sentences_per_s']} sentences/s "
                  f"({row['sentences']} sentences){extra}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
