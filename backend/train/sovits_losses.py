"""SoVITS GAN training losses (official definitions; all computed in float32).

- discriminator: ``Σ_k mean((1 − D_k(y))²) + mean(D_k(ŷ)²)``;
- generator (adversarial): ``Σ_k mean((1 − D_k(ŷ))²)``;
- feature matching: ``2 · Σ_k Σ_l mean|fmap_real − fmap_fake|`` (real maps detached);
- KL between the posterior sample pushed through the flow and the prior:
  ``Σ[(logs_p − logs_q − 0.5 + 0.5·(z_p − m_p)²·exp(−2·logs_p))·mask] / Σ mask``.
"""

from __future__ import annotations

import torch


def discriminator_loss(real: list[torch.Tensor], fake: list[torch.Tensor]) -> tuple[torch.Tensor, list[float], list[float]]:
    total = torch.zeros((), device=real[0].device)
    r_terms, g_terms = [], []
    for dr, dg in zip(real, fake):
        r = torch.mean((1 - dr.float()) ** 2)
        g = torch.mean(dg.float() ** 2)
        total = total + r + g
        r_terms.append(float(r.detach()))
        g_terms.append(float(g.detach()))
    return total, r_terms, g_terms


def generator_loss(fake: list[torch.Tensor]) -> tuple[torch.Tensor, list[torch.Tensor]]:
    total = torch.zeros((), device=fake[0].device)
    terms = []
    for dg in fake:
        term = torch.mean((1 - dg.float()) ** 2)
        terms.append(term)
        total = total + term
    return total, terms


def feature_loss(fmap_real: list[list[torch.Tensor]], fmap_fake: list[list[torch.Tensor]]) -> torch.Tensor:
    total = torch.zeros((), device=fmap_fake[0][0].device)
    for dr, dg in zip(fmap_real, fmap_fake):
        for r, g in zip(dr, dg):
            total = total + torch.mean(torch.abs(r.float().detach() - g.float()))
    return total * 2


def kl_loss(z_p: torch.Tensor, logs_q: torch.Tensor, m_p: torch.Tensor, logs_p: torch.Tensor,
            mask: torch.Tensor) -> torch.Tensor:
    z_p, logs_q, m_p, logs_p, mask = (t.float() for t in (z_p, logs_q, m_p, logs_p, mask))
    kl = logs_p - logs_q - 0.5 + 0.5 * ((z_p - m_p) ** 2) * torch.exp(-2.0 * logs_p)
    return torch.sum(kl * mask) / torch.sum(mask)
