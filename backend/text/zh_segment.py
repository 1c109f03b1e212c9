"""Word segmentation and part-of-speech tags for Chinese (jieba).

jieba is imported lazily (its dictionary takes about a second to load) and kept quiet: it
logs its start-up to stderr, which would garble ``gsv g2p --json`` output. The official code
uses jieba_fast, whose dictionary and HMM tables are identical to jieba's.
"""

from __future__ import annotations

import logging
import threading
from functools import lru_cache
from typing import Any

_LOCK = threading.Lock()


@lru_cache(maxsize=1)
def _jieba() -> tuple[Any, Any]:
    with _LOCK:
        import jieba
        import jieba.posseg

        jieba.setLogLevel(logging.CRITICAL)
        jieba.initialize()
        return jieba, jieba.posseg


def pos_cut(text: str) -> list[tuple[str, str]]:
    """(word, part-of-speech) pairs for ``text``."""
    _, posseg = _jieba()
    return [(pair.word, pair.flag) for pair in posseg.lcut(text)]


def cut_for_search(text: str) -> list[str]:
    """jieba's search-engine cut (all dictionary sub-words, short ones first)."""
    jieba, _ = _jieba()
    return list(jieba.cut_for_search(text))
