"""The TTS pipeline end to end on tiny random models (the committed tiny GPT/SoVITS/HuBERT
weights and a tiny BERT built here): every slicing method, the languages, ref-free mode,
several references, seeds, speed, streaming, and the named errors for unusable weights.

Random models say nothing; what is checked is what the pipeline must get right regardless:
pieces = the official chunks, phones = the official ids, BERT only on Chinese segments,
audio length = Σ (tokens · 1280 samples + pause), 16-bit wav at the version's rate."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")

from backend.infer.errors import IncompatibleModelsError, MissingWeightsError  # noqa: E402
from backend.infer.models import load_models  # noqa: E402
from backend.infer.params import SynthesisParams  # noqa: E402
from backend.infer.pipeline import REF_FREE_WARNING, Synthesizer  # noqa: E402
from backend.models.errors import WeightsFileError  # noqa: E402

from infer_helpers import GPT, HUBERT, MAX_TOKENS, SOVITS, build_tiny_bert, write_voice  # noqa: E402
from text_records import frontend_data_or_skip, load_records  # noqa: E402

HOP = 1280  # output samples per semantic token at speed 1 (25 Hz tokens, 32 kHz audio)
EN = "The quick brown fox jumps over the lazy dog. It was not amused, and said so. Then it slept."


@pytest.fixture(scope="session")
def tiny_bert(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_bert(tmp_path_factory.mktemp("bert"))


@pytest.fixture(scope="module")
def synth(tiny_bert: Path) -> Synthesizer:
    frontend_data_or_skip()
    from backend.text.langsplit import _lite_model, use_langid_model

    use_langid_model(_lite_model())  # the records were made with the lite language model
    models = load_models(GPT, SOVITS, hubert_dir=HUBERT, bert_dir=tiny_bert, device="cpu")
    return Synthesizer(models, max_tokens=MAX_TOKENS)


@pytest.fixture(scope="module")
def ref(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_voice(tmp_path_factory.mktemp("ref") / "ref.wav", 4.0, seed=7)


def params(ref: Path, **kw) -> SynthesisParams:
    base = dict(text=EN, lang="en", ref=str(ref), ref_text="A short sentence for the voice.", ref_lang="en",
                seed=1234, allow_pypinyin=True)  # no G2PW offline: v2 Chinese is read with pypinyin, explicitly
    base.update(kw)
    return SynthesisParams(**base)


def assert_plausible(result, p: SynthesisParams) -> None:
    pause = int(round(result.sample_rate * p.pause))
    assert result.sample_rate == 32000
    assert result.pieces, "no pieces"
    for piece in result.pieces:
        assert 1 <= piece.tokens <= MAX_TOKENS
        expected = piece.tokens * HOP if p.speed == 1 else 640 * (int(2 * piece.tokens / p.speed) + 1)
        assert round(piece.seconds * result.sample_rate) == expected
    total = sum(round(x.seconds * result.sample_rate) + pause for x in result.pieces)
    assert len(result.audio) == total
    assert np.isfinite(result.audio).all() and np.abs(result.audio).max() <= 1.0


@pytest.mark.parametrize("method", ["cut0", "cut1", "cut2", "cut3", "cut4", "cut5"])
def test_each_slicing_method(synth: Synthesizer, ref: Path, tmp_path: Path, method: str) -> None:
    from backend.text.cutting import split_for_inference

    p = params(ref, cut=method)
    result = synth.synthesize(p)
    assert [x.text for x in result.pieces] == split_for_inference(EN, "en", method)
    assert_plausible(result, p)
    out = tmp_path / "take.wav"
    result.save(out)
    info = sf.info(out)
    assert (info.samplerate, info.subtype, info.channels) == (32000, "PCM_16", 1)
    assert info.frames == len(result.audio)


@pytest.mark.parametrize(("text", "lang", "langs"), [
    ("今天天气很好，我们去公园散步吧。", "all_zh", {"zh"}),
    ("こんにちは、今日はいい天気ですね。", "all_ja", {"ja"}),
    ("我今天学习了Python编程，感觉很有意思。", "zh", {"zh", "en"}),
    ("Hello everyone, nice to meet you.", "en", {"en"}),
])
def test_languages(synth: Synthesizer, ref: Path, text: str, lang: str, langs: set[str]) -> None:
    p = params(ref, text=text, lang=lang, cut="cut5", batch_size=4)
    pieces = synth.text_pieces(p)
    assert {seg for piece in pieces for seg in piece.langs} == langs
    for piece in pieces:
        assert tuple(piece.bert.shape) == (1024, len(piece.ids))
        if "zh" not in piece.langs:
            assert not piece.bert.any()
        else:
            assert piece.bert.abs().sum() > 0
    result = synth.synthesize(p)
    assert [x.text for x in result.pieces] == [x.text for x in pieces]
    assert_plausible(result, p)


def test_ref_free_mode_warns_and_speaks(synth: Synthesizer, ref: Path) -> None:
    p = params(ref, ref_text=None, cut="cut4")
    result = synth.synthesize(p)
    assert REF_FREE_WARNING in result.warnings
    assert_plausible(result, p)


def test_seed_reproduces_and_random_seed_is_reported(synth: Synthesizer, ref: Path) -> None:
    text = "One sentence only, to keep it short."
    r = synth.synthesize(params(ref, text=text, cut="cut0", seed=-1))
    assert 0 <= r.seed < 2**32
    again = synth.synthesize(params(ref, text=text, cut="cut0", seed=r.seed))
    assert again.seed == r.seed and np.array_equal(r.audio, again.audio)


def test_speed_changes_length_as_official(synth: Synthesizer, ref: Path) -> None:
    p = params(ref, text="One sentence only, to keep it short.", cut="cut0", speed=1.25, pause=0.1)
    assert_plausible(synth.synthesize(p), p)


def test_extra_references_change_timbre_not_tokens(synth: Synthesizer, ref: Path, tmp_path: Path) -> None:
    other = write_voice(tmp_path / "other.wav", 6.0, seed=99)
    p1 = params(ref, text="One sentence only, to keep it short.", cut="cut0")
    p2 = params(ref, text=p1.text, cut="cut0", aux_refs=[str(other)])
    one, two = synth.synthesize(p1), synth.synthesize(p2)
    assert [x.tokens for x in one.pieces] == [x.tokens for x in two.pieces]
    assert len(one.audio) == len(two.audio) and not np.array_equal(one.audio, two.audio)


def test_streamed_pieces_are_the_final_audio_in_order(synth: Synthesizer, ref: Path) -> None:
    got: list[tuple[int, np.ndarray]] = []
    p = params(ref, cut="cut5", batch_size=3)
    result = synth.synthesize(p, on_piece=lambda i, audio, sr: got.append((i, audio.copy())))
    assert [i for i, _ in got] == list(range(len(result.pieces)))
    pause = int(round(32000 * p.pause))
    pos = 0
    for _, audio in got:
        assert np.array_equal(result.audio[pos:pos + len(audio)], audio)
        pos += len(audio) + pause


def _by_group(records: list[dict]) -> list[dict]:
    """One paragraph per (category, language), uncut (cut0) and cut at every mark (cut5); the
    text frontend's own tests cover every record's phones, this adds the pipeline's BERT side."""
    first: dict[tuple[str, str], str] = {}
    for r in records:
        first.setdefault((r["category"], r["language"]), r["sentence_id"])
    return [r for r in records if first[(r["category"], r["language"])] == r["sentence_id"]
            and r["text_split_method"] in ("cut0", "cut5")]


PREPROCESS = _by_group(load_records("text_cutting/preprocess.jsonl.gz"))


@pytest.mark.parametrize("record", PREPROCESS,
                         ids=[f"{r['sentence_id']}-{r['language']}-{r['text_split_method']}" for r in PREPROCESS])
def test_pieces_match_the_official_preprocess_records(synth: Synthesizer, ref: Path, record: dict) -> None:
    p = params(ref, text=record["input"], lang=record["language"], cut=record["text_split_method"])
    pieces = synth.text_pieces(p)
    kept = [c for c in record["chunks"] if c["norm_text"]]
    assert [(x.text, x.ids) for x in pieces] == [(c["text"], c["ids"]) for c in kept]
    for piece in pieces:
        assert tuple(piece.bert.shape) == (1024, len(piece.ids))
        assert bool(piece.bert.any()) == ("zh" in piece.langs)


def _prompt_records() -> list[dict]:
    with gzip.open(Path(__file__).parent / "fixtures" / "text_mixed" / "inference.jsonl.gz", "rt",
                   encoding="utf-8") as f:
        rows = [json.loads(line) for line in f if line.strip()]
    chosen: dict[str, list[dict]] = {}
    for r in rows:
        if r["version"] == "v2" and r["input"].strip() and r["input"][-1] in "，。？！,.?!~:：—…" \
                and len(chosen.setdefault(r["language"], [])) < 2:
            chosen[r["language"]].append(r)
    return [r for group in chosen.values() for r in group]


PROMPTS = _prompt_records()


@pytest.mark.parametrize("record", PROMPTS, ids=[f"{r['sentence_id']}-{r['language']}" for r in PROMPTS])
def test_prompt_phones_match_the_official_inference_records(synth: Synthesizer, record: dict) -> None:
    from backend.infer.text import prompt_piece

    m = synth.models
    piece = prompt_piece(record["input"], record["language"], "v2", m.bert, m.placement.dtype)
    assert piece is not None and piece.ids == record["ids"]
    assert tuple(piece.bert.shape) == (1024, len(record["ids"]))


def test_blank_reference_text_means_ref_free(synth: Synthesizer) -> None:
    from backend.infer.text import prompt_piece

    assert prompt_piece("  \n", "all_zh", "v2", synth.models.bert, torch.float32) is None


# --- weights --------------------------------------------------------------------------------

def _v1_gpt(path: Path) -> Path:
    """The tiny GPT cut down to the v1 phoneme set (512 rows), saved as an official file."""
    from backend.models.gpt_weights import read_gpt_file
    from backend.models.safe_pickle import save_checkpoint

    g = read_gpt_file(GPT)
    sd = dict(g.state_dict)
    sd["ar_text_embedding.word_embeddings.weight"] = sd["ar_text_embedding.word_embeddings.weight"][:512].clone()
    config = dict(g.config)
    config["model"] = dict(config["model"], phoneme_vocab_size=512)
    path.write_bytes(save_checkpoint({"weight": {f"model.{k}": v for k, v in sd.items()}, "config": config,
                                      "info": "GPT-e1"}))
    return path


def test_missing_weights_are_named(tmp_path: Path) -> None:
    with pytest.raises(MissingWeightsError):
        load_models(tmp_path / "none.ckpt", SOVITS)
    with pytest.raises(MissingWeightsError):
        load_models(GPT, None)


def test_mismatched_symbol_sets_are_refused(tmp_path: Path) -> None:
    with pytest.raises(IncompatibleModelsError) as e:
        load_models(_v1_gpt(tmp_path / "v1-e1.ckpt"), SOVITS)
    assert "v1" in e.value.message and "v2" in e.value.message and e.value.fix


def test_swapped_weights_are_named(tmp_path: Path) -> None:
    with pytest.raises(WeightsFileError):
        load_models(SOVITS, GPT)
    bad = tmp_path / "broken.ckpt"
    bad.write_bytes(GPT.read_bytes()[:1000])
    with pytest.raises(WeightsFileError):
        load_models(bad, SOVITS)
