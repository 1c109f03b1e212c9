"""Tiny ASR models with random weights, built offline, for running the REAL engines in tests.

- Whisper: a 1-layer WhisperForConditionalGeneration from transformers with a byte-level
  tokenizer we assemble ourselves (256 byte tokens + Whisper's special and language tokens),
  converted with CTranslate2's converter into the folder faster-whisper loads.
- Paraformer: a tiny FunASR Paraformer folder (config.yaml, model.pt, tokens.json) that FunASR's
  AutoModel loads as a local model.

What they recognise is random; tests check formats, paths, languages and error handling.
"""

from __future__ import annotations

import json
from pathlib import Path

# Whisper's language codes in its token order (faster-whisper checks codes against this set).
WHISPER_LANGS = (
    "en zh de es ru ko fr ja pt tr pl ca nl ar sv it id hi fi vi he uk el ms cs ro da hu ta no th ur hr bg "
    "lt la mi ml cy sk te fa lv bn sr az sl kn et mk br eu is hy ne mn bs kk sq sw gl mr pa si km sn yo so "
    "af oc ka be tg sd gu am yi lo uz fo ht ps tk nn mt sa lb my bo tl mg as tt haw ln ha ba jw su yue"
).split()


def _byte_chars() -> list[str]:
    """The printable stand-ins byte-level BPE uses for the 256 byte values."""
    keep = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    out, extra = {}, 0
    for b in range(256):
        if b in keep:
            out[b] = chr(b)
        else:
            out[b] = chr(256 + extra)
            extra += 1
    return [out[b] for b in range(256)]


WHISPER_SIZES = {  # transformer dimensions of the official checkpoints (vocabulary aside), for benchmarks
    "small": {"d_model": 768, "encoder_layers": 12, "decoder_layers": 12, "encoder_attention_heads": 12,
              "decoder_attention_heads": 12, "encoder_ffn_dim": 3072, "decoder_ffn_dim": 3072},
    "medium": {"d_model": 1024, "encoder_layers": 24, "decoder_layers": 24, "encoder_attention_heads": 16,
               "decoder_attention_heads": 16, "encoder_ffn_dim": 4096, "decoder_ffn_dim": 4096},
}


def build_tiny_whisper(out_dir: Path, dims: dict[str, int] | None = None) -> Path:
    """Write a faster-whisper model folder to ``out_dir`` and return it (``dims``: transformer
    sizes instead of the tiny ones, e.g. ``WHISPER_SIZES["small"]``)."""
    import ctranslate2
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers
    from transformers import GenerationConfig, PreTrainedTokenizerFast, WhisperConfig, WhisperForConditionalGeneration

    work = out_dir.parent / (out_dir.name + ".hf")
    vocab = {ch: i for i, ch in enumerate(_byte_chars())}
    tok = Tokenizer(models.BPE(vocab=vocab, merges=[]))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    lang_tokens = [f"<|{c}|>" for c in WHISPER_LANGS]
    specials = (["<|endoftext|>", "<|startoftranscript|>"] + lang_tokens +
                ["<|translate|>", "<|transcribe|>", "<|startoflm|>", "<|startofprev|>", "<|nospeech|>",
                 "<|notimestamps|>"])
    tok.add_special_tokens(specials)
    n_timestamps = 1501
    # One spare id at the end: CTranslate2 treats a Whisper vocabulary as multilingual only when
    # it holds an empty-string token, so the spare becomes "" after conversion.
    vocab_size = tok.get_vocab_size() + n_timestamps + 1
    ids = {t: tok.token_to_id(t) for t in specials}

    torch.manual_seed(0)
    sizes = {"encoder_layers": 1, "encoder_attention_heads": 2, "decoder_layers": 1, "decoder_attention_heads": 2,
             "d_model": 32, "encoder_ffn_dim": 64, "decoder_ffn_dim": 64}
    sizes.update(dims or {})
    cfg = WhisperConfig(
        vocab_size=vocab_size, num_mel_bins=80, **sizes,
        max_source_positions=1500, max_target_positions=448,
        pad_token_id=ids["<|endoftext|>"], bos_token_id=ids["<|endoftext|>"], eos_token_id=ids["<|endoftext|>"],
        decoder_start_token_id=ids["<|startoftranscript|>"],
    )
    model = WhisperForConditionalGeneration(cfg).eval()
    with torch.no_grad():  # make end-of-text likely so random decoding stops early
        model.proj_out.weight.mul_(0.1)
    model.generation_config = GenerationConfig(
        decoder_start_token_id=ids["<|startoftranscript|>"], eos_token_id=ids["<|endoftext|>"],
        pad_token_id=ids["<|endoftext|>"], suppress_tokens=[], begin_suppress_tokens=[ids["<|endoftext|>"]],
        no_timestamps_token_id=ids["<|notimestamps|>"],
        lang_to_id={t: ids[t] for t in lang_tokens},
        is_multilingual=True,
    )
    model.save_pretrained(work)
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, additional_special_tokens=specials[2:],
                                   unk_token=None, eos_token="<|endoftext|>", bos_token="<|endoftext|>")
    fast.save_pretrained(work)
    ctranslate2.converters.TransformersConverter(str(work)).convert(str(out_dir), force=True)
    vocabulary = json.loads((out_dir / "vocabulary.json").read_text(encoding="utf-8"))
    vocabulary[-1] = ""
    (out_dir / "vocabulary.json").write_text(json.dumps(vocabulary), encoding="utf-8")
    tok.save(str(out_dir / "tokenizer.json"))
    (out_dir / "preprocessor_config.json").write_text(json.dumps({"feature_size": 80, "sampling_rate": 16000,
                                                                  "hop_length": 160, "chunk_length": 30,
                                                                  "n_fft": 400}))
    return out_dir


PARAFORMER_CONFIG = """\
model: Paraformer
model_conf:
  ctc_weight: 0.0
  lsm_weight: 0.1
  length_normalized_loss: true
  predictor_weight: 1.0
  predictor_bias: 1
  sampling_ratio: 0.75
encoder: SANMEncoder
encoder_conf:
  output_size: 32
  attention_heads: 2
  linear_units: 64
  num_blocks: 1
  dropout_rate: 0.0
  positional_dropout_rate: 0.0
  attention_dropout_rate: 0.0
  input_layer: pe
  pos_enc_class: SinusoidalPositionEncoder
  normalize_before: true
  kernel_size: 11
  sanm_shfit: 0
  selfattention_layer_type: sanm
decoder: ParaformerSANMDecoder
decoder_conf:
  attention_heads: 2
  linear_units: 64
  num_blocks: 1
  dropout_rate: 0.0
  positional_dropout_rate: 0.0
  self_attention_dropout_rate: 0.0
  src_attention_dropout_rate: 0.0
  att_layer_num: 1
  kernel_size: 11
  sanm_shfit: 0
predictor: CifPredictorV2
predictor_conf:
  idim: 32
  threshold: 1.0
  l_order: 1
  r_order: 1
  tail_threshold: 0.45
frontend: WavFrontend
frontend_conf:
  fs: 16000
  window: hamming
  n_mels: 80
  frame_length: 25
  frame_shift: 10
  lfr_m: 7
  lfr_n: 6
specaug: null
tokenizer: CharTokenizer
tokenizer_conf:
  unk_symbol: <unk>
  split_with_space: true
"""


def build_tiny_paraformer(out_dir: Path) -> Path:
    """Write a FunASR Paraformer folder (config.yaml, model.pt, tokens.json) with random weights."""
    import funasr.models.paraformer.model  # noqa: F401  (registers the classes)
    import torch
    import yaml
    from funasr.register import tables

    out_dir.mkdir(parents=True, exist_ok=True)
    chars = [chr(0x4E00 + i) for i in range(400)]  # CJK ideographs as the character vocabulary
    tokens = ["<blank>", "<s>", "</s>"] + chars + ["<unk>"]
    (out_dir / "tokens.json").write_text(json.dumps(tokens, ensure_ascii=False), encoding="utf-8")
    (out_dir / "config.yaml").write_text(PARAFORMER_CONFIG, encoding="utf-8")
    conf = yaml.safe_load(PARAFORMER_CONFIG)
    torch.manual_seed(0)
    model_cls = tables.model_classes["Paraformer"]
    frontend_out = conf["frontend_conf"]["n_mels"] * conf["frontend_conf"]["lfr_m"]
    model = model_cls(**conf["model_conf"], encoder=conf["encoder"], encoder_conf=conf["encoder_conf"],
                      decoder=conf["decoder"], decoder_conf=conf["decoder_conf"], predictor=conf["predictor"],
                      predictor_conf=conf["predictor_conf"], input_size=frontend_out, vocab_size=len(tokens))
    torch.save(model.state_dict(), out_dir / "model.pt")
    return out_dir


NANO_CONFIG = """\
model: FunASRNano
model_conf:
  lsm_weight: 0.1
  length_normalized_loss: true
audio_encoder: SenseVoiceEncoderSmall
audio_encoder_conf:
  output_size: 32
  attention_heads: 2
  linear_units: 64
  num_blocks: 2
  tp_blocks: 1
  dropout_rate: 0.0
  positional_dropout_rate: 0.0
  attention_dropout_rate: 0.0
  input_layer: pe
  pos_enc_class: SinusoidalPositionEncoder
  normalize_before: true
  kernel_size: 11
  sanm_shfit: 0
  selfattention_layer_type: sanm
  freeze: true
llm: Qwen3-tiny
llm_conf:
  hub: hf
  freeze: true
  llm_dtype: fp32
  init_param_path: Qwen3-tiny
  use_lora: false
audio_adaptor: Transformer
audio_adaptor_conf:
  downsample_rate: 1
  use_low_frame_rate: false
  ffn_dim: 64
  llm_dim: 32
  encoder_dim: 32
  n_layer: 1
  attention_heads: 2
  freeze: true
ctc_decoder: Transformer
detach_ctc_decoder: true
ctc_decoder_conf:
  downsample_rate: 1
  ffn_dim: 64
  llm_dim: 32
  encoder_dim: 32
  n_layer: 1
  attention_heads: 2
  freeze: true
ctc_weight: 0.3
ctc_vocab_size: 300
ctc_conf:
  dropout_rate: 0.0
  ctc_type: builtin
  reduce: true
  ignore_nan_grad: true
frontend: WavFrontend
frontend_conf:
  fs: 16000
  window: hamming
  n_mels: 80
  frame_length: 25
  frame_shift: 10
  lfr_m: 7
  lfr_n: 6
tokenizer: HuggingfaceTokenizer
tokenizer_conf:
  unk_symbol: <unk>
  init_param_path: ${llm_conf.init_param_path}
dataset_conf:
  ctc_tokenizer: SenseVoiceTokenizer
  ctc_tokenizer_conf:
    vocab_path: multilingual.tiktoken
    num_languages: 4
"""


def build_tiny_nano(out_dir: Path) -> Path:
    """Write a Fun-ASR-Nano folder laid out as the published one, with random weights.

    ``config.yaml`` names the LM folder by a relative path (``Qwen3-tiny``, as the published one
    names ``Qwen3-0.6B``) and the CTC tokenizer file likewise; ``model.pt`` holds every weight, the
    LM's included. The LM is a 2-layer Qwen3 (hidden 32) whose tokenizer is byte-level BPE (so any
    prompt encodes) plus 200 CJK characters as whole tokens. Its output layer is shaped so that
    greedy decoding picks CJK characters or the end token, never a lone byte: the random text
    reads as Chinese characters instead of broken UTF-8.
    """
    import base64

    import funasr.models.fun_asr_nano.model  # noqa: F401  (registers the classes)
    import funasr.models.llm_asr.adaptor  # noqa: F401
    import funasr.models.sense_voice.model  # noqa: F401
    import torch
    import yaml
    from funasr.register import tables
    from tokenizers import AddedToken, Tokenizer, decoders, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast, Qwen3Config

    out_dir.mkdir(parents=True, exist_ok=True)
    llm_dir = out_dir / "Qwen3-tiny"
    tok = Tokenizer(models.BPE(vocab={ch: i for i, ch in enumerate(_byte_chars())}, merges=[]))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    specials = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
    tok.add_special_tokens(specials)
    chars = [chr(0x4E00 + i) for i in range(200)]
    tok.add_tokens([AddedToken(c, normalized=False) for c in chars])
    PreTrainedTokenizerFast(tokenizer_object=tok, eos_token="<|im_end|>", pad_token="<|endoftext|>",
                            additional_special_tokens=["<|im_start|>"]).save_pretrained(llm_dir)
    ids = {t: tok.token_to_id(t) for t in specials}
    Qwen3Config(vocab_size=tok.get_vocab_size(), hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                num_attention_heads=2, num_key_value_heads=1, head_dim=16, max_position_embeddings=4096,
                eos_token_id=ids["<|im_end|>"], pad_token_id=ids["<|endoftext|>"], bos_token_id=ids["<|endoftext|>"],
                tie_word_embeddings=False).save_pretrained(llm_dir)
    # the CTC head's tokenizer (tiktoken format: base64 token, rank): one token per byte
    (out_dir / "multilingual.tiktoken").write_text(
        "".join(f"{base64.b64encode(bytes([b])).decode()} {b}\n" for b in range(256)), encoding="utf-8")
    (out_dir / "config.yaml").write_text(NANO_CONFIG, encoding="utf-8")
    conf = yaml.safe_load(NANO_CONFIG)  # built here with the absolute paths the loader works out
    conf["llm_conf"]["init_param_path"] = str(llm_dir)
    conf["tokenizer_conf"]["init_param_path"] = str(llm_dir)
    conf["dataset_conf"]["ctc_tokenizer_conf"]["vocab_path"] = str(out_dir / "multilingual.tiktoken")
    torch.manual_seed(0)
    model = tables.model_classes["FunASRNano"](**{k: v for k, v in conf.items() if k not in ("model", "model_conf")},
                                              input_size=80 * 7)
    with torch.no_grad():
        head = model.llm.lm_head.weight
        keep = torch.zeros(head.shape[0], dtype=torch.bool)
        keep[[tok.token_to_id(c) for c in chars] + [ids["<|im_end|>"]]] = True
        head[~keep] = 0.0  # bytes and the other specials: logit 0, below the best of 201 random ones
        head[ids["<|im_end|>"]] *= 1.5  # make stopping a little more likely
    torch.save(model.state_dict(), out_dir / "model.pt")
    return out_dir


VAD_CONFIG = """\
frontend: WavFrontendOnline
frontend_conf:
  fs: 16000
  window: hamming
  n_mels: 80
  frame_length: 25
  frame_shift: 10
  dither: 0.0
  lfr_m: 5
  lfr_n: 1
model: FsmnVADStreaming
model_conf:
  sample_rate: 16000
  detect_mode: 1
  snr_mode: 0
  max_end_silence_time: 800
  max_start_silence_time: 3000
  do_start_point_detection: true
  do_end_point_detection: true
  window_size_ms: 200
  sil_to_speech_time_thres: 150
  speech_to_sil_time_thres: 150
  speech_2_noise_ratio: 1.0
  do_extend: 1
  lookback_time_start_point: 200
  lookahead_time_end_point: 100
  max_single_segment_time: 60000
  snr_thres: -100.0
  noise_frame_num_used_for_snr: 100
  decibel_thres: -100.0
  speech_noise_thres: 0.6
  fe_prior_thres: 0.0001
  silence_pdf_num: 1
  sil_pdf_ids: [0]
  speech_noise_thresh_low: -0.1
  speech_noise_thresh_high: 0.3
  output_frame_probs: false
  frame_in_ms: 10
  frame_length_ms: 25
encoder: FSMN
encoder_conf:
  input_dim: 400
  input_affine_dim: 16
  fsmn_layers: 1
  linear_dim: 16
  proj_dim: 8
  lorder: 4
  rorder: 0
  lstride: 1
  rstride: 0
  output_affine_dim: 16
  output_dim: 4
"""


def build_tiny_fsmn_vad(out_dir: Path) -> Path:
    """Write a FunASR FSMN VAD folder (config.yaml, model.pt) that hears speech in every frame:
    its output layer always gives the silence class (id 0) a near-zero probability, so each clip
    comes back as one speech segment and the ASR model behind it gets the whole clip."""
    import funasr.models.fsmn_vad_streaming.model  # noqa: F401  (registers the classes)
    import torch
    import yaml
    from funasr.register import tables

    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "config.yaml").write_text(VAD_CONFIG, encoding="utf-8")
    conf = yaml.safe_load(VAD_CONFIG)
    torch.manual_seed(0)
    model = tables.model_classes["FsmnVADStreaming"](encoder=conf["encoder"], encoder_conf=conf["encoder_conf"],
                                                     **conf["model_conf"])
    with torch.no_grad():
        last = model.encoder.out_linear2.linear
        last.weight.zero_()
        last.bias.fill_(0.0)
        last.bias[0] = -20.0
    torch.save(model.state_dict(), out_dir / "model.pt")
    return out_dir
