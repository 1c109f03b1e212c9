"""The SoVITS synthesizer (official ``SynthesizerTrn`` layout): v1, v2, v2Pro, v2ProPlus.

Submodule names and parameter shapes equal the official ones, so official state dicts load
as they are. Inference entry points: :meth:`SoVITS.extract_latent` (SSL features → semantic
codes) and :meth:`SoVITS.decode` (codes + phonemes + reference spectrogram(s) → waveform).
:meth:`SoVITS.forward` is the training pass.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from .config import SoVITSConfig
from .flow import PosteriorEncoder, ResidualCouplingBlock
from .generator import Generator
from .layers import frames_mask
from .quantizer import ResidualVectorQuantizer
from .ref_encoder import MelStyleEncoder
from .text_encoder import TextEncoder
from .weight_norm import fuse_weight_norm

SV_DIM = 20480  # ERes2NetV2 fused-map embedding width (v2Pro/v2ProPlus)


class SoVITS(nn.Module):
    def __init__(self, cfg: SoVITSConfig, with_posterior: bool = True) -> None:
        super().__init__()
        self.cfg = cfg
        c = cfg
        self.enc_p = TextEncoder(c.inter_channels, c.hidden_channels, c.filter_channels, c.n_heads, c.n_layers,
                                 c.kernel_size, c.p_dropout, c.n_symbols, c.mrte_hidden, c.ssl_dim)
        self.dec = Generator(c.inter_channels, c.resblock_kernel_sizes, c.resblock_dilation_sizes, c.upsample_rates,
                             c.upsample_initial_channel, c.upsample_kernel_sizes, c.gin_channels)
        if with_posterior:
            self.enc_q = PosteriorEncoder(c.spec_channels, c.inter_channels, c.hidden_channels, 5, 1, 16,
                                          c.gin_channels)
        self.flow = ResidualCouplingBlock(c.inter_channels, c.hidden_channels, 5, 1, 4, gin_channels=c.gin_channels)
        self.ref_enc = MelStyleEncoder(c.ref_in, out_dim=c.gin_channels)
        stride = 2 if c.semantic_frame_rate == "25hz" else 1
        self.ssl_proj = nn.Conv1d(c.ssl_dim, c.ssl_dim, stride, stride=stride)
        self.quantizer = ResidualVectorQuantizer(dimension=c.ssl_dim, n_q=1, bins=c.codebook_size)
        if c.is_pro:
            self.sv_emb = nn.Linear(SV_DIM, c.gin_channels)
            self.ge_to512 = nn.Linear(c.gin_channels, 512)
            self.prelu = nn.PReLU(num_parameters=c.gin_channels)

    # ------------------------------------------------------------------ helpers
    @property
    def version(self) -> str:
        return self.cfg.version

    def prepare_for_inference(self, pack: bool = True) -> SoVITS:
        """Eval mode, weight norm folded into plain weights, no autograd bookkeeping; ``pack``:
        channels-last decoder weights for CPU (see :meth:`Generator.pack_for_inference`)."""
        self.eval()
        fuse_weight_norm(self)
        for p in self.parameters():
            p.requires_grad_(False)
        if pack:
            self.dec.pack_for_inference()
        return self

    def set_vocoder_dtype(self, dtype: torch.dtype) -> SoVITS:
        """Run only the waveform decoder ``dec`` in ``dtype`` (the rest keeps its own).

        The decoder is ~95% of a decode's arithmetic (~240 GFLOP of convolution for 6 s of
        full-size v2 audio), already near float32 peak on a CPU. On CPUs with native bfloat16
        it runs about twice as fast in bfloat16; the result is not bit-identical (about 40 dB
        SNR against float32), which is why it is a choice and never the default.
        """
        self.dec.to(dtype)  # a packed decoder notices the cast and repacks on its next call
        return self

    def _upsample_codes(self, quantized: torch.Tensor) -> torch.Tensor:
        if self.cfg.semantic_frame_rate == "25hz":
            return F.interpolate(quantized, size=quantized.shape[-1] * 2, mode="nearest")
        return quantized

    def _speaker(self, ge: torch.Tensor, sv: torch.Tensor | None) -> torch.Tensor:
        if not self.cfg.is_pro:
            return ge
        if sv is None:
            raise ValueError(f"{self.cfg.version} needs a speaker-verification embedding (sv_emb) per reference")
        return self.prelu(ge + self.sv_emb(sv).unsqueeze(-1))

    def _mrte_speaker(self, ge: torch.Tensor) -> torch.Tensor:
        return self.ge_to512(ge.transpose(1, 2)).transpose(1, 2) if self.cfg.is_pro else ge

    def reference_embedding(self, refer: torch.Tensor | Sequence[torch.Tensor],
                            sv_emb: torch.Tensor | Sequence[torch.Tensor] | None = None) -> torch.Tensor:
        """Global speaker vector ``ge`` ``[B, gin, 1]`` from one or several reference spectrograms.

        Several references (a list) are averaged after the per-reference (Pro: speaker-mixed)
        embedding, as the official inference does.
        """
        refs = [refer] if isinstance(refer, torch.Tensor) else list(refer)
        if sv_emb is None:
            svs: list[torch.Tensor | None] = [None] * len(refs)
        else:
            svs = [sv_emb] if isinstance(sv_emb, torch.Tensor) and len(refs) == 1 and sv_emb.dim() == 2 \
                else list(sv_emb)
            if len(svs) != len(refs):
                raise ValueError(f"{len(refs)} references but {len(svs)} speaker embeddings")
        ges = []
        dtype = self.ssl_proj.weight.dtype
        for r, sv in zip(refs, svs):
            r = r.to(dtype)  # references arrive as float32 spectrograms; run in the model's dtype
            sv = sv.to(dtype) if sv is not None else None
            mask = torch.ones_like(r[:1, :1, :])
            ge = self.ref_enc(r[:, : self.cfg.ref_in] * mask, mask)
            ges.append(self._speaker(ge, sv))
        return ges[0] if len(ges) == 1 else torch.stack(ges, 0).mean(0)

    # ---------------------------------------------------------------- inference
    @torch.inference_mode()
    def extract_latent(self, ssl: torch.Tensor) -> torch.Tensor:
        """HuBERT features ``[B, 768, T50]`` → semantic codes ``[B, n_q, T25]`` (``T25 = T50 // 2``)."""
        return self.quantizer.encode(self.ssl_proj(ssl.to(self.ssl_proj.weight.dtype))).transpose(0, 1)

    @torch.inference_mode()
    def decode(self, codes: torch.Tensor, text: torch.Tensor, refer: torch.Tensor | Sequence[torch.Tensor],
               noise_scale: float = 0.5, speed: float = 1.0,
               sv_emb: torch.Tensor | Sequence[torch.Tensor] | None = None,
               noise: torch.Tensor | None = None, capture: dict[str, torch.Tensor] | None = None) -> torch.Tensor:
        """Codes ``[n_q, B, T25]`` + phoneme ids ``[B, Tt]`` + reference spectrogram(s) → ``[B, 1, N]``.

        ``noise``: the standard-normal draw for the prior sample (shape of ``m_p``); when None it
        is drawn with ``torch.randn_like`` exactly like the reference (one call, even for
        ``noise_scale == 0``), so seeding torch reproduces official outputs. ``capture``: when a
        dict is given, intermediate tensors are stored in it (names as in the reference vectors).
        """
        ge = self.reference_embedding(refer, sv_emb)
        b = text.shape[0]
        y_lengths = torch.full((b,), codes.size(2) * 2, dtype=torch.long, device=codes.device)
        text_lengths = torch.full((b,), text.size(-1), dtype=torch.long, device=text.device)
        quantized = self.quantizer.decode(codes)
        x, m_p, logs_p, y_mask = self.enc_p(self._upsample_codes(quantized), y_lengths, text, text_lengths,
                                            self._mrte_speaker(ge), speed)
        if noise is None:
            noise = torch.randn_like(m_p)
        noise = noise.to(m_p.dtype)
        z_p = m_p + noise * torch.exp(logs_p) * noise_scale
        z = self.flow(z_p, y_mask, g=ge, reverse=True)
        vocoder = self.dec.conv_pre.weight.dtype  # differs only after set_vocoder_dtype
        o = self.dec((z * y_mask).to(vocoder), g=ge.to(vocoder)).to(z.dtype)
        if capture is not None:
            capture.update(ge=ge, quantized=quantized, enc_p_x=x, m_p=m_p, logs_p=logs_p, y_mask=y_mask,
                           noise=noise, z_p=z_p, z=z, dec_in=z * y_mask, o=o)
        return o

    # ----------------------------------------------------------------- training
    def forward(self, ssl: torch.Tensor, spec: torch.Tensor, spec_lengths: torch.Tensor, text: torch.Tensor,
                text_lengths: torch.Tensor, sv_emb: torch.Tensor | None = None) -> tuple[Any, ...]:
        """One training pass (official return layout).

        Returns ``(y_hat, commit_loss, ids_slice, y_mask, y_mask, (z, z_p, m_p, logs_p, m_q, logs_q),
        quantized)``; ``y_hat`` is decoded from a random ``segment_size``-frame slice of ``z``.
        """
        y_mask = frames_mask(spec_lengths, spec.size(2), spec.dtype)
        ge = self._speaker(self.ref_enc(spec[:, : self.cfg.ref_in] * y_mask, y_mask), sv_emb)
        with torch.autocast(device_type=spec.device.type, enabled=False):
            if self.cfg.freeze_quantizer:
                self.ssl_proj.eval()
                self.quantizer.eval()
            quantized, _codes, commit_loss = self.quantizer(self.ssl_proj(ssl.float()))
        x, m_p, logs_p, y_mask = self.enc_p(self._upsample_codes(quantized), spec_lengths, text, text_lengths,
                                            self._mrte_speaker(ge))
        # The posterior is conditioned on a detached speaker embedding (as official): the
        # reconstruction path must not train the reference encoder through enc_q.
        z, m_q, logs_q, y_mask = self.enc_q(spec, spec_lengths, g=ge.detach())
        z_p = self.flow(z, y_mask, g=ge)
        z_slice, ids_slice = rand_slice_segments(z, spec_lengths, self.cfg.segment_size)
        o = self.dec(z_slice, g=ge)
        return o, commit_loss, ids_slice, y_mask, y_mask, (z, z_p, m_p, logs_p, m_q, logs_q), quantized


def slice_segments(x: torch.Tensor, starts: torch.Tensor, size: int) -> torch.Tensor:
    """Per batch item, ``x[i, :, starts[i] : starts[i] + size]``."""
    idx = starts.view(-1, 1, 1) + torch.arange(size, device=x.device).view(1, 1, -1)
    return torch.gather(x, 2, idx.expand(x.size(0), x.size(1), size))


def rand_slice_segments(x: torch.Tensor, lengths: torch.Tensor, size: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Random ``size``-frame window per item (one ``torch.rand(B)`` draw, as the reference)."""
    max_start = lengths - size + 1
    starts = (torch.rand([x.size(0)], device=x.device) * max_start).to(dtype=torch.long)
    return slice_segments(x, starts, size), starts
