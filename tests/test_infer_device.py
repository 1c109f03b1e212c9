"""Device and precision choice: CUDA when present, fp16/bf16 on a GPU, on the CPU full precision or
a bf16 vocoder when asked; the pipeline in half precision on CUDA (skipped without a GPU)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from backend.infer.device import choose, cpu_has_native_bf16  # noqa: E402
from backend.infer.errors import InferenceError  # noqa: E402

from infer_helpers import GPT, HUBERT, MAX_TOKENS, SOVITS, write_voice  # noqa: E402

HAS_CUDA = torch.cuda.is_available()


def test_cpu_is_full_precision_unless_bf16_is_asked_for() -> None:
    for precision in ("auto", "fp16", "fp32"):
        placement = choose("cpu", precision)
        assert placement.dtype == torch.float32 and placement.vocoder_dtype is None
        assert placement.label == "cpu float32"


def test_cpu_bf16_runs_only_the_vocoder_in_bf16_where_the_cpu_has_it(monkeypatch) -> None:
    import backend.infer.device as device

    monkeypatch.setattr(device, "cpu_has_native_bf16", lambda: True)
    placement = choose("cpu", "bf16")
    assert placement.dtype == torch.float32 and placement.vocoder_dtype == torch.bfloat16
    assert placement.label == "cpu float32 (vocoder bfloat16)"
    monkeypatch.setattr(device, "cpu_has_native_bf16", lambda: False)
    with pytest.raises(InferenceError, match="no native bfloat16") as e:
        choose("cpu", "bf16")
    assert "--precision auto" in (e.value.fix or "")


@pytest.mark.skipif(not cpu_has_native_bf16(), reason="this CPU has no native bfloat16")
def test_pipeline_with_a_bf16_vocoder_on_cpu(tmp_path: Path) -> None:
    from text_records import frontend_data_or_skip

    frontend_data_or_skip()
    from backend.infer.models import load_models
    from backend.infer.params import SynthesisParams
    from backend.infer.pipeline import Synthesizer

    models = load_models(GPT, SOVITS, hubert_dir=HUBERT, device="cpu", precision="bf16")
    assert next(models.gpt.parameters()).dtype == torch.float32  # tokens as in full precision
    assert models.sovits.dec.conv_post.weight.dtype == torch.bfloat16
    assert next(models.sovits.flow.parameters()).dtype == torch.float32
    ref = write_voice(tmp_path / "ref.wav", 4.0)
    r = Synthesizer(models, max_tokens=MAX_TOKENS).synthesize(SynthesisParams(
        text="Hello there, this runs on the CPU.", lang="en", ref=str(ref), ref_text="A voice.", ref_lang="en",
        cut="cut5", seed=3))
    assert r.audio.dtype == np.float32 and np.isfinite(r.audio).all() and len(r.audio) > 0


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


@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
def test_half_precision_plumbing_on_cpu_as_a_gpu_stand_in(dtype: str, tmp_path: Path, monkeypatch) -> None:
    """Every model in half precision, as on a GPU; run on the CPU (slow but exact in what it
    checks) because no GPU is available here: each tensor handed between the stages (BERT
    features, HuBERT prompt, reference spectrograms, noise) must follow the models' dtype."""
    from text_records import frontend_data_or_skip

    frontend_data_or_skip()
    import backend.infer.models as models_mod
    from backend.infer.device import Placement
    from backend.infer.params import SynthesisParams
    from backend.infer.pipeline import Synthesizer
    from infer_helpers import build_tiny_bert

    half = getattr(torch, dtype)
    monkeypatch.setattr(models_mod, "choose", lambda device=None, precision="auto": Placement("cpu", half))
    models = models_mod.load_models(GPT, SOVITS, hubert_dir=HUBERT, bert_dir=build_tiny_bert(tmp_path / "bert"))
    assert next(models.gpt.parameters()).dtype == next(models.sovits.parameters()).dtype == half
    synth = Synthesizer(models, max_tokens=MAX_TOKENS)
    ref = write_voice(tmp_path / "ref.wav", 4.0)
    for text, lang, ref_text in [("Hello there, in half precision.", "en", "A voice."),
                                 ("你好，今天天气很好。", "all_zh", "一个声音。")]:
        r = synth.synthesize(SynthesisParams(text=text, lang=lang, ref=str(ref), ref_text=ref_text, ref_lang=lang,
                                             cut="cut5", seed=3, allow_pypinyin=True))  # no G2PW offline
        assert r.audio.dtype == np.float32 and np.isfinite(r.audio).all() and len(r.audio) > 0
    assert models.bert().dtype == half
