"""A small CPU training loop for IR-Net models (used for the digits models and the ablation).

Adam + cosine learning-rate decay, cross-entropy on the model's log-probabilities,
random +-1 pixel shifts as augmentation, and the EDE schedule advanced once per
epoch (t from Tmin to Tmax, ``layers.set_ede_epoch``).  Progress is a plain-text
bar on stderr.
"""
from __future__ import annotations

import sys
import time
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from .layers import set_ede_epoch

__all__ = ["TrainConfig", "train", "evaluate", "ProgressBar"]


@dataclass
class TrainConfig:
    epochs: int = 40
    batch_size: int = 64
    lr: float = 5e-3
    weight_decay: float = 0.0
    max_shift: int = 1          # random translation in pixels (augmentation)
    seed: int = 0
    threads: int = 1            # the machine is shared: one thread by default
    progress: bool = True


class ProgressBar:
    """`label [#####-----] 12/40 key=value ...` rewritten in place (one line per update off a tty)."""

    def __init__(self, total: int, label: str, width: int = 30, stream=sys.stderr, enabled=True):
        self.total, self.label, self.width, self.stream = total, label, width, stream
        self.enabled = enabled
        self.tty = hasattr(stream, "isatty") and stream.isatty()
        self.start = time.perf_counter()

    def update(self, done: int, **values):
        if not self.enabled:
            return
        filled = int(self.width * done / self.total)
        stats = " ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}"
                         for k, v in values.items())
        line = (f"{self.label} [{'#' * filled}{'-' * (self.width - filled)}] {done}/{self.total} "
                f"{stats} {time.perf_counter() - self.start:.0f}s")
        self.stream.write(("\r" + line) if self.tty else (line + "\n"))
        if self.tty and done == self.total:
            self.stream.write("\n")
        self.stream.flush()


def _random_shift(x: torch.Tensor, max_shift: int, gen: torch.Generator) -> torch.Tensor:
    """Translate each image by up to ``max_shift`` pixels, filling with the background (-1)."""
    if max_shift == 0:
        return x
    n, _, h, w = x.shape
    padded = F.pad(x, (max_shift,) * 4, value=-1.0)
    offsets = torch.randint(0, 2 * max_shift + 1, (n, 2), generator=gen)
    return torch.stack([padded[i, :, dy:dy + h, dx:dx + w]
                        for i, (dy, dx) in enumerate(offsets.tolist())])


@torch.no_grad()
def evaluate(model: nn.Module, x: np.ndarray, y: np.ndarray, batch_size: int = 256) -> float:
    """Top-1 accuracy (fraction) of ``model`` in eval mode."""
    model.eval()
    correct = 0
    for i in range(0, len(x), batch_size):
        logits = model(torch.from_numpy(x[i:i + batch_size]))
        correct += int((logits.argmax(1).numpy() == y[i:i + batch_size]).sum())
    return correct / len(x)


def train(model: nn.Module, x_train: np.ndarray, y_train: np.ndarray, x_test: np.ndarray,
          y_test: np.ndarray, cfg: TrainConfig, label: str = "train") -> dict:
    """Train ``model`` in place; returns {'test_acc', 'train_acc', 'seconds'}.

    ``x_*`` are preprocessed float32 NCHW arrays.  The model must return
    log-probabilities or logits (cross-entropy is applied to log_softmax of the
    output, which leaves log-probabilities unchanged).
    """
    torch.manual_seed(cfg.seed)
    gen = torch.Generator().manual_seed(cfg.seed)
    previous_threads = torch.get_num_threads()
    torch.set_num_threads(cfg.threads)
    try:
        xt, yt = torch.from_numpy(x_train), torch.from_numpy(y_train)
        steps_per_epoch = (len(xt) + cfg.batch_size - 1) // cfg.batch_size
        opt = torch.optim.Adam(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
        sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, cfg.epochs * steps_per_epoch)
        bar = ProgressBar(cfg.epochs, label, enabled=cfg.progress)
        start = time.perf_counter()
        for epoch in range(cfg.epochs):
            ede = set_ede_epoch(model, epoch, cfg.epochs)
            model.train()
            order = torch.randperm(len(xt), generator=gen)
            total_loss = 0.0
            for s in range(steps_per_epoch):
                idx = order[s * cfg.batch_size:(s + 1) * cfg.batch_size]
                xb = _random_shift(xt[idx], cfg.max_shift, gen)
                loss = F.nll_loss(F.log_softmax(model(xb), dim=1), yt[idx])
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
                sched.step()
                total_loss += loss.item() * len(idx)
            test_acc = evaluate(model, x_test, y_test)
            extra = {} if ede is None else {"ede_t": ede[1]}
            bar.update(epoch + 1, loss=total_loss / len(xt), test_acc=test_acc, **extra)
        return {"test_acc": evaluate(model, x_test, y_test),
                "train_acc": evaluate(model, x_train, y_train),
                "seconds": time.perf_counter() - start}
    finally:
        torch.set_num_threads(previous_threads)
