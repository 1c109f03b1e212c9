"""Fun-ASR-Nano: the official GPT-SoVITS's default Chinese ASR, a FunASR model folder made of a
SenseVoice audio encoder, an adaptor and a small causal LM (Qwen3) that writes the text.

What a folder holds (as published in ``FunAudioLLM/Fun-ASR-Nano-2512``): ``config.yaml``
(``model: FunASRNano``), ``model.pt`` with *every* weight (the LM's under ``llm.``), a sub-folder
named by ``llm_conf.init_param_path`` (``Qwen3-0.6B/``: the LM's ``config.json`` and its
tokenizer, no weights) and ``multilingual.tiktoken`` for the optional CTC head.

Why this module does more than hand the folder to FunASR:

- ``config.yaml`` names the LM folder by a *relative* path, and FunASR hands it to transformers
  as it is. From any working directory but the model's, transformers takes ``Qwen3-0.6B`` for a
  hub repo id and goes to the network (offline: an ``OSError`` from deep inside the tokenizer).
  :func:`load_overrides` gives FunASR the absolute folder instead; a name that is a hub repo id
  (a fine-tuned folder pointing at ``Qwen/…``) is fetched through our hub path like the rest.
- The CTC head only adds character timestamps, which a ``.list`` has no place for, and FunASR
  computes them with ``torchaudio``'s forced alignment, which we do not install (FunASR's fbank
  runs without it). Left in, it breaks every clip; so the head is not built
  (``ctc_decoder: None``). The text comes from the LM either way. Without the head FunASR also
  decodes several clips (or VAD segments) in one LM batch instead of one after another.
- The language is not passed to the model (the official script passes none), and the model
  reports none: for ``auto`` the clip is tagged ``zh``, as SenseVoice clips without a language
  tag are (:data:`AUTO_LANGUAGE`).

Confidence: :func:`attach_llm_scores` asks the LM's ``generate`` for its step scores and keeps
the mean log-probability of the tokens it chose (the same measure as Whisper's
``avg_logprob``), so Nano clips sort in the review's worst-first order too.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from .base import AsrError, DownloadCallback
from .hub import hf_snapshot

NAME = "fun-asr-nano"
REPO = "FunAudioLLM/Fun-ASR-Nano-2512"
VAD_REPO = "funasr/fsmn-vad"  # FunASR's "fsmn-vad" on the Hugging Face hub, as the official loads it
MODEL_CLASS = "FunASRNano"
LANGUAGES = ("zh", "en", "ja", "ko", "yue")  # the official ASR dialog's list (plus auto)
AUTO_LANGUAGE = "zh"
# what a loader reads from an LM folder fetched from the hub (the weights are in model.pt)
LLM_FILES = ["config.json", "generation_config.json", "tokenizer*", "vocab.json", "merges.txt",
             "special_tokens_map.json", "added_tokens.json"]


def read_config(folder: Path) -> dict[str, Any] | None:
    """The folder's ``config.yaml`` as a mapping, or None when it has none (or not a mapping)."""
    import yaml

    path = folder / "config.yaml"
    if not path.is_file():
        return None
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as e:
        raise AsrError(f"cannot read {path}: {e}", "download the model again") from None
    return data if isinstance(data, dict) else None


def is_nano(name: str) -> bool:
    """Whether ``name`` (a model name or a local folder) is a Fun-ASR-Nano model."""
    if name == NAME:
        return True
    folder = Path(name).expanduser()
    if not folder.is_dir():
        return False
    config = read_config(folder)
    return config is not None and config.get("model") == MODEL_CLASS


def _llm_folder(folder: Path, ref: str, progress: DownloadCallback | None) -> Path:
    """The LM config/tokenizer folder ``ref`` names: inside the model folder, absolute, or a hub repo."""
    for cand in (folder / ref, Path(ref).expanduser()):
        if cand.is_dir():
            if not (cand / "config.json").is_file():
                raise AsrError(f"{cand} has no config.json (the language model's configuration)",
                               "download the model again")
            return cand.absolute()
    if ref.count("/") == 1 and not ref.startswith((".", "/", "~")):
        return hf_snapshot(ref, f"the language model configuration {folder.name} names", progress,
                           allow_patterns=LLM_FILES)
    raise AsrError(f"{folder} names its language model folder {ref!r}, which is not there",
                   "download the model again (the folder comes with it)")


def load_overrides(folder: Path, progress: DownloadCallback | None = None) -> dict[str, Any]:
    """The AutoModel arguments that load ``folder`` with no network access (see the module doc)."""
    config = read_config(folder)
    if config is None or config.get("model") != MODEL_CLASS:
        raise AsrError(f"{folder} is not a Fun-ASR-Nano folder (its config.yaml does not say model: {MODEL_CLASS})",
                       f"give a folder downloaded with `hf download {REPO}`")
    if not (folder / "model.pt").is_file():
        raise AsrError(f"{folder} has no model.pt (the weights)", f"download the model again: `hf download {REPO}`")
    llm_conf = config.get("llm_conf") or {}
    ref = llm_conf.get("init_param_path") if isinstance(llm_conf, dict) else None
    if not isinstance(ref, str) or not ref:
        raise AsrError(f"{folder}/config.yaml names no language model (llm_conf.init_param_path)",
                       "download the model again")
    llm = _llm_folder(folder, ref, progress)
    tokenizer = llm
    tok_conf = config.get("tokenizer_conf") or {}
    tok_ref = tok_conf.get("init_param_path") if isinstance(tok_conf, dict) else None
    if isinstance(tok_ref, str) and tok_ref and not tok_ref.startswith("${") and tok_ref != ref:
        tokenizer = _llm_folder(folder, tok_ref, progress)
    return {"llm_conf": {"init_param_path": str(llm)}, "tokenizer_conf": {"init_param_path": str(tokenizer)},
            "ctc_decoder": None}


def attach_llm_scores(model: Any, record: Callable[[list[float | None]], None]) -> bool:
    """Wrap the LM's ``generate`` of a loaded FunASR Nano model so that each call hands
    ``record`` one mean log-probability per row. Returns whether there was an LM to wrap."""
    llm: Any = getattr(getattr(model, "model", None), "llm", None)
    original: Any = getattr(llm, "generate", None)
    if not callable(original):
        return False
    eos = llm.generation_config.eos_token_id
    eos_ids = set(eos if isinstance(eos, list) else [eos] if eos is not None else [])

    def generate(*args: Any, **kwargs: Any) -> Any:
        kwargs.update(output_scores=True, return_dict_in_generate=True)
        out = original(*args, **kwargs)
        try:
            record(_mean_chosen(out.sequences, out.scores, eos_ids))
        except Exception:  # noqa: BLE001 - a score is a nicety: never break recognition for it
            record([])
        return out.sequences

    llm.generate = generate
    return True


def _mean_chosen(sequences: Any, scores: Any, eos_ids: set[int]) -> list[float | None]:
    """Per row, the mean log-probability of the tokens chosen before the first end token."""
    import torch

    if not scores:
        return [None] * int(sequences.shape[0])
    steps = len(scores)
    chosen = sequences[:, -steps:]
    logp = torch.stack([torch.log_softmax(s.float(), dim=-1) for s in scores], dim=1)  # (batch, steps, vocab)
    picked = logp.gather(-1, chosen.unsqueeze(-1)).squeeze(-1)
    out: list[float | None] = []
    for row, tokens in zip(picked, chosen.tolist()):
        n = next((i for i, t in enumerate(tokens) if t in eos_ids), len(tokens))
        out.append(float(row[:n].mean()) if n > 0 else None)
    return out
