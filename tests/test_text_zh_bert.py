"""BERT features: layer choice, per-phone expansion and shapes, on a tiny random BERT.

The real chinese-roberta-wwm-ext-large (1.3 GB) is not available offline; a 4-layer BERT
with a character vocabulary is built and saved here, then loaded through the same loader.
"""

from __future__ import annotations

from pathlib import Path

import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

from text_records import frontend_data_or_skip  # noqa: E402

from backend.text.bert import (  # noqa: E402
    BertFeatureError,
    ChineseBert,
    chinese_features,
    phone_features,
)
from backend.text.cleaner import clean_text  # noqa: E402

frontend_data_or_skip()

TEXT = "你好，世界！我有3个苹果。"


@pytest.fixture(scope="session")
def tiny_bert_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("tiny_bert")
    norm = clean_text(TEXT, "zh", "v2").norm_text
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *sorted(set(norm))]
    (folder / "vocab.txt").write_text("\n".join(vocab) + "\n", encoding="utf-8")
    tokenizer = transformers.BertTokenizerFast(vocab_file=str(folder / "vocab.txt"))
    tokenizer.save_pretrained(str(folder))
    torch.manual_seed(0)
    config = transformers.BertConfig(vocab_size=len(vocab), hidden_size=16, num_hidden_layers=4,
                                     num_attention_heads=2, intermediate_size=32,
                                     max_position_embeddings=64)
    transformers.BertForMaskedLM(config).save_pretrained(str(folder))
    return folder


@pytest.mark.slow
def test_features_repeat_layer_minus_3_per_phone(tiny_bert_dir: Path) -> None:
    bert = ChineseBert.load(tiny_bert_dir)
    phones, word2ph, norm = clean_text(TEXT, "zh", "v2")
    features = chinese_features(bert, norm, word2ph)
    assert features.shape == (16, len(phones))

    ids = [bert.tokenizer.cls_token_id,
           *bert.tokenizer.convert_tokens_to_ids(list(norm)),
           bert.tokenizer.sep_token_id]
    with torch.inference_mode():
        states = bert.model(torch.tensor([ids]), output_hidden_states=True).hidden_states
    assert len(states) == 5
    layer = states[2][0]  # third-to-last of 5 (embeddings + 4 layers)
    column = 0
    for char_index, count in enumerate(word2ph):
        for _ in range(count):
            torch.testing.assert_close(features[:, column], layer[char_index + 1])
            column += 1
    assert column == len(phones)
    # a different layer would not match: the choice of layer is really tested
    assert not torch.allclose(features[:, 0], states[-1][0][1])


def test_other_languages_get_zeros(tiny_bert_dir: Path) -> None:
    bert = ChineseBert.load(tiny_bert_dir)
    zeros = phone_features("en", 7, bert=bert, dim=16)
    assert zeros.shape == (16, 7) and not zeros.any()
    assert phone_features("ja", 3).shape == (1024, 3)


def test_misaligned_word2ph_is_a_clear_error(tiny_bert_dir: Path) -> None:
    bert = ChineseBert.load(tiny_bert_dir)
    with pytest.raises(BertFeatureError):
        chinese_features(bert, "你好", [2])
    with pytest.raises(BertFeatureError):
        phone_features("zh", 5, "你好", [2, 2], bert=bert)


def test_missing_model_folder(tmp_path: Path) -> None:
    with pytest.raises(BertFeatureError) as caught:
        ChineseBert.load(tmp_path)
    assert caught.value.fix


@pytest.mark.slow
def test_text_longer_than_the_positions_is_read_in_windows(tiny_bert_dir: Path) -> None:
    bert = ChineseBert.load(tiny_bert_dir)  # 64 positions: windows of 62 characters
    phones, word2ph, norm = clean_text(TEXT * 8, "zh", "v2")
    assert len(norm) > 62
    features = chinese_features(bert, norm, word2ph)
    assert features.shape == (16, len(phones))
    head = chinese_features(bert, norm[:62], word2ph[:62])
    torch.testing.assert_close(features[:, : sum(word2ph[:62])], head)


@pytest.mark.slow
def test_mixed_segments_join_bert_and_zeros(tiny_bert_dir: Path) -> None:
    from backend.text.bert import segment_features
    from backend.text.langsplit import phones_for_option

    bert = ChineseBert.load(tiny_bert_dir)
    result = phones_for_option("你好Python世界", "zh", "v2")  # zh: non-English items are zh
    assert [s.lang for s in result.segments] == ["zh", "en", "zh"]
    features = segment_features(result.segments, bert)
    assert features.shape == (16, len(result.phones))
    column = 0
    for seg in result.segments:
        part = features[:, column: column + len(seg.phones)]
        if seg.lang == "zh":
            torch.testing.assert_close(part, chinese_features(bert, seg.norm_text, seg.word2ph))
        else:
            assert not part.any()
        column += len(seg.phones)
