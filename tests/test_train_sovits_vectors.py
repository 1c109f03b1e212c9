"""One SoVITS training step reproduces the official one (reference vectors train_s2).

Same tiny generator, full-size v2 discriminator, collated batch and random draws (the posterior
noise and the slice start come from ``torch.manual_seed(seed)``) as the official
``train_and_evaluate``; compared: loss terms, gradient norms (total and per tensor), the mel
target/prediction, and parameters plus AdamW moments after the step. Tolerances from the
reference README; the key-projection biases are skipped (their true gradient is 0, the computed
one is float noise that AdamW amplifies).
"""

from __future__ import annotations

import json
import lzma
from pathlib import Path

import numpy as np
import pytest
import torch
from thread_helpers import torch_threads

from backend.models.safe_pickle import load_checkpoint
from backend.train.common import make_scaler
from backend.train.sovits import (
    SoVITSTrainSettings,
    build_discriminator,
    build_generator,
    make_optimizers,
    make_scheduler,
    train_step,
)

FIX = Path(__file__).parent / "fixtures"
REF = FIX / "train_s2"
STEP = FIX / "sovits_train_forward"  # batch, draws and initial weights (shared with the forward test)
KEY_BIAS = ("conv_k.bias", "w_ks.bias")


@pytest.fixture(scope="module")
def step_result(tmp_path_factory: pytest.TempPathFactory) -> dict:
    with torch_threads(1):
        return _one_step(tmp_path_factory.mktemp("train_s2"))


def _one_step(tmp: Path) -> dict:
    d_file = tmp / "s2D.pth"
    d_file.write_bytes(lzma.decompress((STEP / "D_init_pretrained_s2D.pth.xz").read_bytes()))
    net_g = build_generator(FIX / "sovits_v2_tiny" / "sovits_v2_tiny.pth")
    enc_q = load_checkpoint(STEP / "G_init_enc_q.pt")
    net_g.enc_q.load_state_dict({k.removeprefix("enc_q."): v for k, v in enc_q.items()})
    for m in net_g.modules():  # the reference step ran with every dropout at 0
        if isinstance(m, torch.nn.Dropout):
            m.p = 0.0
    net_d = build_discriminator(d_file, "v2")
    d_file.unlink()
    s = SoVITSTrainSettings(exp_dir=str(tmp), weights_dir=str(tmp), exp_name="refvec_s2", version="v2",
                            pretrained_s2G="", pretrained_s2D="", fp16=False)
    optim_g, optim_d = make_optimizers(net_g, net_d, s)
    make_scheduler(optim_g, s.lr_decay, 1)
    make_scheduler(optim_d, s.lr_decay, 1)
    before_g = {n: p.detach().clone() for n, p in net_g.named_parameters()}
    before_d = {n: p.detach().clone() for n, p in net_d.named_parameters()}
    grads: dict[str, dict[str, torch.Tensor]] = {}

    def recording(optim, model, key):  # the gradient each optimiser step used
        original = optim.step

        def step(*a, **kw):
            grads[key] = {n: p.grad.detach().clone() for n, p in model.named_parameters() if p.grad is not None}
            return original(*a, **kw)
        optim.step = step

    recording(optim_g, net_g, "g")
    recording(optim_d, net_d, "d")
    with np.load(STEP / "batch.npz") as b, np.load(STEP / "random_draws.npz") as r:
        batch = {k: torch.from_numpy(b[k]) for k in b.files}
        seed = int(r["seed"])
    torch.manual_seed(seed)
    capture: dict = {}
    res = train_step(net_g, net_d, optim_g, optim_d, make_scaler("cpu", False), batch, capture=capture)
    return {"res": res, "capture": capture, "net_g": net_g, "net_d": net_d, "optim_g": optim_g, "optim_d": optim_d,
            "before": {"g": before_g, "d": before_d}, "grads": grads}


@pytest.mark.slow
def test_loss_terms_and_grad_norms(step_result: dict) -> None:
    ref = json.loads((REF / "losses.json").read_text())
    res, cap = step_result["res"], step_result["capture"]
    for ours, theirs in (("disc", "loss_disc"), ("gen", "loss_gen"), ("fm", "loss_fm"), ("mel", "loss_mel"),
                         ("kl", "loss_kl"), ("kl_ssl", "kl_ssl"), ("total", "loss_gen_all")):
        assert res.losses[ours] == pytest.approx(ref[theirs], rel=1e-5, abs=1e-5), ours
    np.testing.assert_allclose(cap["disc_r"], ref["losses_disc_r"], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(cap["disc_g"], ref["losses_disc_g"], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(cap["gen_terms"], ref["losses_gen"], rtol=1e-5, atol=1e-6)
    assert res.grad_norm_d == pytest.approx(ref["grad_norm_d"], rel=1e-5)
    assert res.grad_norm_g == pytest.approx(ref["grad_norm_g"], rel=1e-4)
    with np.load(REF / "mels.npz") as m:
        np.testing.assert_allclose(cap["y_mel"].numpy(), m["y_mel"], atol=1e-5, rtol=1e-5)
        np.testing.assert_allclose(cap["y_hat_mel"].numpy(), m["y_hat_mel"], atol=1e-3, rtol=0)
        np.testing.assert_allclose(cap["y_slice"].numpy(), m["y_slice"], atol=1e-7, rtol=0)


def test_learning_rates_at_the_step(step_result: dict) -> None:
    meta = json.loads((REF / "meta.json").read_text())
    assert [g["lr"] for g in step_result["optim_g"].param_groups] == pytest.approx(meta["lr_at_step"]["g"], rel=1e-9)
    assert [g["lr"] for g in step_result["optim_d"].param_groups] == pytest.approx(meta["lr_at_step"]["d"], rel=1e-9)
    names_by_id = {id(p): n for n, p in step_result["net_g"].named_parameters()}
    ours = [sorted(names_by_id[id(p)] for p in g["params"]) for g in step_result["optim_g"].param_groups]
    assert ours == [sorted(g) for g in meta["g_param_groups"]]


@pytest.mark.parametrize("which", ["g", "d"])
@pytest.mark.slow
def test_gradients_and_parameters_after_adamw(step_result: dict, which: str) -> None:
    meta = json.loads((REF / "meta.json").read_text())
    names = meta[f"{which}_param_names"]
    model = step_result["net_" + which]
    optim = step_result["optim_" + which]
    params = dict(model.named_parameters())
    assert sorted(params) == sorted(names)
    grads = step_result["grads"][which]
    before = step_result["before"][which]
    with np.load(REF / f"{which}_params.npz") as z:
        ref = {k: z[k] for k in z.files}
    checked = 0
    for i, name in enumerate(names):
        p = params[name]
        if not ref["has_grad"][i]:
            assert name not in grads, f"{name} got a gradient; the official step gives it none"
            assert torch.equal(p.detach(), before[name]), f"{name} changed without a gradient"
            continue
        g = grads[name].double()
        gmax = float(ref["grad_abs_max"][i])
        if not name.endswith(KEY_BIAS):
            assert float(g.norm()) == pytest.approx(float(ref["grad_norm"][i]), abs=1e-3 * gmax + 1e-12), name
        sel = ref["sample_tensor_id"] == i
        idx = torch.from_numpy(ref["sample_flat_index"][sel].astype(np.int64))
        np.testing.assert_allclose(before[name].flatten()[idx].double().numpy(), ref["sample_before"][sel], atol=1e-7)
        if name.endswith(KEY_BIAS):
            continue
        np.testing.assert_allclose(g.flatten()[idx].numpy(), ref["sample_grad"][sel], atol=1e-3 * gmax + 1e-12,
                                   err_msg=name)
        big = np.abs(ref["sample_grad"][sel]) > 1e-4 * gmax
        after = p.detach().flatten()[idx].double().numpy()
        np.testing.assert_allclose(after[big], ref["sample_after"][sel][big], atol=1e-6, rtol=0, err_msg=name)
        st = optim.state[p]
        np.testing.assert_allclose(st["exp_avg"].flatten()[idx].double().numpy()[big], ref["sample_exp_avg"][sel][big],
                                   atol=1e-3 * 0.2 * gmax + 1e-12, err_msg=name)
        checked += int(big.sum())
    assert checked > 100
