"""Speaker-verification embedding (v2Pro/v2ProPlus): Kaldi fbank, resampler, ERes2NetV2 layout."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import torch

from backend.models.errors import WrongModelKindError
from backend.models.safe_pickle import save_checkpoint
from backend.models.sv import EMBED_DIM, ERes2NetV2, SpeakerEncoder, kaldi_fbank, resample


def _voice(seconds: float, sr: int = 16000, seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    t = torch.arange(int(seconds * sr)) / sr
    f0 = 140 + 20 * torch.sin(2 * math.pi * 3 * t)
    phase = 2 * math.pi * torch.cumsum(f0, 0) / sr
    x = sum(torch.sin(k * phase) / k for k in range(1, 8)) * 0.2
    return x + 0.01 * torch.randn(t.shape, generator=g)


def test_fbank_matches_kaldi_native_fbank() -> None:
    knf = pytest.importorskip("kaldi_native_fbank")
    wav = _voice(1.5)
    ours = kaldi_fbank(wav, num_mel_bins=80).numpy()
    opts = knf.FbankOptions()
    opts.frame_opts.dither = 0.0
    opts.frame_opts.samp_freq = 16000
    opts.mel_opts.num_bins = 80
    fb = knf.OnlineFbank(opts)
    fb.accept_waveform(16000, wav.tolist())
    fb.input_finished()
    ref = np.stack([fb.get_frame(i) for i in range(fb.num_frames_ready)])
    assert ours.shape == ref.shape == (148, 80)  # snip_edges: 1 + (24000 - 400) // 160
    # float32 rounding on near-silent low bins differs a little; the bulk agrees to ~1e-6
    assert np.abs(ours - ref).max() < 2e-3 and np.abs(ours - ref).mean() < 2e-5


def test_resample_keeps_the_band_and_removes_aliases() -> None:
    sr = 32000
    t = torch.arange(sr) / sr
    tone = torch.sin(2 * math.pi * 1000 * t)
    out = resample(tone[None], sr, 16000)[0]
    assert out.shape == (16000,)
    expected = torch.sin(2 * math.pi * 1000 * torch.arange(16000) / 16000)
    assert (out[200:-200] - expected[200:-200]).abs().max() < 2e-3
    alias = resample(torch.sin(2 * math.pi * 12000 * t)[None], sr, 16000)[0]
    assert alias[200:-200].abs().max() < 1e-2


def test_full_size_layout_matches_official_checkpoint_counts() -> None:
    with torch.device("meta"):
        model = ERes2NetV2()
    sd = model.state_dict()
    assert len(sd) == 1001
    assert sum(p.numel() for p in model.parameters()) == 53_513_632
    assert tuple(sd["seg_1.weight"].shape) == (192, 40960) and tuple(sd["layer3_ds.weight"].shape) == (2048, 1024, 3, 3)


@pytest.mark.slow
def test_speaker_encoder_from_checkpoint(tmp_path: Path) -> None:
    torch.manual_seed(0)
    small = ERes2NetV2(m_channels=8)
    for m in small.modules():
        if isinstance(m, torch.nn.BatchNorm2d):  # give the running statistics non-trivial values
            m.running_mean.uniform_(-0.1, 0.1)
            m.running_var.uniform_(0.5, 1.5)
    p = tmp_path / "sv.ckpt"
    p.write_bytes(save_checkpoint(dict(small.state_dict())))
    enc = SpeakerEncoder.from_checkpoint(p)
    a, b = _voice(1.0, seed=1), _voice(1.2, seed=2)
    one = enc(a)
    assert one.shape == (1, 8 * 8 * 4 * 10) and torch.isfinite(one).all()
    # 32 kHz input is resampled to 16 kHz first
    up = enc(resample(a[None], 16000, 32000)[0], sample_rate=32000)
    assert up.shape == one.shape
    batch = enc(torch.stack([a, b[:16000]]))
    torch.testing.assert_close(batch[0], one[0], rtol=1e-4, atol=1e-5)
    assert EMBED_DIM == 64 * 8 * 4 * 10


def test_wrong_checkpoint(tmp_path: Path) -> None:
    p = tmp_path / "x.ckpt"
    p.write_bytes(save_checkpoint({"weight": {"a": torch.zeros(1)}}))
    with pytest.raises(WrongModelKindError):
        SpeakerEncoder.from_checkpoint(p)
