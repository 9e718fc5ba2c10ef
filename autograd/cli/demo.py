"""`numbagrad demo`: train a small CNN on the scikit-learn digits and report test accuracy.

Conv2d + BatchNorm2d + ReLU + MaxPool2d twice, then Linear; Adam with a linear warm-up
followed by cosine decay, stepped every batch; a held-out test split; a checkpoint holding
model, optimiser and scheduler state so that --resume continues where training stopped.
"""
from __future__ import annotations

import os
import sys
import time

import numpy as np

import autograd
from autograd.data import DataLoader, TensorDataset

from .progress import progress_bar


def load_digits_split(seed: int, test_fraction: float = 0.2):
    """The digits as (N, 1, 8, 8) float32 in [0, 1], split into train and test."""
    try:
        from sklearn.datasets import load_digits
    except ImportError:
        raise SystemExit("the demo needs scikit-learn for its bundled digits data: "
                         "pip install 'numbagrad[examples]'") from None
    digits = load_digits()
    x = (digits.images / 16.0).astype(np.float32)[:, None]
    y = digits.target.astype(np.int64)
    order = np.random.default_rng(seed).permutation(len(y))
    n_test = int(len(y) * test_fraction)
    test, train = order[:n_test], order[n_test:]
    return (x[train], y[train]), (x[test], y[test])


def build_model(kind: str):
    import nn
    if kind == "mlp":
        return nn.Sequential(nn.Flatten(), nn.MLP([64, 128, 64, 10], batchnorm=True))
    return nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(32 * 2 * 2, 10))


def build_schedule(optimizer, total_steps: int):
    """Linear warm-up over the first 10% of steps, then cosine decay to zero."""
    from optim.lr_scheduler import CosineAnnealingLR, LinearLR, SequentialLR
    warmup = max(1, total_steps // 10)
    return SequentialLR(optimizer, [
        LinearLR(optimizer, start_factor=0.1, end_factor=1.0, total_iters=warmup),
        CosineAnnealingLR(optimizer, T_max=max(1, total_steps - warmup))], milestones=[warmup])


def evaluate(model, x: np.ndarray, y: np.ndarray) -> float:
    model.eval()
    with autograd.no_grad():
        logits = model(autograd.from_numpy(x))
    model.train()
    return float((logits.data.argmax(1) == y).mean())


def save_checkpoint(args, model, optimizer, scheduler, epoch: int) -> None:
    """Everything --resume needs, written atomically after every epoch."""
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    autograd.save({"model": model.state_dict(), "optimizer": optimizer.state_dict(),
                   "scheduler": scheduler.state_dict(), "epoch": epoch,
                   "epochs_planned": args.epochs, "restart_steps": args.restart_steps,
                   "model_kind": args.model, "batch_size": args.batch_size,
                   "seed": args.seed}, args.out)


def resume(args, model, optimizer, scheduler, loader):
    """Restore model, optimiser and scheduler; return (finished epochs, scheduler).

    The loader is advanced past the finished epochs, so a run resumed with the options it
    was started with continues exactly as if it had never stopped. With a larger --epochs
    the finished plan is replaced by a fresh cosine from --lr over the remaining epochs."""
    state = autograd.load(args.resume)
    if state["model_kind"] != args.model:
        raise SystemExit(f"--resume {args.resume}: the checkpoint holds a {state['model_kind']} "
                         f"model, not --model {args.model}")
    model.load_state_dict(state["model"])
    optimizer.load_state_dict(state["optimizer"])
    done = state["epoch"]
    if state["epochs_planned"] != args.epochs:
        scheduler = restart_schedule(optimizer, args, (args.epochs - done) * len(loader))
    else:
        if state["restart_steps"]:
            scheduler = restart_schedule(optimizer, args, state["restart_steps"])
        scheduler.load_state_dict(state["scheduler"])
    for _ in range(done):
        iter(loader)  # each epoch draws its own permutation: replay the finished ones
    print(f"resumed from {args.resume} after epoch {done}")
    return done, scheduler


def restart_schedule(optimizer, args, steps: int):
    """A cosine from --lr to 0 over `steps` (used when --epochs outgrows the saved plan)."""
    from optim.lr_scheduler import CosineAnnealingLR
    for group in optimizer.param_groups:
        group["lr"] = group["initial_lr"] = args.lr
    args.restart_steps = steps
    return CosineAnnealingLR(optimizer, T_max=max(1, steps))


def run_demo(args) -> int:
    import nn
    import optim

    autograd.manual_seed(args.seed)
    (x_train, y_train), (x_test, y_test) = load_digits_split(args.seed)
    if args.limit:
        x_train, y_train = x_train[:args.limit], y_train[:args.limit]
    loader = DataLoader(TensorDataset(x_train, y_train), batch_size=args.batch_size,
                        shuffle=True, seed=args.seed)
    model = build_model(args.model)
    optimizer = optim.Adam(model.parameters(), lr=args.lr)
    scheduler = build_schedule(optimizer, args.epochs * len(loader))
    args.restart_steps = 0  # 0: the warm-up + cosine plan; else a restarted cosine's length
    loss_fn = nn.CrossEntropyLoss()
    start_epoch = 0
    if args.resume:
        start_epoch, scheduler = resume(args, model, optimizer, scheduler, loader)
    n_params = sum(p.numel() for p in model.parameters())
    print(f"numbagrad demo: {args.model} with {n_params:,} parameters, "
          f"{len(y_train)} training / {len(y_test)} test digits, backend "
          f"{autograd.get_backend()}")
    started = time.perf_counter()
    last = args.epochs if args.stop_after is None else min(args.epochs, args.stop_after)
    for epoch in range(start_epoch, last):
        bar = progress_bar(len(loader), f"epoch {epoch + 1}/{args.epochs}",
                           disable=args.no_progress)
        seen, tick = 0, time.perf_counter()
        for xb, yb in loader:
            loss = loss_fn(model(xb), yb)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            scheduler.step()
            seen += len(yb)
            bar.update(loss=loss.item(), rate=seen / (time.perf_counter() - tick))
        bar.close()
        if args.out:
            save_checkpoint(args, model, optimizer, scheduler, epoch + 1)
    elapsed = time.perf_counter() - started
    accuracy = evaluate(model, x_test, y_test)
    print(f"test accuracy: {accuracy:.2%} ({len(y_test)} held-out digits, "
          f"trained in {elapsed:.1f} s)")
    if args.out:
        print(f"checkpoint written to {args.out}")
    sys.stdout.flush()
    return 0
