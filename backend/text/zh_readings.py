"""Which polyphone readings v2+ Chinese gets in formatting and inference: G2PW, or pypinyin by choice.

The official v2 reads Chinese polyphones with the G2PW model and fetches it when it is missing;
pypinyin alone reads 行, 还, 长 … differently, so phones (and the voice trained on them) differ
from the WebUI's. Formatting and inference therefore never fall back silently: when the model
is missing they fetch it through the project's download path (online), else refuse with a named
error and the fetch command — unless the user allowed pypinyin, which is then recorded.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from backend.text import g2pw
from backend.text.cleaner import CleanedText, clean_text
from backend.text.zh_g2p import SentencePinyin

G2PW = "g2pw"
PYPINYIN = "pypinyin"
RECORDED = "recorded"
"""Sources of the readings as recorded in the exp folder and a take's JSON."""

ProgressFn = Callable[[str, int, "int | None"], None]  # (file, bytes done, bytes total)
InfoFn = Callable[[str], None]


def needs_g2pw(language: str, version: str) -> bool:
    """Whether text of ``language`` under symbol set ``version`` reads polyphones with G2PW."""
    return language == "zh" and version != "v1"


@dataclass(frozen=True)
class ZhReadings:
    """The decision, small and picklable (it crosses into formatting's worker processes)."""

    source: str  # G2PW or PYPINYIN
    model_dir: Path | None = None
    tokenizer_dir: Path | None = None

    def sentence_pinyin(self) -> SentencePinyin | None:
        """What :func:`clean_text` takes: the model, or None (the official pypinyin branch)."""
        if self.source != G2PW:
            return None
        found = (g2pw.model_folder(), g2pw.tokenizer_dir())
        if self.model_dir is not None and self.tokenizer_dir is not None \
                and found != (self.model_dir, self.tokenizer_dir):  # e.g. in a worker process
            g2pw.use_g2pw_model(self.model_dir, self.tokenizer_dir)
        return g2pw.required_model()


def _fetch(on_progress: ProgressFn | None, on_info: InfoFn | None) -> Exception | None:
    """Download G2PW unless offline; the failure (if any) is returned to be named, not raised."""
    from backend.pretrained import offline
    from backend.text.g2pw import fetch_g2pw

    if offline():
        return None
    if on_info:
        on_info("the G2PW polyphone model for v2 Chinese is missing: downloading it (as the official does)")
    try:
        fetch_g2pw(on_progress)
    except Exception as e:  # noqa: BLE001 - network, disk, a bad archive: named below
        return e
    return None


def decide(allow_pypinyin: bool = False, tokenizer: Path | None = None, on_progress: ProgressFn | None = None,
           on_info: InfoFn | None = None) -> ZhReadings:
    """G2PW when installed (fetched first when missing and online), else pypinyin if allowed.

    ``tokenizer``: a BERT folder to read with when none is found where G2PW looks (e.g. the
    BERT formatting was given). Raises :class:`~backend.text.g2pw.G2PWMissingError` otherwise.
    """
    failure: Exception | None = None
    if g2pw.model_folder() is None:
        failure = _fetch(on_progress, on_info)
    folder = g2pw.model_folder()
    words = g2pw.tokenizer_dir() or tokenizer
    if folder is not None and words is not None:
        return ZhReadings(G2PW, Path(folder), Path(words))
    if allow_pypinyin:
        if on_info:
            on_info("G2PW is not installed: v2 Chinese polyphones are read with pypinyin "
                    f"({g2pw.ALLOW_FLAG}); they can differ from the official WebUI's")
        return ZhReadings(PYPINYIN)
    why = f" (the download failed: {failure})" if failure is not None else ""
    if folder is not None:
        why = " (its BERT tokenizer, chinese-roberta-wwm-ext-large, was not found)"
    raise g2pw.G2PWMissingError(
        "v2+ Chinese needs the G2PW polyphone model, which is not installed" + why + "; without it "
        "readings would come from pypinyin and differ from the official WebUI on polyphones",
        fix=f"fetch it with `{g2pw.FETCH_COMMAND}`, or pass {g2pw.ALLOW_FLAG} to accept pypinyin readings",
    )


class ReadingsCleaner:
    """``clean_text`` that decides the Chinese readings on the first v2+ Chinese text only.

    Inference uses it: English or Japanese text never needs (or fetches) G2PW, and ``source``
    tells afterwards what Chinese was read with (None: no Chinese was read).
    """

    def __init__(self, allow_pypinyin: bool = False, on_progress: ProgressFn | None = None,
                 on_info: InfoFn | None = None) -> None:
        self.allow_pypinyin = allow_pypinyin
        self.on_progress = on_progress
        self.on_info = on_info
        self.source: str | None = None
        self._pinyin: SentencePinyin | None = None

    def __call__(self, text: str, language: str, version: str = "v2") -> CleanedText:
        if not needs_g2pw(language, version):
            return clean_text(text, language, version)
        if self.source is None:
            readings = decide(self.allow_pypinyin, on_progress=self.on_progress, on_info=self.on_info)
            self._pinyin = readings.sentence_pinyin()
            self.source = readings.source
        return clean_text(text, language, version, sentence_pinyin=self._pinyin)
