"""Behaviour of our GPT beyond the recorded vectors: cache, sampler, masks, training mode."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from gpt_helpers import CKPT, inputs, vector

from backend.models.gpt import GPTConfig, RecordedDraws, SamplingParams, Text2SemanticDecoder
from backend.models.gpt.masks import prefix_lm_allowed
from backend.models.gpt.sampling import logits_to_probs, penalize_repeats_, sample
from backend.models.gpt.weights import load_gpt

TINY = GPTConfig(hidden_dim=32, embedding_dim=32, head=4, n_layer=2, phoneme_vocab_size=40, linear_units=64)


def _random_model(seed: int = 0, config: GPTConfig = TINY) -> Text2SemanticDecoder:
    torch.manual_seed(seed)
    model = Text2SemanticDecoder(config).eval()
    with torch.no_grad():  # give the constant-initialised parameters some spread
        for name, p in model.named_parameters():
            if "norm" in name or "bias" in name or "alpha" in name:
                p.add_(torch.randn_like(p) * 0.1)
    return model


def _full_pass_logits(model, phones, bert, tokens):
    """Logits for every audio position from one uncached pass over ``[text ; tokens]``."""
    with torch.no_grad():
        text = model.embed_text(phones, bert)
        audio = model.embed_audio(tokens)
        allowed = prefix_lm_allowed(text.shape[1], audio.shape[1])
        h = model.h(torch.cat([text, audio], 1), allowed)
        return model.ar_predict_layer(h[:, text.shape[1] - 1:])


def test_cached_decoding_equals_full_recomputation_past_cache_growth():
    """300 steps (the cache starts with room for 256 and must grow) match an uncached pass."""
    model = _random_model()
    with torch.no_grad():
        model.ar_predict_layer.weight[TINY.EOS] = 0.0  # EOS logit 0: never wins, run to the step limit
    g = torch.Generator().manual_seed(3)
    phones = torch.randint(0, 40, (1, 9), generator=g)
    bert = torch.randn(1, 1024, 9, generator=g)
    prompt = torch.randint(0, 1024, (1, 6), generator=g)
    gen = model.infer(phones, prompt, bert, top_k=5, max_steps=300, record_logits=True,
                      draws=lambda shape, dtype, device: torch.empty(shape, dtype=dtype).exponential_(1, generator=g))
    assert gen.stop == "max_steps" and gen.steps == 300 and gen.generated.shape[0] == 300
    full = _full_pass_logits(model, phones, bert, gen.tokens[:, :-1])  # [1, 6 + 300, V]
    cached = gen.step_logits[:, 0]
    np.testing.assert_allclose(cached.numpy(), full[0, 6:].numpy(), atol=2e-5, rtol=0)


def test_ref_free_positions_start_at_zero():
    model = _random_model(1)
    phones = torch.randint(0, 40, (1, 7))
    bert = torch.zeros(1, 1024, 7)
    gen = model.infer(phones, None, bert, top_k=1, max_steps=20, record_logits=True)
    assert gen.idx == 0 and gen.prompt_len == 0
    assert torch.equal(gen.decoder_tokens, gen.tokens)
    with torch.no_grad():
        text = model.embed_text(phones, bert)
        audio = model.embed_audio(gen.tokens[:, :-1])
        h = model.h(torch.cat([text, audio], 1), prefix_lm_allowed(7, audio.shape[1]))
        full = model.ar_predict_layer(h[:, 6:])
    np.testing.assert_allclose(gen.step_logits[:, 0].numpy(), full[0, : gen.steps].numpy(), atol=2e-5)


def test_decoding_weights_follow_parameter_updates():
    model = load_gpt(CKPT)
    inp = inputs()
    before = model.infer(inp["x"], inp["prompt"], inp["bert"], top_k=1, early_stop_num=200, record_logits=True)
    with torch.no_grad():
        model.h.layers[1].linear2.bias.add_(0.5)  # in place, as an optimiser step would
    after = model.infer(inp["x"], inp["prompt"], inp["bert"], top_k=1, early_stop_num=200, record_logits=True)
    n = min(before.steps, after.steps)
    assert not torch.allclose(before.step_logits[1:n], after.step_logits[1:n])
    expected = _full_pass_logits(model, torch.as_tensor(inp["x"]), torch.as_tensor(inp["bert"]),
                                 after.tokens)  # EOS stop: the last sampled token was already dropped
    assert after.stop == "eos"
    np.testing.assert_allclose(after.step_logits[:, 0].numpy(), expected[0, 25:].numpy(), atol=1e-4)


def test_decoder_tokens_follow_the_official_tail_rule():
    model = load_gpt(CKPT)
    inp = inputs()
    eos_stop = model.infer(inp["x"], inp["prompt"], inp["bert"], top_k=1, early_stop_num=200)
    assert eos_stop.stop == "eos" and torch.equal(eos_stop.decoder_tokens[0], eos_stop.generated)
    early = model.infer(inp["x"], inp["prompt"], inp["bert"], top_k=1, early_stop_num=14)
    assert early.stop == "early_stop" and torch.equal(early.decoder_tokens[0], early.generated[1:])


# -- sampler ---------------------------------------------------------------------------------

def test_repetition_penalty_is_in_place_and_sign_aware():
    logits = torch.tensor([[2.0, -2.0, 1.0, 0.5]])
    penalize_repeats_(logits, torch.tensor([[0, 1, 1]]), 2.0)
    assert logits.tolist() == [[1.0, -4.0, 1.0, 0.5]]


def test_top_p_keeps_the_first_token_and_cuts_at_the_crossing():
    logits = torch.log(torch.tensor([[0.5, 0.3, 0.15, 0.05]]))
    # cumulative 0.5, 0.8, 0.95, 1.0: every token whose cumulative mass exceeds top_p goes
    probs = logits_to_probs(logits.clone(), None, SamplingParams(top_k=None, top_p=0.85))
    assert (probs[0, 2:] == 0).all() and probs[0, 0] > probs[0, 1] > 0
    probs = logits_to_probs(logits.clone(), None, SamplingParams(top_k=None, top_p=0.7))
    assert probs[0].tolist() == [1.0, 0.0, 0.0, 0.0]
    probs = logits_to_probs(logits.clone(), None, SamplingParams(top_k=None, top_p=0.1))
    assert probs[0].tolist() == [1.0, 0.0, 0.0, 0.0]  # the first token always stays


def test_top_k_keeps_ties_and_temperature_sharpens():
    logits = torch.tensor([[1.0, 3.0, 3.0, 0.0]])
    probs = logits_to_probs(logits.clone(), None, SamplingParams(top_k=1))
    assert probs[0].tolist() == [0.0, 0.5, 0.5, 0.0]
    cold = logits_to_probs(torch.tensor([[1.0, 2.0]]), None, SamplingParams(top_k=None, temperature=0.5))
    warm = logits_to_probs(torch.tensor([[1.0, 2.0]]), None, SamplingParams(top_k=None, temperature=2.0))
    assert cold[0, 1] > warm[0, 1]


def test_exponential_race_uses_the_given_draws():
    logits = torch.zeros(2, 3)
    draws = RecordedDraws([np.array([[1.0, 0.1, 1.0, np.nan], [0.2, 1.0, 0.05, np.nan]])])
    tok = sample(logits, None, SamplingParams(top_k=None, repetition_penalty=1.0), draws)
    assert tok.tolist() == [[1], [2]] and draws.used == 1
    with pytest.raises(IndexError):
        sample(logits, None, SamplingParams(top_k=None), draws)


# -- training forward --------------------------------------------------------------------------

def test_right_text_padding_makes_batch_rows_independent():
    """With ``text_padding='right'`` a padded row scores as it would alone (not so officially)."""
    model = load_gpt(CKPT)
    v = vector("forward_old_batch2")
    with torch.no_grad():
        fixed = model.forward_train(v["x"], v["x_lens"], v["y"], v["y_lens"], v["bert"], text_padding="right")
        alone = model.forward_train(v["x"][1:, :22], [22], v["y"][1:, :33], [33], v["bert"][1:, :, :22])
        official = model.forward_train(v["x"], v["x_lens"], v["y"], v["y_lens"], v["bert"])
    # audio positions (index 1 on) of row 1 agree with row 1 alone; index 0 of the batch is read
    # at the longest text's last position, which for row 1 is a pad
    np.testing.assert_allclose(fixed.logits[1, 1:34].numpy(), alone.logits[0, 1:].numpy(), atol=1e-4)
    assert not np.allclose(official.logits[1, 1:34].numpy(), alone.logits[0, 1:].numpy(), atol=1e-2)
    np.testing.assert_allclose(fixed.logits[0].numpy(), official.logits[0].numpy(), atol=1e-5)


def test_training_mode_uses_dropout_and_gives_gradients():
    model = _random_model(2)
    g = torch.Generator().manual_seed(5)
    x = torch.randint(0, 40, (2, 8), generator=g)
    y = torch.randint(0, 1024, (2, 12), generator=g)
    bert = torch.randn(2, 1024, 8, generator=g)
    lens_x, lens_y = torch.tensor([8, 6]), torch.tensor([12, 9])
    with torch.no_grad():
        eval_loss = model.forward_train(x, lens_x, y, lens_y, bert).loss
    model.train()
    torch.manual_seed(0)
    out = model.forward_train(x, lens_x, y, lens_y, bert)
    assert out.loss.item() != pytest.approx(eval_loss.item())
    out.loss.backward()
    for name, p in model.named_parameters():
        assert p.grad is not None and torch.isfinite(p.grad).all(), name
    dpo = model.forward_dpo(x, lens_x, y, lens_y, bert, generator=torch.Generator().manual_seed(1))
    assert torch.isfinite(dpo.loss) and dpo.loss.item() == pytest.approx((dpo.ce_loss + dpo.dpo_term).item())


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_generation_matches_cpu_tokens():
    cpu = load_gpt(CKPT)
    gpu = load_gpt(CKPT, device="cuda")
    inp = inputs()
    a = cpu.infer(inp["x"], inp["prompt"], inp["bert"], top_k=1, early_stop_num=200)
    b = gpu.infer(inp["x"], inp["prompt"], inp["bert"], top_k=1, early_stop_num=200)
    assert torch.equal(a.tokens, b.tokens.cpu()) and a.idx == b.idx


def test_half_stored_and_float32_decoding_agree():
    """Weights from a file are exact float16 values, so the half-storage kernels change nothing."""
    model = load_gpt(CKPT)
    inp = inputs()
    v = vector("infer_panel_topk15_seed1000")
    fast = model.infer(inp["x"], inp["prompt"], inp["bert"], top_k=15, early_stop_num=200,
                       draws=RecordedDraws(v["exp_draws"]), record_logits=True)
    expect_half = "fbgemm" in torch.backends.quantized.supported_engines
    assert model.decode_weights().half_stored is expect_half
    model._decode_weights.allow_half_storage = False
    plain = model.infer(inp["x"], inp["prompt"], inp["bert"], top_k=15, early_stop_num=200,
                        draws=RecordedDraws(v["exp_draws"]), record_logits=True)
    assert model.decode_weights().half_stored is False
    assert torch.equal(fast.tokens, plain.tokens)
    np.testing.assert_allclose(fast.step_logits.numpy(), plain.step_logits.numpy(), atol=1e-5)
    # a model whose weights are not float16 values never takes the float16 path
    assert _random_model(4).decode_weights().half_stored is False


def test_inputs_that_cannot_work_are_refused_early():
    model = load_gpt(CKPT)
    inp = inputs()
    with pytest.raises(ValueError, match="BERT"):
        model.infer(inp["x"], inp["prompt"], inp["bert"][:, :, :10])
    with pytest.raises(ValueError, match="symbol table"):
        model.infer(np.full((1, 4), 900), None, np.zeros((1, 1024, 4), np.float32))
    with pytest.raises(ValueError, match="no phonemes"):
        model.infer(np.zeros((1, 0), np.int64), None, np.zeros((1, 1024, 0), np.float32))


def test_a_private_generator_reproduces_without_the_global_one():
    model = load_gpt(CKPT)
    inp = inputs()
    runs = [model.infer(inp["x"], inp["prompt"], inp["bert"], top_k=15, early_stop_num=40,
                        generator=torch.Generator().manual_seed(11)) for _ in range(2)]
    assert torch.equal(runs[0].tokens, runs[1].tokens)
    batch = [model.infer_batch([inp["x"][0], inp["x2"][0]], inp["prompt"], [inp["bert"][0], inp["bert2"][0]],
                               top_k=15, early_stop_num=40, generator=torch.Generator().manual_seed(11))
             for _ in range(2)]
    assert all(torch.equal(a, b) for a, b in zip(batch[0].tokens, batch[1].tokens))


def test_training_dropout_can_be_switched_off():
    model = _random_model(6)
    g = torch.Generator().manual_seed(2)
    x, y = torch.randint(0, 40, (1, 6), generator=g), torch.randint(0, 1024, (1, 9), generator=g)
    bert = torch.randn(1, 1024, 6, generator=g)
    with torch.no_grad():
        ref = model.forward_train(x, [6], y, [9], bert).loss
    model.train()
    model.set_train_dropout(0.0)
    state = torch.random.get_rng_state()
    assert torch.allclose(model.forward_train(x, [6], y, [9], bert).loss, ref)
    assert torch.equal(torch.random.get_rng_state(), state)  # nothing random happened
