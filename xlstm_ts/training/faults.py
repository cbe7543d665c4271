"""Numerical faults in training: a non-finite loss or gradient stops the run with a clear
error, before the optimiser step that would spread it into the weights.

:class:`NonFiniteGuard` is a Lightning callback that :func:`~xlstm_ts.training.fit_module`
always adds. It checks the loss before each backward pass and the gradients before each
optimiser step; on the first NaN or inf it raises :class:`NonFiniteLossError`, naming the
epoch and batch and the likely cause, with a copy of the last good weights (those of the
last finished step: the failing step never reaches the optimiser).
"""

from __future__ import annotations

import copy
from typing import Any

import lightning as L
import torch
from lightning.pytorch.callbacks import Callback


class NonFiniteLossError(FloatingPointError, ValueError):
    """Training produced a NaN or infinite loss (or gradient); ``fit`` stops.

    Attributes
    ----------
    epoch : int
        Epoch of the fault (counting from 0).
    batch : int
        Batch of the fault within its epoch (counting from 0).
    stage : str
        ``"loss"``, ``"gradient"`` or ``"validation"``.
    state_dict : dict of str to Tensor
        The network's last good weights (CPU copies), taken before the failing step
        changed anything.
    """

    def __init__(
        self, message: str, *, epoch: int, batch: int, stage: str, state_dict: dict[str, Any]
    ) -> None:
        super().__init__(message)
        self.epoch, self.batch, self.stage, self.state_dict = epoch, batch, stage, state_dict


def _finite_inputs(batch: Any) -> bool:
    """Whether every floating tensor of a batch (a tuple or dict of tensors) is finite
    (NaN is allowed in targets and inputs: it marks missing values)."""
    parts = batch.values() if isinstance(batch, dict) else batch
    if isinstance(parts, torch.Tensor):
        parts = [parts]
    return all(
        not torch.isinf(p).any()
        for p in parts
        if isinstance(p, torch.Tensor) and p.is_floating_point()
    )


class NonFiniteGuard(Callback):
    """Raise :class:`NonFiniteLossError` on the first NaN or inf loss or gradient.

    The check costs one reduction per step (and one device synchronisation on a GPU).
    Under ``precision="16-mixed"`` the gradients are not checked: the gradient scaler
    skips the steps whose scaled gradients overflow, by design.
    """

    def __init__(self) -> None:
        self._batch: Any = None
        self._batch_idx = 0

    def on_train_batch_start(
        self, trainer: L.Trainer, module: L.LightningModule, batch: Any, batch_idx: int
    ) -> None:
        self._batch, self._batch_idx = batch, batch_idx

    def on_before_backward(
        self, trainer: L.Trainer, module: L.LightningModule, loss: torch.Tensor
    ) -> None:
        if not bool(torch.isfinite(loss.detach()).all()):
            self._fail(trainer, module, "loss", float(loss.detach().float().mean()))

    def on_before_optimizer_step(
        self, trainer: L.Trainer, module: L.LightningModule, optimizer: Any
    ) -> None:
        if str(trainer.precision).startswith("16"):
            return  # float16's gradient scaler skips steps with inf gradients by design
        grads = [p.grad for p in module.parameters() if p.grad is not None]
        # the largest |gradient| (one fused pass) is finite exactly when every one is
        if grads and not bool(torch.nn.utils.get_total_norm(grads, float("inf")).isfinite()):
            bad = next(
                name
                for name, p in module.named_parameters()
                if p.grad is not None and not bool(torch.isfinite(p.grad).all())
            )
            self._fail(trainer, module, "gradient", f"in {bad}")

    def on_validation_epoch_end(self, trainer: L.Trainer, module: L.LightningModule) -> None:
        if trainer.sanity_checking:
            return
        value = trainer.callback_metrics.get("val_loss")
        if value is not None and not bool(torch.isfinite(torch.as_tensor(value)).all()):
            self._fail(trainer, module, "validation", float(value))

    def _fail(self, trainer: L.Trainer, module: L.LightningModule, stage: str, value) -> None:
        epoch, batch = trainer.current_epoch, self._batch_idx
        network = getattr(module, "network", module)
        weights = {k: v.detach().cpu().clone() for k, v in network.state_dict().items()}
        causes = []
        if stage != "validation" and self._batch is not None and not _finite_inputs(self._batch):
            causes.append("the batch holds infinite input or target values")
        weights_ok = all(torch.isfinite(v).all() for v in weights.values() if v.is_floating_point())
        if not weights_ok:
            causes.append("the weights already hold NaN or inf (e.g. set by a callback)")
        lr = getattr(module, "learning_rate", None)
        causes.append(
            f"a learning rate too high for this data (learning_rate={lr}); lower it or set "
            "gradient_clip_val"
        )
        precision = str(trainer.precision)
        if "16" in precision:
            causes.append(f"overflow in {precision} precision; try precision='32-true'")
        where = (
            f"in the validation after epoch {epoch}"
            if stage == "validation"
            else f"at epoch {epoch}, batch {batch}"
        )
        message = (
            f"training stopped: non-finite {stage} ({value}) {where}. Likely cause: "
            + "; or ".join(causes)
            + ". The last good weights are in this error's state_dict attribute"
            + (
                "; with checkpoint_dir, the last finished epoch is in last.ckpt"
                if stage != "validation"
                else ""
            )
            + "."
        )
        raise NonFiniteLossError(
            message, epoch=epoch, batch=batch, stage=stage, state_dict=copy.copy(weights)
        )
