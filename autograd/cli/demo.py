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

from . import checkpoint
from .arguments import float_in, int_in, report
from .checkpoint import MAX_BATCH_SIZE, MAX_EPOCHS, MAX_SEED, CheckpointError
from .demo_distributed import DistributedRun
from .progress import progress_bar

PROG = "numbagrad demo"
DEFAULT_OUT = "checkpoints/demo.ckpt"
# The options --resume takes from the checkpoint when they are not given (see add_arguments).
DEFAULTS = {"epochs": 12, "batch_size": 32, "lr": 3e-3, "model": "cnn", "seed": 0,
            "limit": None}
STORED_AS = {"model": "model_kind", "epochs": "epochs_planned"}


def add_arguments(demo) -> None:
    """The demo's options. Those defaulting to None here take DEFAULTS, or on --resume the
    checkpoint's values (one given explicitly must agree with the checkpoint)."""
    resumed = "; with --resume: the checkpoint's"
    demo.add_argument("--epochs", type=int_in(1, MAX_EPOCHS), default=None,
                      help=f"epochs to train (default: {DEFAULTS['epochs']}{resumed} plan; a "
                           f"larger value extends a resumed run with a fresh cosine from --lr)")
    demo.add_argument("--batch-size", type=int_in(1, MAX_BATCH_SIZE), default=None,
                      help=f"images per step (default: {DEFAULTS['batch_size']}{resumed}; a "
                           f"resumed run refuses a different one, which would misalign the "
                           f"data order and the learning-rate schedule)")
    demo.add_argument("--lr", type=float_in(0.0, 10.0, lo_open=True), default=None,
                      help=f"peak Adam learning rate (default: {DEFAULTS['lr']}{resumed})")
    demo.add_argument("--model", choices=["cnn", "mlp"], default=None,
                      help=f"network (default: {DEFAULTS['model']}{resumed})")
    demo.add_argument("--seed", type=int_in(0, MAX_SEED), default=None,
                      help=f"seed of the split, the initial weights and the data order "
                           f"(default: {DEFAULTS['seed']}{resumed})")
    demo.add_argument("--out", default=None, metavar="PATH",
                      help=f"checkpoint written after every epoch (default: {DEFAULT_OUT}, or "
                           f"the --resume file; an empty PATH writes none)")
    demo.add_argument("--resume", metavar="CHECKPOINT", default=None,
                      help="continue training from a checkpoint written by the demo (default: "
                           "none)")
    demo.add_argument("--limit", type=int_in(1, 10 ** 9), default=None, metavar="N",
                      help=f"train on only the first N training images (default: all{resumed})")
    demo.add_argument("--stop-after", type=int_in(1, MAX_EPOCHS), default=None, metavar="N",
                      help="stop after epoch N, as if interrupted; then use --resume (default: "
                           "train every epoch)")
    demo.add_argument("--no-progress", action="store_true",
                      help="no progress bar (default: show one)")
    demo.add_argument("--compile", action="store_true",
                      help="record the training step once and replay it as kernels "
                           "(autograd.compile; default: eager)")
    demo.add_argument("--distributed", action="store_true",
                      help="data-parallel over MPI: run as `mpiexec -n N numbagrad demo "
                           "--distributed`; --batch-size is per rank (default: one process)")


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


def restart_schedule(optimizer, args, steps: int):
    """A cosine from --lr to 0 over `steps` (used when --epochs outgrows the saved plan)."""
    from optim.lr_scheduler import CosineAnnealingLR
    for group in optimizer.param_groups:
        group["lr"] = group["initial_lr"] = args.lr
    args.restart_steps = steps
    return CosineAnnealingLR(optimizer, T_max=max(1, steps))


def resolve_settings(args, state: dict | None) -> None:
    """Fill the options left as None from DEFAULTS or the checkpoint; refuse combinations
    that cannot work. Raises CheckpointError (one line)."""
    for key, default in DEFAULTS.items():
        given, stored_key = getattr(args, key), STORED_AS.get(key, key)
        if state is None or stored_key not in state:
            setattr(args, key, default if given is None else given)
            continue
        stored = state[stored_key]
        if given is None:
            setattr(args, key, stored)
        elif given != stored and key not in ("epochs", "lr"):
            flag = "--" + key.replace("_", "-")
            shown = "all images" if stored is None else stored
            raise CheckpointError(
                f"{flag} {given} does not match the checkpoint's {key.replace('_', ' ')} "
                f"{shown}: a resumed run keeps the settings it started with (omit {flag} to "
                f"use {shown})")
    if state is not None:
        done, planned = state["epoch"], state["epochs_planned"]
        if args.epochs <= done:
            raise CheckpointError(f"--resume {args.resume}: the checkpoint has finished {done} "
                                  f"of {planned} epochs; pass --epochs larger than {done} to "
                                  f"train further")
        if args.lr != state.get("lr", args.lr) and args.epochs == planned:
            raise CheckpointError(f"--lr {args.lr} differs from the checkpoint's {state['lr']}: "
                                  f"on --resume, --lr applies only when --epochs extends the "
                                  f"run beyond its {planned} planned epochs")
        if args.stop_after is not None and args.stop_after <= done:
            raise CheckpointError(f"--stop-after {args.stop_after}: the checkpoint has already "
                                  f"finished {done} epochs")
    if args.out is None:
        args.out = args.resume or DEFAULT_OUT
    if args.out:
        check_out(args.out)


def check_out(path: str) -> None:
    """Checkpoints go to a regular file or a new path, never onto a directory or device."""
    if os.path.isdir(path):
        raise CheckpointError(f"--out {path}: is a directory")
    if os.path.exists(path) and not os.path.isfile(path):
        raise CheckpointError(f"--out {path}: not a regular file (a device or pipe?); "
                              f"checkpoints are written only to regular files or new paths")
    parent = os.path.dirname(os.path.abspath(path))
    try:
        os.makedirs(parent, exist_ok=True)
    except OSError as e:
        raise CheckpointError(f"--out {path}: cannot create {parent}: {e.strerror}") from None
    if not os.access(parent, os.W_OK):
        raise CheckpointError(f"--out {path}: {parent} is not writable")


def resume(args, state: dict, model, optimizer, scheduler, loader):
    """Check and restore model, optimiser and scheduler; return (finished epochs, scheduler).

    The loader is advanced past the finished epochs, so a run resumed with the options it
    was started with continues exactly as if it had never stopped. With a larger --epochs
    the finished plan is replaced by a fresh cosine from --lr over the remaining epochs."""
    where = f"--resume {args.resume}:"
    steps = len(loader)
    if state.get("steps_per_epoch", steps) != steps:
        raise CheckpointError(f"{where} the checkpoint ran {state['steps_per_epoch']} steps per "
                              f"epoch, this run {steps} (different --limit?)")
    done, planned, restart = state["epoch"], state["epochs_planned"], state["restart_steps"]
    if restart > planned * steps:
        raise CheckpointError(f"{where} restart_steps = {restart:,} exceeds the "
                              f"{planned * steps:,} steps of {planned} epochs")
    checkpoint.check_model_state(state["model"], model, f"{where} model")
    _check_optimizer_state(state["optimizer"], optimizer, model, f"{where} optimizer")
    extend = args.epochs != planned
    if restart and not extend:
        scheduler = restart_schedule(optimizer, args, restart)
    if not extend:
        checkpoint.check_like(state["scheduler"], scheduler.state_dict(), f"{where} scheduler",
                              exact=("T_max", "total_iters", "_milestones", "start_factor",
                                     "end_factor", "eta_min"))
        if not -1 <= state["scheduler"]["last_epoch"] <= planned * steps:
            raise CheckpointError(f"{where} the scheduler's last_epoch is out of range")
    try:
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        if extend:
            scheduler = restart_schedule(optimizer, args, (args.epochs - done) * steps)
        else:
            scheduler.load_state_dict(state["scheduler"])
    except Exception as e:  # noqa: BLE001 - an untrusted file: any failure is a bad checkpoint
        raise CheckpointError(f"{where} cannot restore it: {type(e).__name__}: {e}") from None
    for _ in range(done):
        iter(loader)  # each epoch draws its own permutation: replay the finished ones
    print(f"resumed from {args.resume} after epoch {done} of {planned} ({args.model}, batch "
          f"size {args.batch_size}, seed {args.seed}"
          + (f", limit {args.limit}" if args.limit else "") + ")")
    return done, scheduler


def _check_optimizer_state(state: dict, optimizer, model, where: str) -> None:
    """Adam's param_groups as this run builds them; per-parameter buffers of the parameter's
    shape and dtype, and a step count in range (the fused kernels trust both)."""
    template = optimizer.state_dict()
    checkpoint.check_like(dict.fromkeys(state), dict.fromkeys(template), where)
    checkpoint.check_like(
        [{k: list(v) if isinstance(v, tuple) else v for k, v in g.items()}
         for g in state["param_groups"]] if isinstance(state["param_groups"], list)
        else state["param_groups"],
        [{k: list(v) if isinstance(v, tuple) else v for k, v in g.items()}
         for g in template["param_groups"]], f"{where} param_groups",
        exact=("params", "betas", "eps", "weight_decay", "amsgrad", "maximize",
               "decoupled_weight_decay"))
    params = list(model.parameters())
    if not isinstance(state["state"], dict):
        raise CheckpointError(f"{where} state is a {type(state['state']).__name__}, not a dict")
    for index, buffers in state["state"].items():
        if not isinstance(index, int) or not 0 <= index < len(params) \
                or not isinstance(buffers, dict):
            raise CheckpointError(f"{where} state has an entry {str(index)[:20]!r} that is not "
                                  f"a parameter index with a dict of buffers")
        param = params[index].data
        for name, value in buffers.items():
            if name == "step":
                checkpoint.check_like(value, 0, f"{where} state[{index}]['step']")
                if value < 0:
                    raise CheckpointError(f"{where} state[{index}]['step'] is negative")
                continue
            data = value.data if isinstance(value, autograd.Tensor) else value
            if not isinstance(data, np.ndarray) or data.shape != param.shape \
                    or data.dtype != param.dtype:
                got = (f"{data.shape} {data.dtype}" if isinstance(data, np.ndarray)
                       else type(data).__name__)
                raise CheckpointError(f"{where} state[{index}][{name!r}] is {got}, parameter "
                                      f"{index} is {param.shape} {param.dtype}")


def _numba_cache_is_cold() -> bool | None:
    """True if no numba cache index exists yet (the first run compiles every kernel), False
    if one does, None if the cache lives where this cannot tell cheaply."""
    root = os.environ.get("NUMBA_CACHE_DIR")
    if not root:
        root = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                            "kernels")
        if not os.access(root, os.W_OK):
            return None  # numba falls back to a per-user cache directory
    for _dirpath, _dirs, files in os.walk(root):
        if any(f.endswith(".nbi") for f in files):
            return False
    return True


def run_demo(args) -> int:
    try:
        state = checkpoint.read(args.resume) if args.resume else None
        resolve_settings(args, state)
    except CheckpointError as e:
        return report(PROG, e)
    import nn
    import optim

    run = DistributedRun(args.distributed)  # --distributed: this rank, its shard, DDP
    autograd.manual_seed(args.seed)
    (x_train, y_train), (x_test, y_test) = load_digits_split(args.seed)
    if args.limit:
        x_train, y_train = x_train[:args.limit], y_train[:args.limit]
    # BatchNorm1d (in the mlp) cannot train on a batch of one image: refuse batches of one,
    # and drop a last batch of one (one image per epoch unseen, as PyTorch users do)
    if args.compile and args.distributed:
        return report(PROG, "--compile and --distributed cannot be combined yet: a compiled "
                            "step does not replay the gradient all-reduce")
    if args.model == "mlp" and min(args.batch_size, len(y_train)) < 2:
        return report(PROG, "the mlp model's BatchNorm1d needs at least 2 images per batch: "
                            "use --batch-size >= 2 (and --limit >= 2) or --model cnn")
    if run.enabled:
        loader = run.loader(TensorDataset(x_train, y_train), args.batch_size, args.seed,
                            no_single=args.model == "mlp")
    else:
        loader = DataLoader(TensorDataset(x_train, y_train), batch_size=args.batch_size,
                            shuffle=True, seed=args.seed,
                            drop_last=args.model == "mlp" and len(y_train) % args.batch_size == 1)
    model = build_model(args.model)
    optimizer = optim.Adam(model.parameters(), lr=args.lr)
    scheduler = build_schedule(optimizer, args.epochs * len(loader))
    args.restart_steps = 0  # 0: the warm-up + cosine plan; else a restarted cosine's length
    loss_fn = nn.CrossEntropyLoss()
    start_epoch = 0
    if state is not None:
        try:
            start_epoch, scheduler = resume(args, state, model, optimizer, scheduler, loader)
        except CheckpointError as e:
            return report(PROG, e)
    n_params = sum(p.numel() for p in model.parameters())
    print(f"numbagrad demo: {args.model} with {n_params:,} parameters, "
          f"{len(y_train)} training / {len(y_test)} test digits, backend "
          f"{autograd.get_backend()}")
    train_model = run.wrap(model)  # after --resume: DDP copies rank 0's state everywhere
    cold = _numba_cache_is_cold()
    if cold or cold is None:
        print("compiling kernels (first run only)…" if cold else
              "compiling kernels if needed (first run only; may be quick)…", file=sys.stderr)
        sys.stderr.flush()
    settings = {"epochs_planned": args.epochs, "model_kind": args.model,
                "batch_size": args.batch_size, "seed": args.seed, "lr": args.lr,
                "limit": args.limit, "steps_per_epoch": len(loader)}

    def train_step(xb, yb):
        loss = loss_fn(train_model(xb), yb)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        scheduler.step()
        return loss.detach()
    step = autograd.compile(train_step) if args.compile else train_step
    started = time.perf_counter()
    last = args.epochs if args.stop_after is None else min(args.epochs, args.stop_after)
    for epoch in range(start_epoch, last):
        run.set_epoch(epoch)
        bar = progress_bar(len(loader), f"epoch {epoch + 1}/{args.epochs}",
                           disable=args.no_progress or not run.is_main)
        seen, tick = 0, time.perf_counter()
        for xb, yb in loader:
            loss = step(xb, yb)
            seen += len(yb) * run.world
            bar.update(loss=loss.item(), rate=seen / (time.perf_counter() - tick))
        bar.close()
        if args.out and run.is_main:
            try:
                checkpoint.save(args.out, model, optimizer, scheduler,
                                {**settings, "epoch": epoch + 1,
                                 "restart_steps": args.restart_steps})
            except (OSError, ValueError) as e:
                report(PROG, f"cannot write the checkpoint {args.out}: {e}")
                return 1
    elapsed = time.perf_counter() - started
    accuracy = evaluate(model, x_test, y_test)
    print(f"test accuracy: {accuracy:.2%} ({len(y_test)} held-out digits, "
          f"trained in {elapsed:.1f} s)")
    if args.out:
        print(f"checkpoint written to {args.out}")
    sys.stdout.flush()
    run.close()
    return 0
