"""GPT (stage 1) fine-tuning: the official recipe of ``s1_train.py`` without Lightning.

Recipe (see ``docs/training.md``):

- start from the pretrained ``s1*.ckpt`` (``weight`` loaded strictly, fp16 values in fp32);
- every batch: teacher-forced forward (:func:`backend.models.gpt.training.forward_train`, or
  ``forward_dpo`` with DPO), backward of the *summed* cross-entropy (+ DPO term); gradients
  **accumulate**, and the optimiser steps only at ``batch_idx > 0 and batch_idx % 4 == 0`` of each
  epoch (``batch_idx`` restarts every epoch; the leftover gradients carry over) — the official
  schedule, reproduced because it sets the effective batch;
- :class:`~backend.train.scaled_adam.ScaledAdam` (lr 0.01, betas 0.9/0.95, clipping 2×median
  over 1000 steps) with the official "locked" LR: 0.01 for the first step, 0.002 afterwards;
- fp16 autocast + GradScaler on GPUs that support it (official ``16-mixed``);
- a checkpoint + an export ``<exp>-e<E>.ckpt`` every ``save_every`` epochs **and at the last
  epoch**; a checkpoint holds model, optimiser, LR schedule, scaler, RNG state and the
  leftover (accumulated) gradients, so a resumed run continues exactly where the saved one was.

Text padding: ``text_padding="official"`` (the default) reproduces the official left-pad mask on
right-padded data; ``"right"`` masks the real pad positions instead. The choice and its
measurement are in ``docs/training.md``.

Events: as :class:`~backend.train.common.TrainProgress` describes, with *batches* as the step
unit of progress and curves (the optimiser steps only every 4th batch); values ``loss/total``
(summed CE, + ``loss/ce`` and ``loss/dpo`` with DPO), ``top_3_acc``, ``lr``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch

from ..jobs.events import Reporter
from .common import (CheckpointStore, ExportFiles, ResumePlan, TrainError, TrainProgress, autocast,
                     load_checkpoint_file, make_scaler, plan_resume, precision_for, remove_temp_files, rng_state,
                     save_epochs,
                     seed_everything, set_rng_state)
from .defaults import GPT
from .distributed import DistContext
from .gpt_ckpt import OFFICIAL_DIR, file_name, lightning_fields, official_checkpoint, trainer_state
from .scaled_adam import LockedLR, ScaledAdam, official_optimizer

ACCUMULATE = 4
CKPT_ROLE = "GPT"


@dataclass
class GPTTrainSettings:
    exp_dir: str
    weights_dir: str
    exp_name: str
    pretrained_s1: str
    version: str = "v2"
    batch_size: int = 8
    epochs: int = GPT.epochs
    save_every: int = GPT.save_every
    save_latest_only: bool = GPT.save_latest_only
    dpo: bool = False
    fp16: bool = GPT.fp16
    seed: int = GPT.seed
    num_workers: int = 0
    repeat_to: int = GPT.repeat_to
    max_sec: int = 54
    text_padding: str = GPT.text_padding
    lr_schedule: str = "official"
    metric_interval_s: float = GPT.metric_interval_s
    gpu_numbers: str = "0"
    resume: dict[str, Any] | None = field(default=None)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> GPTTrainSettings:
        return cls(**d)

    @property
    def ckpt_dir(self) -> Path:
        return Path(self.exp_dir) / f"logs_s1_{self.version}"

    def export_path(self, epoch: int) -> Path:
        return Path(self.weights_dir) / f"{self.exp_name}-e{epoch}.ckpt"


# ------------------------------------------------------------------------------ the step
@dataclass
class BatchResult:
    loss: float
    acc: float
    stepped: bool
    terms: dict[str, float]


class GPTTrainer:
    """Model + optimiser + schedule + scaler, and the official per-batch logic.

    Several processes (torchrun): no DDP wrapper; the accumulated gradients are averaged over
    the ranks right before each optimiser step (the same sum DDP's per-backward averaging gives).
    """

    def __init__(self, model: torch.nn.Module, dpo: bool = False, text_padding: str = "official",
                 fp16: bool = False, device: Any = "cpu", lr_schedule: str = "official") -> None:
        self.model = model
        self.dpo = dpo
        self.text_padding = text_padding
        self.device = torch.device(device)
        self.optimizer: ScaledAdam = official_optimizer(model.parameters())
        self.schedule = LockedLR(self.optimizer, lr_schedule)
        self.amp = precision_for(self.device, fp16)
        self.scaler = make_scaler(self.device, self.amp)
        self.steps = 0  # optimiser steps done

    def loss(self, batch: dict[str, Any]) -> tuple[torch.Tensor, float, dict[str, float]]:
        b = {k: v.to(self.device, non_blocking=True) for k, v in batch.items() if isinstance(v, torch.Tensor)}
        args = (b["phoneme_ids"], b["phoneme_ids_len"], b["semantic_ids"], b["semantic_ids_len"], b["bert_feature"])
        from ..models.gpt.training import forward_dpo, forward_train

        model = self.model
        with autocast(self.device, self.amp):
            if self.dpo:
                out = forward_dpo(model, *args, text_padding=self.text_padding)  # type: ignore[arg-type]
                terms = {"total": float(out.loss.detach()), "ce": float(out.ce_loss.detach()), "dpo": float(out.dpo_term.detach())}
            else:
                out = forward_train(model, *args, text_padding=self.text_padding)  # type: ignore[arg-type]
                terms = {"total": float(out.loss.detach())}
        return out.loss, out.acc, terms

    def train_batch(self, batch: dict[str, Any], batch_idx: int) -> BatchResult:
        """One official ``training_step``: backward every batch, step at ``batch_idx % 4 == 0`` (> 0)."""
        loss, acc, terms = self.loss(batch)
        self.scaler.scale(loss).backward()
        stepped = batch_idx > 0 and batch_idx % ACCUMULATE == 0
        if stepped:
            self.step_optimizer()
        return BatchResult(float(loss.detach()), acc, stepped, terms)

    def step_optimizer(self) -> None:
        if torch.distributed.is_available() and torch.distributed.is_initialized():
            world = torch.distributed.get_world_size()
            for p in self.model.parameters():
                if p.grad is not None:
                    torch.distributed.all_reduce(p.grad)
                    p.grad.div_(world)
        self.scaler.step(self.optimizer)
        self.scaler.update()
        self.optimizer.zero_grad(set_to_none=True)
        self.schedule.step()
        self.steps += 1

    @property
    def lr(self) -> float:
        return float(self.optimizer.param_groups[0]["lr"])

    # ------------------------------------------------------------------ checkpoint state
    def state(self) -> dict[str, Any]:
        grads = {n: p.grad.detach().cpu().clone() for n, p in self.model.named_parameters() if p.grad is not None}
        return {"optimizer": self.optimizer.state_dict(), "schedule": self.schedule.state_dict(),
                "scaler": self.scaler.state_dict() if self.amp else None, "grads": grads, "steps": self.steps}

    def load_state(self, st: dict[str, Any]) -> None:
        self.optimizer.load_state_dict(st["optimizer"])
        self.schedule.load_state_dict(st.get("schedule") or {})
        self.schedule.apply()
        if st.get("scaler") and self.amp:
            self.scaler.load_state_dict(st["scaler"])
        params = dict(self.model.named_parameters())
        for n, g in (st.get("grads") or {}).items():
            if n in params:
                params[n].grad = g.to(params[n].device, params[n].dtype)
        self.steps = int(st.get("steps", 0))


# ------------------------------------------------------------------------------- files
def load_base(path: str | Path) -> torch.nn.Module:
    """The GPT to fine-tune, in float32 (official: the fp16 weights of the ``.ckpt`` in fp32)."""
    from ..models.gpt_weights import load_gpt

    return load_gpt(path, dtype=torch.float32)


def official_config(s: GPTTrainSettings, model: torch.nn.Module, batch_size: int) -> dict[str, Any]:
    """The config dict the official trainer stores in its exports (``tmp_s1.yaml`` content)."""
    base = dict(getattr(getattr(model, "file", None), "config", None) or {})
    exp = Path(s.exp_dir)
    return {
        "train": {"seed": s.seed, "epochs": s.epochs, "batch_size": batch_size, "save_every_n_epoch": s.save_every,
                  "precision": "16-mixed" if s.fp16 else "32", "gradient_clip": 1.0,
                  "if_save_every_weights": True, "if_save_latest": s.save_latest_only, "if_dpo": s.dpo,
                  "half_weights_save_dir": s.weights_dir, "exp_name": s.exp_name},
        "optimizer": {"lr": 0.01, "lr_init": 1e-05, "lr_end": 0.0001, "warmup_steps": 2000, "decay_steps": 40000},
        "data": {"max_eval_sample": 8, "max_sec": s.max_sec, "num_workers": s.num_workers, "pad_val": 1024},
        "model": {**dict(base.get("model", {})), **model.config.model_section()},
        "inference": dict(base.get("inference", {"top_k": 15})),
        "pretrained_s1": s.pretrained_s1,
        "train_semantic_path": str(exp / "6-name2semantic.tsv"),
        "train_phoneme_path": str(exp / "2-name2text.txt"),
        "output_dir": str(s.ckpt_dir),
    }


def save_checkpoint(store: CheckpointStore, s: GPTTrainSettings, trainer: GPTTrainer, epoch: int, batches: int,
                    exports: list[str]):
    """One checkpoint in the official layout (``ckpt/epoch=E-step=S.ckpt``, see :mod:`.gpt_ckpt`) that
    also holds our complete trainer state; the manifest names it."""
    ours = {**trainer.state(), "batches": batches, "rng": rng_state()}
    payload = {"state_dict": {f"model.{k}": v.detach().cpu() for k, v in trainer.model.state_dict().items()},
               **lightning_fields(epoch, trainer.steps, batches, ours["optimizer"]), "gsv": ours}
    return store.save(epoch, trainer.steps, {CKPT_ROLE: payload}, {CKPT_ROLE: file_name(epoch, trainer.steps)},
                      total_epochs=s.epochs, keep_latest_only=s.save_latest_only, exports=exports)


def prepare(s: GPTTrainSettings, restart: bool = False, command_hint: str = "") -> tuple[GPTTrainSettings, ResumePlan]:
    """Resume decision (in the parent, before any worker starts); ``s.resume`` names the checkpoint."""
    store = CheckpointStore(s.ckpt_dir)
    store.remove_temp_files()  # a kill during a save leaves its temp file behind (the size of a checkpoint)
    remove_temp_files(s.ckpt_dir / OFFICIAL_DIR)
    remove_temp_files(Path(s.weights_dir))
    # an official run's checkpoint (no manifest) is picked up as the official trainer would
    fallback = None if restart or store.latest() is not None else official_checkpoint(s.ckpt_dir, CKPT_ROLE)
    plan = plan_resume(store, s.epochs, restart=restart, fallback=fallback, command_hint=command_hint,
                       exports=ExportFiles.gpt(s.weights_dir, s.exp_name))
    # a base model that was one of the moved exports ("continue from my own model") is read from there
    s.pretrained_s1 = str(plan.moved_path(s.pretrained_s1))
    if plan.checkpoint is not None:
        s.resume = {"path": str(plan.checkpoint.path(CKPT_ROLE)), "epoch": plan.checkpoint.epoch,
                    "step": plan.checkpoint.step}
    return s, plan


def _load_resume(s: GPTTrainSettings, model: torch.nn.Module) -> dict[str, Any]:
    ck = load_checkpoint_file(Path(s.resume["path"]))  # type: ignore[index]
    sd = {k.removeprefix("model."): v for k, v in ck.get("state_dict", {}).items()}
    missing, unexpected = model.load_state_dict(sd, strict=False)
    if missing or unexpected:
        raise TrainError(f"{s.resume['path']} does not fit this model ({len(missing)} missing, "  # type: ignore[index]
                         f"{len(unexpected)} unexpected tensors)", fix="use --restart to start from the base model")
    return ck


def _restore(trainer: GPTTrainer, ck: dict[str, Any], report: Reporter | None) -> dict[str, Any]:
    """Put a checkpoint's trainer state back. A file of ours restores exactly; an official one
    gives what Lightning kept — its optimiser state if it fits ours, else a fresh optimiser."""
    state, complete = trainer_state(ck, ACCUMULATE)
    if complete:
        trainer.load_state(state)
        return state
    try:
        trainer.load_state(state)
    except (KeyError, ValueError, RuntimeError) as e:  # no or an unfitting optimiser state
        trainer.schedule.load_state_dict(state["schedule"])
        trainer.schedule.apply()
        trainer.steps = int(state["steps"])
        if report is not None:
            report.warning(f"the official checkpoint's optimiser state cannot be used ({type(e).__name__}): "
                           "the optimiser starts fresh from its weights and step")
    return state


# ------------------------------------------------------------------------------- worker
def train_worker(params: dict[str, Any], report: Reporter, dist: DistContext) -> None:
    """The training loop of one process (rank); rank 0 writes files and reports."""
    from .data import ExpFolder
    from .gpt_data import BucketSampler, GPTDataset, collate, effective_batch_size

    s = GPTTrainSettings.from_json(params)
    device = torch.device(dist.device)
    seed_everything(s.seed)
    dataset = GPTDataset(ExpFolder(Path(s.exp_dir), s.version), s.max_sec, s.repeat_to)
    batch = effective_batch_size(s.batch_size, len(dataset), s.dpo)
    sampler = BucketSampler(dataset.durations, batch, dist.world_size, dist.rank, seed=s.seed)
    loader = torch.utils.data.DataLoader(dataset, batch_sampler=sampler, collate_fn=collate,
                                         num_workers=s.num_workers, persistent_workers=s.num_workers > 0)
    if len(sampler) <= ACCUMULATE:
        raise TrainError(
            f"only {len(sampler)} batches per epoch ({len(dataset)} items, batch {batch} × {dist.world_size}): the "
            f"official schedule steps the optimiser at batch {ACCUMULATE + 1} of an epoch, so nothing would be learned",
            fix=f"lower --batch-size to {max(1, len(dataset) // ((ACCUMULATE + 1) * dist.world_size))} or less")
    model = load_base(s.pretrained_s1)
    start_epoch, batches = 1, 0
    ck = _load_resume(s, model) if s.resume else None
    model.to(device)
    trainer = GPTTrainer(model, s.dpo, s.text_padding, s.fp16, device, s.lr_schedule)
    if ck is not None:
        state = _restore(trainer, ck, report if dist.is_main else None)
        set_rng_state(state.get("rng"))
        start_epoch, batches = int(s.resume["epoch"]) + 1, int(state.get("batches", 0))  # type: ignore[index]
        del ck
    store = CheckpointStore(s.ckpt_dir)
    saves = save_epochs(s.epochs, s.save_every)
    progress = TrainProgress(report, s.epochs, len(sampler), start_epoch, batches, s.metric_interval_s, device)
    if dist.is_main:
        where = f"{dist.world_size} processes" if dist.distributed else str(device)
        report.info(f"GPT {s.version}: {len(dataset.unique_keys)} clips ({len(dataset)} items per epoch), batch "
                    f"{batch} × {dist.world_size}, {len(sampler)} batches per epoch (optimiser step every "
                    f"{ACCUMULATE}), on {where}" + (", fp16" if trainer.amp else ", fp32") + (", DPO" if s.dpo else ""))
        if start_epoch > 1:
            report.info(f"resuming after epoch {start_epoch - 1} of {s.epochs} (optimiser step {trainer.steps})")
        progress.start()
    config = official_config(s, model, batch)
    exports: list[str] = []
    for epoch in range(start_epoch, s.epochs + 1):
        sampler.set_epoch(epoch)
        model.train()
        for batch_idx, b in enumerate(loader):
            res = trainer.train_batch(b, batch_idx)
            batches += 1
            losses = dist.all_mean(res.terms)
            if dist.is_main:
                progress.step(batches, epoch, losses, trainer.lr, batch * dist.world_size,
                              extra={"top_3_acc": res.acc, "optimizer_step": trainer.steps})
        if dist.is_main:
            progress.epoch_end(epoch, batches)
        if epoch in saves:
            if dist.is_main:
                model.eval()
                from ..models.gpt_weights import export_gpt

                path = export_gpt(model, s.weights_dir, s.exp_name, epoch, config)
                exports.append(str(path))
                report.artifact(path, role="weights")
                saved = save_checkpoint(store, s, trainer, epoch, batches, [str(path)])
                report.artifact(saved.path(CKPT_ROLE), role="checkpoint")
                report.info(f"saved {path.name} and a resumable checkpoint at epoch {epoch} "
                            f"(optimiser step {trainer.steps})")
            dist.barrier()
    if dist.is_main:
        store.mark_finished(s.epochs)
        report.summary({"stage": "train-gpt", "epochs": s.epochs, "optimizer_steps": trainer.steps,
                        "batches": batches, "exports": exports, "final_weights": exports[-1] if exports else None})
    dist.barrier()

