"""SoVITS (stage 2) fine-tuning: the official ``s2_train.py`` recipe for v1, v2, v2Pro and v2ProPlus.

Recipe (models.md §1.9): generator G and discriminator D start from the version's pretrained
``s2G``/``s2D`` files (G non-strict: an export without ``enc_q`` starts the posterior encoder
fresh; D strict). AdamW for both (lr 1e-4, betas (0.8, 0.99), eps 1e-9, weight decay 0.01); G has
four parameter groups — everything else at lr, ``enc_p.text_embedding``, ``enc_p.encoder_text``
and ``enc_p.mrte`` at ``lr · text_lr_weight`` (0.4). ExponentialLR(0.999875) stepped once per epoch
and ``start_epoch`` times before the first, so epoch e runs at ``lr · γ^e``. Each step: G forward
(random 32-frame slice), D step on ``(y, ŷ.detach())``, then the G losses against the *updated* D:
adversarial + feature matching + 45 · mel L1 + commit + KL. fp16 autocast and one GradScaler on
GPUs that support it (the mel spectrograms and all losses stay float32).

Where we differ from the official trainer, on purpose (files stay the same):
- a checkpoint and an export are written at every ``save_every``-th epoch **and at the last
  epoch** (the official one skips the last when it is not a multiple);
- resumable checkpoints are ``G_<step>.pth``/``D_<step>.pth`` in ``<exp>/logs_s2_<version>/``
  (official layout + a ``"gsv"`` entry with the global step, scaler and RNG state) named by a
  manifest (:mod:`backend.train.common`); with ``save_latest_only`` older ones are deleted only
  after the new one is complete (the official ``G_233333333333.pth`` is overwritten in place);
- a finished run is refused with an offer of more epochs instead of training nothing; an
  official run's checkpoints (no manifest) are picked up by the official "newest" rule;
- on resume the learning rate is exactly ``lr · γ^epoch`` (the official resume decays twice).

Entry points: :func:`prepare` (in the stage's process: settings checked, resume decided, before
any worker starts) and :func:`train_worker` (the loop; one per process, see
:mod:`backend.train.distributed`). :func:`train_step` is one iteration, used by the tests on the
reference vectors.
"""

from __future__ import annotations

import warnings
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F

from ..models.mel import mel_spectrogram, spec_to_mel
from ..progress import Reporter
from .common import (
    Checkpoint,
    CheckpointStore,
    ExportFiles,
    ResumePlan,
    TrainError,
    TrainProgress,
    autocast,
    grad_norm,
    load_checkpoint_file,
    make_scaler,
    newest_by_digits,
    plan_resume,
    precision_for,
    remove_temp_files,
    rng_state,
    save_epochs,
    seed_everything,
    set_rng_state,
)
from .defaults import SOVITS
from .distributed import DistContext

TEXT_MODULES = ("enc_p.text_embedding", "enc_p.encoder_text", "enc_p.mrte")
LOSS_TERMS = ("total", "disc", "gen", "fm", "mel", "kl", "kl_ssl")


@dataclass
class SoVITSTrainSettings:
    """Everything one SoVITS run needs (JSON-able: it travels to every DDP process)."""

    exp_dir: str
    weights_dir: str
    exp_name: str
    version: str
    pretrained_s2G: str
    pretrained_s2D: str
    batch_size: int = 2
    epochs: int = SOVITS.epochs
    text_lr_weight: float = SOVITS.text_lr_weight
    save_every: int = SOVITS.save_every
    save_latest_only: bool = SOVITS.save_latest_only
    learning_rate: float = SOVITS.learning_rate
    betas: tuple[float, float] = (0.8, 0.99)
    eps: float = 1e-9
    lr_decay: float = 0.999875
    c_mel: float = 45.0
    c_kl: float = 1.0
    segment_size: int = SOVITS.segment_size
    fp16: bool = SOVITS.fp16
    seed: int = SOVITS.seed
    num_workers: int = 0
    repeat_to: int = SOVITS.repeat_to
    metric_interval_s: float = SOVITS.metric_interval_s
    gpu_numbers: str = "0"
    resume: dict[str, Any] | None = None  # filled by prepare(): {"G", "D", "epoch", "step"}

    def to_json(self) -> dict[str, Any]:
        d = asdict(self)
        d["betas"] = list(self.betas)
        return d

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> SoVITSTrainSettings:
        known = {f.name for f in fields(cls)}
        kw = {k: v for k, v in d.items() if k in known}
        if "betas" in kw:
            kw["betas"] = tuple(kw["betas"])
        return cls(**kw)

    @property
    def ckpt_dir(self) -> Path:
        return Path(self.exp_dir) / f"logs_s2_{self.version}"

    def export_path(self, epoch: int, step: int) -> Path:
        return Path(self.weights_dir) / f"{self.exp_name}_e{epoch}_s{step}.pth"


# ------------------------------------------------------------------------ models, optim
def build_generator(path: str | Path):
    """G from a base file (pretrained ``s2G*.pth``, an export, or a trainer ``G_*.pth``), trainable."""
    from ..models import load_sovits

    model = load_sovits(path, for_training=True)
    for p in model.parameters():
        p.requires_grad_(True)
    return model.train()


def build_discriminator(path: str | Path, version: str):
    from ..models.sovits.weights import read_discriminator
    from .sovits_disc import discriminator_for

    sd = read_discriminator(path)
    net_d = discriminator_for(sd, version)
    try:
        net_d.load_state_dict(sd)
    except RuntimeError as e:
        raise TrainError(f"{path} does not fit the {version} discriminator ({str(e).splitlines()[0]})",
                         fix=f"use the {version} pretrained s2D file (`gsv models fetch {version}`)") from None
    return net_d.train()


def optimizer_groups(net_g: torch.nn.Module, lr: float, text_lr_weight: float) -> list[dict[str, Any]]:
    """The official four groups: the rest at ``lr``, then text embedding, text encoder, MRTE at ``lr·w``."""
    text_ids: dict[str, list[torch.nn.Parameter]] = {m: [] for m in TEXT_MODULES}
    rest: list[torch.nn.Parameter] = []
    for name, p in net_g.named_parameters():
        owner = next((m for m in TEXT_MODULES if name == m or name.startswith(m + ".")), None)
        (text_ids[owner] if owner else rest).append(p)
    return [{"params": rest, "lr": lr}] + [{"params": text_ids[m], "lr": lr * text_lr_weight} for m in TEXT_MODULES]


def make_optimizers(net_g: torch.nn.Module, net_d: torch.nn.Module, s: SoVITSTrainSettings):
    optim_g = torch.optim.AdamW(optimizer_groups(net_g, s.learning_rate, s.text_lr_weight), s.learning_rate,
                                betas=tuple(s.betas), eps=s.eps)
    optim_d = torch.optim.AdamW(net_d.parameters(), s.learning_rate, betas=tuple(s.betas), eps=s.eps)
    return optim_g, optim_d


def make_scheduler(optim: torch.optim.Optimizer, gamma: float, start_epoch: int):
    """ExponentialLR from each group's base lr (``initial_lr``), stepped ``start_epoch`` times."""
    for g in optim.param_groups:
        g["lr"] = g.setdefault("initial_lr", g["lr"])
    sched = torch.optim.lr_scheduler.ExponentialLR(optim, gamma, last_epoch=-1)
    with warnings.catch_warnings():  # stepping before optimizer.step() is intended here
        warnings.simplefilter("ignore")
        for _ in range(start_epoch):
            sched.step()
    return sched


def _base_lrs(optim: torch.optim.Optimizer, s: SoVITSTrainSettings, is_g: bool) -> None:
    """After loading an optimizer state: base lrs from the settings (so --text-lr-weight may change)."""
    lrs = [s.learning_rate] + [s.learning_rate * s.text_lr_weight] * 3 if is_g else [s.learning_rate]
    for g, lr in zip(optim.param_groups, lrs):
        g["lr"] = lr
        g["initial_lr"] = lr


def _unwrap(m: torch.nn.Module) -> torch.nn.Module:
    return m.module if hasattr(m, "module") else m


# --------------------------------------------------------------------------------- step
@dataclass
class StepResult:
    losses: dict[str, float]
    grad_norm_d: float
    grad_norm_g: float
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class MelSettings:
    filter_length: int = 2048
    n_mel_channels: int = 128
    sampling_rate: int = 32000
    hop_length: int = 640
    win_length: int = 2048
    mel_fmin: float = 0.0
    mel_fmax: float | None = None


def slice_segments(x: torch.Tensor, starts: torch.Tensor, size: int) -> torch.Tensor:
    idx = starts.view(-1, 1, 1) + torch.arange(size, device=x.device).view(1, 1, -1)
    return torch.gather(x, 2, idx.expand(x.size(0), x.size(1), size))


def train_step(net_g: torch.nn.Module, net_d: torch.nn.Module, optim_g: torch.optim.Optimizer,
               optim_d: torch.optim.Optimizer, scaler: Any, batch: dict[str, torch.Tensor], c_mel: float = 45.0,
               c_kl: float = 1.0, segment_size: int = 20480, amp: bool = False, mel: MelSettings = MelSettings(),
               capture: dict[str, Any] | None = None) -> StepResult:
    """One official iteration: G forward, D step, G step. ``capture``: intermediate tensors by name."""
    device = batch["spec"].device
    spec, spec_lengths = batch["spec"], batch["spec_lengths"]
    with autocast(device, amp):
        y_hat, kl_ssl, ids_slice, _x_mask, z_mask, (_z, z_p, m_p, logs_p, _m_q, logs_q), _ = net_g(
            batch["ssl"], spec, spec_lengths, batch["text"], batch["text_lengths"], batch.get("sv"))
    frames = segment_size // mel.hop_length
    with torch.autocast(device_type=device.type, enabled=False):
        mel_full = spec_to_mel(spec.float(), mel.filter_length, mel.n_mel_channels, mel.sampling_rate,
                               mel.mel_fmin, mel.mel_fmax)
        y_mel = slice_segments(mel_full, ids_slice, frames)
        y_hat_mel = mel_spectrogram(y_hat.squeeze(1).float(), mel.filter_length, mel.n_mel_channels,
                                    mel.sampling_rate, mel.hop_length, mel.win_length, mel.mel_fmin, mel.mel_fmax)
    y = slice_segments(batch["wav"], ids_slice * mel.hop_length, segment_size)

    # discriminator step
    from .sovits_losses import discriminator_loss, feature_loss, generator_loss, kl_loss

    with autocast(device, amp):
        real_d, fake_d, _, _ = net_d(y, y_hat.detach())
    with torch.autocast(device_type=device.type, enabled=False):
        loss_disc, disc_r, disc_g = discriminator_loss(real_d, fake_d)
    optim_d.zero_grad()
    scaler.scale(loss_disc).backward()
    scaler.unscale_(optim_d)
    gn_d = grad_norm(net_d.parameters())
    scaler.step(optim_d)

    # generator step (against the updated discriminator)
    with autocast(device, amp):
        _real_g, fake_g, fmap_r, fmap_g = net_d(y, y_hat)
    with torch.autocast(device_type=device.type, enabled=False):
        loss_mel = F.l1_loss(y_mel, y_hat_mel) * c_mel
        loss_kl = kl_loss(z_p, logs_q, m_p, logs_p, z_mask) * c_kl
        loss_fm = feature_loss(fmap_r, fmap_g)
        loss_gen, gen_terms = generator_loss(fake_g)
        loss_total = loss_gen + loss_fm + loss_mel + kl_ssl.float() + loss_kl
    optim_g.zero_grad()
    scaler.scale(loss_total).backward()
    scaler.unscale_(optim_g)
    gn_g = grad_norm(net_g.parameters())
    scaler.step(optim_g)
    scaler.update()

    losses = {k: float(v.detach()) for k, v in (("total", loss_total), ("disc", loss_disc), ("gen", loss_gen),
                                                 ("fm", loss_fm), ("mel", loss_mel), ("kl", loss_kl),
                                                 ("kl_ssl", kl_ssl))}
    if capture is not None:
        capture.update(ids_slice=ids_slice, y_hat=y_hat.detach(), y_mel=y_mel, y_hat_mel=y_hat_mel.detach(),
                       y_slice=y, mel=mel_full, disc_r=disc_r, disc_g=disc_g,
                       gen_terms=[float(t.detach()) for t in gen_terms])
    return StepResult(losses, gn_d, gn_g)


# ----------------------------------------------------------------------- files written
def official_config(s: SoVITSTrainSettings, net_g: torch.nn.Module) -> dict[str, Any]:
    """The run's config as the official trainer writes it (``config`` of every export, ``config.json``)."""
    cfg = _unwrap(net_g).cfg
    model = cfg.to_model_section()
    model.setdefault("n_layers_q", 3)
    model.setdefault("use_spectral_norm", False)
    train = {"log_interval": 100, "eval_interval": 500, "seed": s.seed, "epochs": s.epochs,
             "learning_rate": s.learning_rate, "betas": list(s.betas), "eps": s.eps, "batch_size": s.batch_size,
             "fp16_run": bool(s.fp16), "lr_decay": s.lr_decay, "segment_size": s.segment_size, "init_lr_ratio": 1,
             "warmup_epochs": 0, "c_mel": s.c_mel, "c_kl": s.c_kl, "text_low_lr_rate": s.text_lr_weight,
             "grad_ckpt": False, "pretrained_s2G": s.pretrained_s2G, "pretrained_s2D": s.pretrained_s2D,
             "if_save_latest": bool(s.save_latest_only), "if_save_every_weights": True,
             "save_every_epoch": s.save_every, "gpu_numbers": s.gpu_numbers, "lora_rank": "32"}
    data = {"max_wav_value": 32768.0, "sampling_rate": 32000, "filter_length": (cfg.spec_channels - 1) * 2,
            "hop_length": 640, "win_length": 2048, "n_mel_channels": 128, "mel_fmin": 0.0, "mel_fmax": None,
            "add_blank": True, "n_speakers": 300, "cleaned_text": True, "exp_dir": s.exp_dir}
    return {"train": train, "data": data, "model": model, "s2_ckpt_dir": s.exp_dir, "content_module": "cnhubert",
            "save_weight_dir": s.weights_dir, "name": s.exp_name, "version": s.version, "pretrain": None,
            "resume_step": None}


def export_weights(s: SoVITSTrainSettings, net_g: torch.nn.Module, epoch: int, step: int) -> Path:
    from ..models.sovits.weights import write_sovits

    g = _unwrap(net_g)
    return write_sovits(s.export_path(epoch, step), g.state_dict(), official_config(s, g), s.version, epoch, step)


def save_checkpoint(store: CheckpointStore, s: SoVITSTrainSettings, net_g, net_d, optim_g, optim_d, scaler,
                    epoch: int, step: int, exports: list[str]) -> Checkpoint:
    g, d = _unwrap(net_g), _unwrap(net_d)
    ours = {"step": step, "epoch": epoch, "scaler": scaler.state_dict(), "version": s.version}
    payloads = {
        "G": {"model": g.state_dict(), "iteration": epoch, "optimizer": optim_g.state_dict(),
              "learning_rate": s.learning_rate, "gsv": {**ours, "rng": rng_state()}},
        "D": {"model": d.state_dict(), "iteration": epoch, "optimizer": optim_d.state_dict(),
              "learning_rate": s.learning_rate, "gsv": ours},
    }
    return store.save(epoch, step, payloads, {"G": f"G_{step}.pth", "D": f"D_{step}.pth"}, total_epochs=s.epochs,
                      keep_latest_only=s.save_latest_only, exports=exports)


def _load_into(model: torch.nn.Module, sd: dict[str, Any]) -> int:
    """Official resume rule: key by key, keeping the fresh tensor for missing or misfit keys."""
    own = model.state_dict()
    kept = 0
    for k, v in own.items():
        src = sd.get(k)
        if isinstance(src, torch.Tensor) and tuple(src.shape) == tuple(v.shape):
            own[k] = src.to(v.dtype)
        else:
            kept += 1
    model.load_state_dict(own)
    return kept


# ---------------------------------------------------------------------------- planning
def official_checkpoint(ckpt_dir: Path, steps_per_epoch: int) -> Checkpoint | None:
    """An official run's newest ``G_*.pth``/``D_*.pth`` (no manifest), as a :class:`Checkpoint`."""
    g = newest_by_digits(sorted(ckpt_dir.glob("G_*.pth")))
    d = newest_by_digits(sorted(ckpt_dir.glob("D_*.pth")))
    if g is None or d is None:
        return None
    data = load_checkpoint_file(g)
    epoch = int(data.get("iteration", 0))
    gsv = data.get("gsv") or {}
    step = int(gsv.get("step", epoch * steps_per_epoch))
    return Checkpoint(ckpt_dir, epoch, step, {"G": g.name, "D": d.name})


def steps_per_epoch(s: SoVITSTrainSettings, world_size: int = 1) -> int:
    from .data import ExpFolder
    from .sovits_data import BucketSampler, SoVITSDataset

    ds = SoVITSDataset(ExpFolder(Path(s.exp_dir), s.version), repeat_to=s.repeat_to)
    return len(BucketSampler(ds.lengths, s.batch_size, world_size, 0))


def prepare(s: SoVITSTrainSettings, world_size: int = 1, restart: bool = False,
            command_hint: str = "") -> tuple[SoVITSTrainSettings, ResumePlan]:
    """Check inputs, decide where to start; the returned settings carry the resume point."""
    for label, p in (("pretrained s2G", s.pretrained_s2G), ("pretrained s2D", s.pretrained_s2D)):
        if not Path(p).is_file():
            raise TrainError(f"{label} file {p} does not exist", fix=f"run `gsv models fetch {s.version}` or give the path")
    from ..models.sovits.weights import read_sovits

    base_version = read_sovits(s.pretrained_s2G).version
    if base_version != s.version:
        raise TrainError(f"the base generator {Path(s.pretrained_s2G).name} is a SoVITS {base_version} model, "
                         f"but this run trains {s.version}",
                         fix=f"use --version {base_version}, or the {s.version} base model")
    n_steps = steps_per_epoch(s, world_size)  # also checks the exp folder
    save_epochs(s.epochs, s.save_every)  # checks --save-every
    store = CheckpointStore(s.ckpt_dir)
    store.remove_temp_files()  # a kill during a save leaves its temp file (hundreds of MB for D)
    remove_temp_files(Path(s.weights_dir))
    fallback = None
    if not restart and store.latest() is None and s.ckpt_dir.is_dir():
        fallback = official_checkpoint(s.ckpt_dir, n_steps)
    plan = plan_resume(store, s.epochs, restart=restart, fallback=fallback, command_hint=command_hint,
                       exports=ExportFiles.sovits(s.weights_dir, s.exp_name))
    # a base model that was one of the moved exports ("continue from my own model") is read from there
    s.pretrained_s2G = str(plan.moved_path(s.pretrained_s2G))
    if plan.checkpoint is not None:
        ck = plan.checkpoint
        s.resume = {"G": str(ck.path("G")), "D": str(ck.path("D")), "epoch": ck.epoch, "step": ck.step}
    else:
        s.resume = None
    return s, plan


# ---------------------------------------------------------------------------- the loop
def train_worker(params: dict[str, Any], report: Reporter, dist: DistContext) -> None:
    """The training loop of one process (rank); rank 0 writes files and reports."""
    from .data import ExpFolder
    from .sovits_data import BucketSampler, SoVITSDataset, collate

    s = SoVITSTrainSettings.from_json(params)
    device = torch.device(dist.device)
    if device.type == "cuda":  # as the official trainer: float32 matmuls may use TF32 ("medium")
        torch.set_float32_matmul_precision("medium")
    seed_everything(s.seed)
    dataset = SoVITSDataset(ExpFolder(Path(s.exp_dir), s.version), repeat_to=s.repeat_to)
    sampler = BucketSampler(dataset.lengths, s.batch_size, dist.world_size, dist.rank)
    loader = torch.utils.data.DataLoader(dataset, batch_sampler=sampler, collate_fn=collate,
                                         num_workers=s.num_workers, persistent_workers=s.num_workers > 0,
                                         pin_memory=device.type == "cuda")
    net_g = build_generator(s.pretrained_s2G)
    net_g.cfg = replace(net_g.cfg, segment_size=s.segment_size // MelSettings.hop_length)  # official: frames
    net_d = build_discriminator(s.pretrained_s2D, s.version)
    start_epoch, step = 1, 0
    g_ck = d_ck = None
    if s.resume:
        g_ck, d_ck = load_checkpoint_file(Path(s.resume["G"])), load_checkpoint_file(Path(s.resume["D"]))
        kept = _load_into(net_g, g_ck["model"]) + _load_into(net_d, d_ck["model"])
        if kept and dist.is_main:
            report.warning(f"{kept} tensors of the checkpoint did not fit and start from the base model")
        start_epoch, step = int(s.resume["epoch"]) + 1, int(s.resume["step"])
    net_g.to(device)
    net_d.to(device)
    optim_g, optim_d = make_optimizers(net_g, net_d, s)
    amp = precision_for(device, s.fp16)
    scaler = make_scaler(device, amp)
    if g_ck is not None and d_ck is not None:
        optim_g.load_state_dict(g_ck["optimizer"])
        optim_d.load_state_dict(d_ck["optimizer"])
        _base_lrs(optim_g, s, True)
        _base_lrs(optim_d, s, False)
        gsv = g_ck.get("gsv") or {}
        if gsv.get("scaler") and amp:
            scaler.load_state_dict(gsv["scaler"])
        set_rng_state(gsv.get("rng"))
        del g_ck, d_ck
    sched_g = make_scheduler(optim_g, s.lr_decay, start_epoch)
    sched_d = make_scheduler(optim_d, s.lr_decay, start_epoch)
    g_run = dist.wrap(net_g, find_unused_parameters=True)
    d_run = dist.wrap(net_d)
    store = CheckpointStore(s.ckpt_dir)
    saves = save_epochs(s.epochs, s.save_every)
    progress = TrainProgress(report, s.epochs, len(sampler), start_epoch, step, s.metric_interval_s, device)
    if dist.is_main:
        _announce(report, s, dataset, len(sampler), dist, amp, start_epoch)
        source = getattr(net_g, "source", None)
        if not s.resume and getattr(source, "layout", None) == "export":
            report.warning(f"{Path(s.pretrained_s2G).name} is an exported model without the posterior encoder "
                           "(enc_q): it starts from random weights; a pretrained s2G file trains better")
        progress.start()
        import json

        from ..fsutil import atomic_write_text

        atomic_write_text(Path(s.exp_dir) / "config.json", json.dumps(official_config(s, net_g), indent=2) + "\n")
    exports: list[str] = []
    for epoch in range(start_epoch, s.epochs + 1):
        sampler.set_epoch(epoch)
        g_run.train()
        d_run.train()
        for batch in loader:
            batch = {k: v.to(device, non_blocking=True) for k, v in batch.items()}
            res = train_step(g_run, d_run, optim_g, optim_d, scaler, batch, s.c_mel, s.c_kl, s.segment_size, amp)
            step += 1
            losses = dist.all_mean(res.losses)
            if dist.is_main:
                progress.step(step, epoch, losses, optim_g.param_groups[0]["lr"], s.batch_size * dist.world_size,
                              extra={"grad_norm_d": res.grad_norm_d, "grad_norm_g": res.grad_norm_g})
        if dist.is_main:
            progress.epoch_end(epoch, step)
        if epoch in saves:
            if dist.is_main:
                path = export_weights(s, net_g, epoch, step)
                exports.append(str(path))
                report.artifact(path, role="weights")
                ck = save_checkpoint(store, s, net_g, net_d, optim_g, optim_d, scaler, epoch, step, [str(path)])
                report.artifact(ck.path("G"), role="checkpoint")
                report.info(f"saved {path.name} and a resumable checkpoint at epoch {epoch} (step {step})")
            dist.barrier()
        sched_g.step()
        sched_d.step()
    if dist.is_main:
        store.mark_finished(s.epochs)
        report.summary({"stage": "train-sovits", "epochs": s.epochs, "steps": step, "exports": exports,
                        "final_weights": exports[-1] if exports else None})
    dist.barrier()


def _announce(report: Reporter, s: SoVITSTrainSettings, dataset: Any, n_steps: int, dist: DistContext, amp: bool,
              start_epoch: int) -> None:
    where = f"{dist.world_size} processes" if dist.distributed else str(dist.device)
    report.info(f"SoVITS {s.version}: {len(dataset.unique_keys)} clips ({len(dataset)} items per epoch), "
                f"batch {s.batch_size} × {dist.world_size}, {n_steps} steps per epoch, on {where}"
                + (", fp16" if amp else ", fp32"))
    if start_epoch > 1:
        report.info(f"resuming after epoch {start_epoch - 1} of {s.epochs} (step {s.resume['step'] if s.resume else 0})")
