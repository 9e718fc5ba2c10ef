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
    loss_fn = nn.CrossEntropyLoss()
    start_epoch = 0
    if args.resume:
        state = autograd.load(args.resume)
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        scheduler.load_state_dict(state["scheduler"])
        loader = DataLoader(TensorDataset(x_train, y_train), batch_size=args.batch_size,
                            shuffle=True, seed=args.seed + state["epoch"])
        start_epoch = state["epoch"]
        print(f"resumed from {args.resume} after epoch {start_epoch}")
    n_params = sum(p.numel() for p in model.parameters())
    print(f"numbagrad demo: {args.model} with {n_params:,} parameters, "
          f"{len(y_train)} training / {len(y_test)} test digits, backend "
          f"{autograd.get_backend()}")
    started = time.perf_counter()
    for epoch in range(start_epoch, args.epochs):
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
    elapsed = time.perf_counter() - started
    accuracy = evaluate(model, x_test, y_test)
    print(f"test accuracy: {accuracy:.2%} ({len(y_test)} held-out digits, "
          f"trained in {elapsed:.1f} s)")
    if args.out:
        os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
        autograd.save({"model": model.state_dict(), "optimizer": optimizer.state_dict(),
                       "scheduler": scheduler.state_dict(), "epoch": args.epochs,
                       "model_kind": args.model, "test_accuracy": accuracy}, args.out)
        print(f"checkpoint written to {args.out}")
    sys.stdout.flush()
    return 0
