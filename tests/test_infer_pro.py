"""v2Pro: the pipeline feeds each reference's speaker-verification embedding into SoVITS.

A tiny v2Pro SoVITS is built here (the tiny v2 model's weights where the shapes agree, random
ones for the Pro parts, the official v2Pro export header) and paired with the tiny v2 GPT — a pair the official code accepts too. The
speaker encoder is the real ERes2NetV2 at full width (its 20480-wide output is what SoVITS
takes) with random weights, since the official checkpoint is not available offline."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")

from infer_helpers import GPT, HUBERT, MAX_TOKENS, SOVITS, write_voice  # noqa: E402
from text_records import frontend_data_or_skip  # noqa: E402

from backend.infer.models import load_models  # noqa: E402
from backend.infer.params import SynthesisParams  # noqa: E402
from backend.infer.pipeline import Synthesizer  # noqa: E402


@pytest.fixture(scope="module")
def pro_weights(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from backend.models.sovits import SoVITS
    from backend.models.sovits.weights import model_config, read_sovits, write_sovits

    f = read_sovits(SOVITS)
    cfg = dataclasses.replace(model_config(f), version="v2Pro", mrte_hidden=None)
    torch.manual_seed(5)
    model = SoVITS(cfg, with_posterior=False)
    own = model.state_dict()
    shared = {k: v.float() for k, v in f.weight.items() if k in own and own[k].shape == v.shape}
    model.load_state_dict(shared, strict=False)  # the v2 parts (codebook included) from the tiny v2 file
    path = tmp_path_factory.mktemp("pro") / "voice_e1_s1.pth"
    write_sovits(path, model.state_dict(), f.config, "v2Pro", 1, 1)
    return path


@pytest.mark.slow
def test_v2pro_sovits_with_a_v2_gpt_uses_the_speaker_embedding(pro_weights: Path, tmp_path: Path) -> None:
    frontend_data_or_skip()
    from backend.models.sv import ERes2NetV2, SpeakerEncoder

    models = load_models(GPT, pro_weights, hubert_dir=HUBERT, device="cpu")
    assert models.version == "v2Pro" and models.needs_speaker and models.sample_rate == 32000
    torch.manual_seed(0)
    models._sv = SpeakerEncoder(ERes2NetV2())
    synth = Synthesizer(models, max_tokens=MAX_TOKENS)
    ref = write_voice(tmp_path / "ref.wav", 3.5, seed=2)
    p = SynthesisParams(text="Good evening, everyone.", lang="en", ref=str(ref), ref_text="A voice.",
                        ref_lang="en", cut="cut0", seed=5)
    from backend.infer.reference import load_reference

    emb = synth.speaker_embedding(load_reference(ref))
    assert tuple(emb.shape) == (1, 20480)
    first = synth.synthesize(p)
    assert len(first.pieces) == 1 and len(first.audio) == first.pieces[0].tokens * 1280 + int(32000 * p.pause)
    with torch.no_grad():  # without the speaker projection: same tokens, other timbre
        models.sovits.sv_emb.weight.zero_()
        models.sovits.sv_emb.bias.zero_()
    second = synth.synthesize(p)
    assert first.pieces[0].tokens == second.pieces[0].tokens
    assert not np.array_equal(first.audio, second.audio)
