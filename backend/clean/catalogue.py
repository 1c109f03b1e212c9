"""The cleaning models we know: which step each serves, where its files come from, how the runner reads it.

The runner (audio-separator) recognises a model by looking its file name up in a catalogue it
would otherwise download from the internet, and reads the settings of VR and MDX models from
tables keyed by the file's hash, also downloaded. We hand it our own catalogue instead (see
:mod:`backend.clean.runner`), built from the entries here, so nothing is fetched behind our
back and a model file the user drops into the models folder is used as it is.

Roformer and MDX23C models need their network settings (``config``); we keep them here and write
the runner's YAML file from them, so only the weights are downloaded. VR models need their
``model_data`` (band layout, which stem the network predicts, network width).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..errors import GsvError

STEPS = ("separate", "dereverb", "denoise")  # the chain, in the order it runs
ARCHS = ("roformer", "mdxc", "mdx", "vr")

_VR_REPO = "lj1995/VoiceConversionWebUI"  # where the official GPT-SoVITS takes its UVR5 weights from
_UVR_RELEASE = "https://github.com/TRvlvr/model_repo/releases/download/all_public_uvr_models"


class UnknownCleanModelError(GsvError):
    """A cleaning model name that is not in the catalogue and not in the models folder."""


@dataclass(frozen=True)
class Source:
    """Where a model file is fetched from: a hub repository file, or a plain URL."""

    filename: str  # the name it gets in the models folder (the runner finds it by this name)
    hf_repo: str | None = None
    hf_path: str | None = None
    url: str | None = None


@dataclass(frozen=True)
class CleanModel:
    name: str  # what the user types (`--separate NAME`)
    step: str  # separate | dereverb | denoise
    arch: str  # roformer | mdxc | mdx | vr
    source: Source
    keep: str  # the stem the chain keeps (the runner's stem name, e.g. "Vocals", "No Reverb")
    about: str
    sample_rate: int = 44100  # the model's native rate: the chain runs (and writes) at it
    config: dict[str, Any] = field(default_factory=dict)  # roformer/mdxc: the network settings (YAML)
    model_data: dict[str, Any] = field(default_factory=dict)  # vr/mdx: the runner's per-model table row

    @property
    def filename(self) -> str:
        return self.source.filename

    @property
    def yaml_name(self) -> str | None:
        return f"{self.filename.rsplit('.', 1)[0]}.yaml" if self.arch in ("roformer", "mdxc") else None


def mel_roformer_config(dim: int = 384, depth: int = 6, num_bands: int = 60, heads: int = 8, dim_head: int = 64,
                        chunk_size: int = 352800, hop: int = 441, instruments: tuple[str, ...] = ("vocals", "other"),
                        overlap: int = 2) -> dict[str, Any]:
    """Settings of a Mel-Band Roformer (the defaults: the widely used vocals model, 8 s windows at 44.1 kHz).
    Tests and the benchmark build smaller or random-weight models from the same function."""
    return {
        "audio": {"chunk_size": chunk_size, "dim_f": 1024, "dim_t": chunk_size // hop + 1, "hop_length": hop,
                  "n_fft": 2048, "num_channels": 2, "sample_rate": 44100, "min_mean_abs": 0.0},
        "model": {"dim": dim, "depth": depth, "stereo": True, "num_stems": 1, "time_transformer_depth": 1,
                  "freq_transformer_depth": 1, "num_bands": num_bands, "dim_head": dim_head, "heads": heads,
                  "attn_dropout": 0.0, "ff_dropout": 0.0, "flash_attn": True, "dim_freqs_in": 1025,
                  "sample_rate": 44100, "stft_n_fft": 2048, "stft_hop_length": hop, "stft_win_length": 2048,
                  "stft_normalized": False, "mask_estimator_depth": 2},
        "training": {"instruments": list(instruments), "target_instrument": instruments[0]},
        "inference": {"batch_size": 1, "dim_t": chunk_size // hop + 1, "num_overlap": overlap},
    }


def bs_roformer_config(dim: int = 512, depth: int = 12, heads: int = 8, dim_head: int = 64,
                       chunk_size: int = 352800, hop: int = 441, overlap: int = 2) -> dict[str, Any]:
    """Settings of a BS-Roformer vocals model (62 bands over 1025 bins: 2×24, 4×12, 12×8, 24×8, 48×8, 128, 129)."""
    bands = [2] * 24 + [4] * 12 + [12] * 8 + [24] * 8 + [48] * 8 + [128, 129]
    return {
        "audio": {"chunk_size": chunk_size, "dim_f": 1024, "dim_t": chunk_size // hop + 1, "hop_length": hop,
                  "n_fft": 2048, "num_channels": 2, "sample_rate": 44100, "min_mean_abs": 0.0},
        "model": {"dim": dim, "depth": depth, "stereo": True, "num_stems": 1, "time_transformer_depth": 1,
                  "freq_transformer_depth": 1, "freqs_per_bands": bands, "dim_head": dim_head, "heads": heads,
                  "attn_dropout": 0.0, "ff_dropout": 0.0, "flash_attn": True, "stft_n_fft": 2048,
                  "stft_hop_length": hop, "stft_win_length": 2048, "mask_estimator_depth": 2},
        "training": {"instruments": ["vocals", "other"], "target_instrument": "vocals"},
        "inference": {"batch_size": 1, "dim_t": chunk_size // hop + 1, "num_overlap": overlap},
    }


MODELS: tuple[CleanModel, ...] = (
    CleanModel("mel-roformer-vocals", "separate", "roformer",
               Source("MelBandRoformer.ckpt", hf_repo="KimberleyJSN/melbandroformer", hf_path="MelBandRoformer.ckpt"),
               keep="Vocals", config=mel_roformer_config(),
               about="Mel-Band Roformer vocals model (Kimberley Jensen): speech and singing from music, the default"),
    CleanModel("bs-roformer-vocals", "separate", "roformer",
               Source("model_bs_roformer_ep_317_sdr_12.9755.ckpt",
                      url=f"{_UVR_RELEASE}/model_bs_roformer_ep_317_sdr_12.9755.ckpt"),
               keep="Vocals", config=bs_roformer_config(),
               about="BS-Roformer vocals model (viperx, ep 317): slightly cleaner, about twice as slow"),
    CleanModel("hp5-main-vocal", "separate", "vr",
               Source("HP5_only_main_vocal.pth", hf_repo=_VR_REPO, hf_path="uvr5_weights/HP5_only_main_vocal.pth"),
               keep="Vocals", model_data={"vr_model_param": "4band_v2", "primary_stem": "Instrumental"},
               about="UVR5 VR HP5 (the official WebUI's): keeps the main voice, drops backing vocals; fast"),
    CleanModel("hp2-all-vocals", "separate", "vr",
               Source("HP2_all_vocals.pth", hf_repo=_VR_REPO, hf_path="uvr5_weights/HP2_all_vocals.pth"),
               keep="Vocals", model_data={"vr_model_param": "4band_v2", "primary_stem": "Instrumental"},
               about="UVR5 VR HP2 (the official WebUI's): keeps every voice; fast"),
    CleanModel("vr-deecho-dereverb", "dereverb", "vr",
               Source("VR-DeEchoDeReverb.pth", hf_repo=_VR_REPO, hf_path="uvr5_weights/VR-DeEchoDeReverb.pth"),
               keep="No Reverb",
               model_data={"vr_model_param": "4band_v3", "primary_stem": "No Reverb", "nout": 64, "nout_lstm": 128},
               about="UVR-DeEcho-DeReverb (the official WebUI's): removes room reverb and echo, the default"),
    CleanModel("vr-deecho-normal", "dereverb", "vr",
               Source("VR-DeEchoNormal.pth", hf_repo=_VR_REPO, hf_path="uvr5_weights/VR-DeEchoNormal.pth"),
               keep="No Echo",
               model_data={"vr_model_param": "4band_v3", "primary_stem": "No Echo", "nout": 48, "nout_lstm": 128},
               about="UVR-DeEcho normal: echo/delay only, gentler than DeEcho-DeReverb"),
    CleanModel("vr-deecho-aggressive", "dereverb", "vr",
               Source("VR-DeEchoAggressive.pth", hf_repo=_VR_REPO, hf_path="uvr5_weights/VR-DeEchoAggressive.pth"),
               keep="No Echo",
               model_data={"vr_model_param": "4band_v3", "primary_stem": "No Echo", "nout": 48, "nout_lstm": 128},
               about="UVR-DeEcho aggressive: strong echo/delay removal"),
    CleanModel("uvr-denoise", "denoise", "vr",
               Source("UVR-DeNoise.pth", url=f"{_UVR_RELEASE}/UVR-DeNoise.pth"),
               keep="No Noise",
               model_data={"vr_model_param": "4band_v3", "primary_stem": "Noise", "nout": 48, "nout_lstm": 128},
               about="UVR-DeNoise: hiss, hum and steady background noise, the default"),
    CleanModel("uvr-denoise-lite", "denoise", "vr",
               Source("UVR-DeNoise-Lite.pth", url=f"{_UVR_RELEASE}/UVR-DeNoise-Lite.pth"),
               keep="No Noise",
               model_data={"vr_model_param": "4band_v3", "primary_stem": "Noise", "nout": 16, "nout_lstm": 128},
               about="UVR-DeNoise lite: the same, smaller and faster, a little less thorough"),
)

DEFAULTS = {"separate": "mel-roformer-vocals", "dereverb": "vr-deecho-dereverb", "denoise": "uvr-denoise"}


def models_for(step: str) -> list[CleanModel]:
    return [m for m in MODELS if m.step == step]


def lookup(name: str, step: str | None = None, extra: tuple[CleanModel, ...] = ()) -> CleanModel:
    """The model called ``name`` (from the catalogue or ``extra``), checked to serve ``step``."""
    for m in (*extra, *MODELS):
        if m.name == name:
            if step is not None and m.step != step:
                raise UnknownCleanModelError(f"{name!r} is a {m.step} model, not a {step} model",
                                             f"choose one of: {', '.join(x.name for x in models_for(step))}")
            return m
    choices = models_for(step) if step else list(MODELS)
    raise UnknownCleanModelError(f"unknown cleaning model {name!r}",
                                 f"choose one of: {', '.join(m.name for m in choices)} (`gsv clean --list-models`)")
