"""Device and precision choice: CUDA when present, fp16/bf16 only on a GPU; the pipeline in
half precision on CUDA (skipped without a GPU)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from backend.infer.device import choose  # noqa: E402
from backend.infer.errors import InferenceError  # noqa: E402

from infer_helpers import GPT, HUBERT, MAX_TOKENS, SOVITS, write_voice  # noqa: E402

HAS_CUDA = torch.cuda.is_available()


def test_cpu_is_always_full_precision() -> None:
    for precision in ("auto", "fp16", "bf16", "fp32"):
        assert choose("cpu", precision).dtype == torch.float32


def test_auto_picks_cuda_only_when_present() -> None:
    placement = choose(None)
    assert placement.device == ("cuda" if HAS_CUDA else "cpu")
    if HAS_CUDA:
        assert placement.dtype == torch.float16  # the official is_half default on a GPU


def test_bad_choices_are_named() -> None:
    with pytest.raises(InferenceError):
        choose("cpu", "fp8")
    if not HAS_CUDA:
        with pytest.raises(InferenceError) as e:
            choose("cuda")
        assert "--device cpu" in (e.value.fix or "")


@pytest.mark.gpu
@pytest.mark.skipif(not HAS_CUDA, reason="needs a CUDA device")
@pytest.mark.parametrize("precision", ["fp16", "bf16"])
def test_pipeline_in_half_precision_on_cuda(precision: str, tmp_path: Path) -> None:
    from text_records import frontend_data_or_skip

    frontend_data_or_skip()
    from backend.infer.models import load_models
    from backend.infer.params import SynthesisParams
    from backend.infer.pipeline import Synthesizer

    models = load_models(GPT, SOVITS, hubert_dir=HUBERT, device="cuda", precision=precision)
    assert next(models.gpt.parameters()).dtype == models.placement.dtype != torch.float32
    ref = write_voice(tmp_path / "ref.wav", 4.0)
    r = Synthesizer(models, max_tokens=MAX_TOKENS).synthesize(SynthesisParams(
        text="Hello there, this runs on the GPU.", lang="en", ref=str(ref), ref_text="A voice.", ref_lang="en",
        cut="cut5", seed=3))
    assert np.isfinite(r.audio).all() and len(r.audio) > 0
