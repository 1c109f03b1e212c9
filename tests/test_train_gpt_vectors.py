"""The GPT trainer against one official training step (fixtures/train_s1, see its README).

Official conditions reproduced: the tiny GPT (``gpt_v2_tiny.ckpt``) in float32, dropout off (the
reference turned the hard-coded 0.1 dropouts off; here ``model.eval()`` does the same), the
official left-pad text mask (``text_padding="official"``), the official collate batch of the two
formatted fixture clips. Tolerances are the README's.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from backend.train.gpt import GPTTrainer, load_base

FIX = Path(__file__).parent / "fixtures"
REF = FIX / "train_s1"
BASE = FIX / "gpt_v2_tiny" / "gpt_v2_tiny.ckpt"
KEY_PART = slice(64, 128)  # the key third of in_proj_bias: exact gradient 0, noise in the reference


pytestmark = pytest.mark.usefixtures("one_thread")  # the reference allows 1 or 2; one is faster here


def _batch() -> dict[str, torch.Tensor]:
    z = np.load(REF / "batch.npz")
    return {k: torch.from_numpy(z[k]) for k in z.files}


def _trainer(dpo: bool = False) -> GPTTrainer:
    model = load_base(BASE)
    model.eval()  # dropout off, as in the reference
    return GPTTrainer(model, dpo=dpo, text_padding="official")


def _assert_params(model: torch.nn.Module, ref_name: str) -> None:
    ref = np.load(REF / ref_name)
    for name, p in model.named_parameters():
        got, want = p.detach().numpy(), ref[name]
        if "in_proj_bias" in name:
            got, want = np.delete(got, np.r_[KEY_PART]), np.delete(want, np.r_[KEY_PART])
        np.testing.assert_allclose(got, want, rtol=0, atol=1e-7, err_msg=name)


def test_collate_of_the_formatted_clips_is_the_official_batch(tmp_path):
    from backend.train.data import ExpFolder
    from backend.train.gpt_data import GPTDataset, collate

    ds = GPTDataset(ExpFolder(FIX / "format" / "exp", "v2"))
    names = json.loads((REF / "meta.json").read_text())["batch"]["item_names"]
    by_key = {it.key: it for it in ds.items}
    batch = collate([by_key[n] for n in names])
    ref = _batch()
    for k in ("phoneme_ids", "phoneme_ids_len", "semantic_ids", "semantic_ids_len"):
        assert torch.equal(batch[k], ref[k]), k
    torch.testing.assert_close(batch["bert_feature"], ref["bert_feature"], rtol=0, atol=1e-6)
    assert len(ds) == 100  # 2 clips repeated max(2, 100 // 2) times


def test_forward_loss_and_gradients_match_the_official_step():
    tr = _trainer()
    loss, acc, terms = tr.loss(_batch())
    fwd = np.load(REF / "forward.npz")
    assert float(loss.detach()) == pytest.approx(float(fwd["loss"]), rel=1e-5)
    assert acc == float(fwd["acc"])
    assert terms["total"] == pytest.approx(995.45569, rel=1e-5)
    loss.backward()
    grads = np.load(REF / "grads_batch0.npz")
    names = [n for n, _ in tr.model.named_parameters()]
    assert sorted(names) == sorted(grads.files)
    for name, p in tr.model.named_parameters():
        want = grads[name]
        np.testing.assert_allclose(p.grad.numpy(), want, rtol=0, atol=1e-4 * max(np.abs(want).max(), 1e-12),
                                   err_msg=name)


def test_official_accumulate_then_step_schedule():
    tr = _trainer()
    batch = _batch()
    stepped = [tr.train_batch(batch, i).stepped for i in range(5)]
    assert stepped == [False, False, False, False, True]
    assert tr.steps == 1
    assert all(p.grad is None for p in tr.model.parameters())
    _assert_params(tr.model, "params_after_official_step.npz")
    assert tr.lr == pytest.approx(0.002)  # the first step ran at 0.01, the schedule locks 0.002 after it


def test_single_step():
    tr = _trainer()
    loss, _acc, _terms = tr.loss(_batch())
    loss.backward()
    tr.step_optimizer()
    _assert_params(tr.model, "params_after_single_step.npz")


def test_dpo_loss_with_the_recorded_draws():
    ref = np.load(REF / "dpo.npz")
    meta = json.loads((REF / "meta.json").read_text())
    tr = _trainer(dpo=True)
    torch.manual_seed(meta["seeds"]["dpo"])
    from backend.models.gpt.training import forward_dpo

    b = _batch()
    out = forward_dpo(tr.model, b["phoneme_ids"], b["phoneme_ids_len"], b["semantic_ids"], b["semantic_ids_len"],
                      b["bert_feature"], text_padding="official")
    assert torch.equal(out.reject_y, torch.from_numpy(ref["reject_y"]))
    assert out.reject_y_lens.tolist() == ref["reject_y_lens"].tolist()
    np.testing.assert_allclose(out.logp_chosen.detach().numpy(), ref["logp_chosen"], rtol=1e-5)
    np.testing.assert_allclose(out.logp_rejected.detach().numpy(), ref["logp_rejected"], rtol=1e-5)
    assert float(out.dpo_term.detach()) == pytest.approx(float(ref["dpo_loss_term"]), rel=1e-4)
    assert float(out.loss.detach()) == pytest.approx(float(ref["loss"]), rel=1e-5)
    # the trainer's DPO path draws the same rows from the same seed
    torch.manual_seed(meta["seeds"]["dpo"])
    loss, _acc, terms = tr.loss(b)
    assert float(loss.detach()) == pytest.approx(float(ref["loss"]), rel=1e-5)
    assert set(terms) == {"total", "ce", "dpo"}


@pytest.mark.parametrize("dpo", [False, True])
@pytest.mark.slow
def test_fp16_autocast_steps_on_cpu_as_a_gpu_stand_in(dpo: bool, monkeypatch) -> None:
    """The ``16-mixed`` path (fp16 autocast + GradScaler around ScaledAdam) run on the CPU because
    no GPU is available here; production enables it only on capable GPUs."""
    import backend.train.gpt as gpt_train

    monkeypatch.setattr(gpt_train, "precision_for", lambda device, want=True: bool(want))
    model = load_base(BASE)
    model.eval()
    tr = GPTTrainer(model, dpo=dpo, text_padding="official", fp16=True)
    assert tr.amp and tr.scaler.is_enabled()
    before = {n: p.detach().clone() for n, p in model.named_parameters()}
    batch = _batch()
    for i in range(40):  # the scaler starts at 2**16 and skips steps whose gradients overflow
        loss = tr.train_batch(batch, i).loss
        assert np.isfinite(loss)
        if any(not torch.equal(before[n], p.detach()) for n, p in model.named_parameters()):
            break
    else:
        raise AssertionError(f"no step was applied (scale now {tr.scaler.get_scale()})")
    assert all(torch.isfinite(p).all() for p in model.parameters())
