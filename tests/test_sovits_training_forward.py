"""The SoVITS training pass and the full-size discriminator reproduce one official training step's
forward (fixtures/sovits_train_forward, from the reference vectors' train_s2 folder)."""

from __future__ import annotations

import lzma
from pathlib import Path

import numpy as np
import pytest
import torch

from backend.models import load_sovits
from backend.models.safe_pickle import load_checkpoint
from backend.models.sovits import MultiPeriodDiscriminator
from backend.models.sovits.weights import read_discriminator

FIX = Path(__file__).parent / "fixtures" / "sovits_train_forward"
ACT = {"atol": 1e-4, "rtol": 1e-4}


@pytest.fixture(scope="module")
def ref() -> dict[str, np.ndarray]:
    with np.load(FIX / "forward.npz") as z:
        return {k: z[k] for k in z.files}


@pytest.mark.slow
def test_generator_training_forward(ref) -> None:
    model = load_sovits(FIX.parent / "sovits_v2_tiny" / "sovits_v2_tiny.pth", for_training=True)
    enc_q = load_checkpoint(FIX / "G_init_enc_q.pt")
    model.enc_q.load_state_dict({k.removeprefix("enc_q."): v for k, v in enc_q.items()})
    model.train()
    for m in model.modules():  # the reference step ran with every dropout at 0
        if isinstance(m, torch.nn.Dropout):
            m.p = 0.0
    with np.load(FIX / "batch.npz") as b, np.load(FIX / "random_draws.npz") as r:
        batch = {k: torch.from_numpy(b[k]) for k in b.files}
        seed = int(r["seed"])
    torch.manual_seed(seed)  # the posterior noise and the slice start are the step's only draws
    y_hat, commit, ids, y_mask, _, (z, z_p, m_p, logs_p, m_q, logs_q), _ = model(
        batch["ssl"], batch["spec"], batch["spec_lengths"], batch["text"], batch["text_lengths"])
    assert ids.tolist() == ref["ids_slice"].tolist() and float(commit) == 0.0
    for name, t in (("m_p", m_p), ("logs_p", logs_p), ("y_mask", y_mask), ("z", z), ("m_q", m_q),
                    ("logs_q", logs_q), ("z_p", z_p)):
        np.testing.assert_allclose(t.detach().numpy(), ref[name], err_msg=name, **ACT)
    np.testing.assert_allclose(y_hat.detach().numpy(), ref["y_hat"], atol=1e-5, rtol=0)
    # gradients flow to the trained parts but not through the frozen quantizer path
    y_hat.abs().mean().backward()
    assert model.dec.ups[0].weight_v.grad is not None and model.enc_q.pre.weight.grad is not None
    assert model.ssl_proj.weight.grad is None


@pytest.mark.slow
def test_discriminator_scores(ref, tmp_path: Path) -> None:
    raw = tmp_path / "s2D.pth"
    raw.write_bytes(lzma.decompress((FIX / "D_init_pretrained_s2D.pth.xz").read_bytes()))
    mpd = MultiPeriodDiscriminator("v2")
    mpd.load_state_dict(read_discriminator(raw))
    with torch.no_grad():
        real, fake, fmap_r, fmap_g = mpd(torch.from_numpy(ref["d_in_real"]), torch.from_numpy(ref["d_in_fake"]))
    assert len(real) == 6 and [len(f) for f in fmap_r] == [7, 6, 6, 6, 6, 6]
    for k in range(6):
        np.testing.assert_allclose(real[k].numpy(), ref[f"dstep_score_real_{k}"], **ACT)
        np.testing.assert_allclose(fake[k].numpy(), ref[f"dstep_score_fake_{k}"], **ACT)
