"""Tiny cleaning models with random weights, in the runner's real file formats, built offline.

A Mel-Band Roformer (``.ckpt`` state dict + the YAML we write from its settings) for the separation
step and a VR 5.1 network (``.pth`` state dict + its settings row) for the de-reverb step, both
built from audio-separator's own network classes, and described in the models folder's
``models.json`` the way a user adds models of their own. Random weights make noise-like output;
the tests check files, rates, lengths and order, not sound quality.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from backend.clean.catalogue import mel_roformer_config

RATE = 44100
# 1-second windows (hop 441 → 101 frames) keep the tiny Roformer quick on a CPU
TINY_ROFORMER = mel_roformer_config(dim=16, depth=1, num_bands=8, heads=2, dim_head=8, chunk_size=RATE, hop=441)
TINY_VR = {"vr_model_param": "1band_sr44100_hl512", "primary_stem": "No Reverb", "nout": 4, "nout_lstm": 8}


def build_tiny_models(directory: Path, seed: int = 0) -> dict[str, str]:
    """Write the two models and ``models.json``; returns {step: model name}."""
    import torch
    from audio_separator.separator.uvr_lib_v5.roformer.mel_band_roformer import (
        MelBandRoformer,
    )
    from audio_separator.separator.uvr_lib_v5.vr_network import nets_new
    from audio_separator.separator.uvr_lib_v5.vr_network.model_param_init import (
        ModelParameters,
    )

    directory.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(seed)
    m = TINY_ROFORMER["model"]
    net = MelBandRoformer(dim=m["dim"], depth=m["depth"], stereo=True, num_stems=1, time_transformer_depth=1,
                          freq_transformer_depth=1, num_bands=m["num_bands"], dim_head=m["dim_head"],
                          heads=m["heads"], stft_hop_length=m["stft_hop_length"], mask_estimator_depth=2)
    torch.save(net.state_dict(), directory / "tiny_vocals.ckpt")
    import audio_separator.separator as pkg

    params_json = Path(pkg.__file__).parent / "uvr_lib_v5" / "vr_network" / "modelparams" / \
        f"{TINY_VR['vr_model_param']}.json"
    bins = ModelParameters(str(params_json)).param["bins"]
    vr = nets_new.CascadedNet(bins * 2, 0, nout=TINY_VR["nout"], nout_lstm=TINY_VR["nout_lstm"])
    torch.save(vr.state_dict(), directory / "tiny_dereverb.pth")
    rows = [{"name": "tiny-vocals", "step": "separate", "arch": "roformer", "filename": "tiny_vocals.ckpt",
             "keep": "Vocals", "config": TINY_ROFORMER},
            {"name": "tiny-dereverb", "step": "dereverb", "arch": "vr", "filename": "tiny_dereverb.pth",
             "keep": "No Reverb", "model_data": TINY_VR}]
    (directory / "models.json").write_text(json.dumps(rows), encoding="utf-8")
    return {"separate": "tiny-vocals", "dereverb": "tiny-dereverb"}


def write_tone(path: Path, seconds: float, rate: int = 32000, channels: int = 1, seed: int = 1) -> None:
    """A voiced-like test signal (harmonics + a little noise) at any rate and channel count."""
    import soundfile as sf

    t = np.arange(int(seconds * rate)) / rate
    x = sum(0.2 / k * np.sin(2 * np.pi * 140 * k * t) for k in range(1, 6))
    x = x + 0.01 * np.random.default_rng(seed).standard_normal(len(t))
    data = np.stack([x] * channels, axis=1).astype(np.float32)
    sf.write(str(path), data, rate)
