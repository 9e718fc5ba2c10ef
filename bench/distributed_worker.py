"""The MPI side of `python -m bench --only distributed`; run by bench/distributed.py as
``mpiexec -n 2 python -m bench.distributed_worker STEPS REPEAT WARMUP``.

Both configurations train the demo CNN (`numbagrad demo`'s model, Adam, float32, 8x8 inputs)
on the same global batch of 2 x PER_RANK samples, and are timed interleaved in this one job,
so that a busy neighbour slows both alike:

* ``2 ranks x 1 thread``: DistributedDataParallel, each rank one thread, its half of the
  batch, gradients all-reduced in backward;
* ``1 process x 2 threads``: rank 0 alone, two threads, the whole batch; rank 1 meanwhile
  sleeps (it polls an outstanding all-reduce every millisecond instead of blocking in MPI,
  which would busy-wait and take a core);
* ``1 process x 1 thread``: the same on one thread, the baseline that shows whether the
  second core helps at all.

Rank 0 prints one line, RESULT_TAG followed by JSON: samples per second of every timed block.
"""
from __future__ import annotations

import json
import sys
import time

import numpy as np

RESULT_TAG = "BENCH_DISTRIBUTED "
PER_RANK = 32          # the demo's default --batch-size (per rank under --distributed)
DDP, SINGLE = "2 ranks x 1 thread", "1 process x 2 threads"
ONE = "1 process x 1 thread"  # the reference both are meant to beat
BLAS_SETTLE_S = 0.1    # OpenBLAS's threads spin ~70 ms after a call; let them sleep first


def _trainer(model, x, y):
    """A closure running one Adam step of `model` on (x, y)."""
    import autograd
    import nn.functional as F
    import optim
    opt = optim.Adam(model.parameters(), lr=3e-3)
    xt, yt = autograd.tensor(x), autograd.tensor(y)

    def step():
        opt.zero_grad()
        F.cross_entropy(model(xt), yt).backward()
        opt.step()
    return step


def _idle_until_all_arrive(dist, autograd) -> None:
    """A barrier that sleeps instead of spinning while it waits."""
    work = dist.all_reduce(autograd.zeros(1), async_op=True)
    while not work.is_completed():
        time.sleep(0.001)


def _block(step, steps: int, samples: int) -> float:
    """Samples per second of `steps` calls of `step`."""
    t0 = time.perf_counter()
    for _ in range(steps):
        step()
    return steps * samples / (time.perf_counter() - t0)


def main(argv: list) -> int:
    steps, repeat, warmup = (int(a) for a in argv)
    import numba

    import autograd
    from autograd import distributed as dist
    from autograd.cli.demo import build_model
    from nn.parallel import DistributedDataParallel

    dist.init_process_group("mpi")
    rank, world = dist.get_rank(), dist.get_world_size()
    if world != 2:
        raise SystemExit(f"bench.distributed_worker: run under `mpiexec -n 2`, got {world} "
                         f"rank(s)")
    threads = min(2, numba.config.NUMBA_NUM_THREADS)  # 1 on a one-core machine
    rng = np.random.default_rng(0)
    x = rng.random((world * PER_RANK, 1, 8, 8), dtype=np.float32)  # digits-shaped, in [0, 1)
    y = rng.integers(0, 10, world * PER_RANK)
    mine = slice(rank * PER_RANK, (rank + 1) * PER_RANK)
    autograd.manual_seed(0)
    ddp_step = _trainer(DistributedDataParallel(build_model("cnn")), x[mine], y[mine])
    autograd.manual_seed(0)
    single_step = _trainer(build_model("cnn"), x, y) if rank == 0 else None

    def run_ddp(n: int) -> float:
        autograd.set_num_threads(1)
        dist.barrier()
        rate = _block(ddp_step, n, world * PER_RANK)
        dist.barrier()
        return rate

    def run_single(n: int, n_threads: int) -> float:
        rate = 0.0
        if rank == 0:
            autograd.set_num_threads(n_threads)
            rate = _block(single_step, n, world * PER_RANK)
            autograd.set_num_threads(1)
            time.sleep(BLAS_SETTLE_S)
        _idle_until_all_arrive(dist, autograd)
        return rate

    run_single(warmup, threads)
    run_single(warmup, 1)
    run_ddp(warmup)
    rates: dict = {DDP: [], SINGLE: [], ONE: []}
    for _ in range(repeat):
        rates[SINGLE].append(run_single(steps, threads))
        rates[ONE].append(run_single(steps, 1))
        rates[DDP].append(run_ddp(steps))
    if rank == 0:
        print(RESULT_TAG + json.dumps({
            "samples_per_s": rates, "threads": {DDP: 1, SINGLE: threads, ONE: 1},
            "threading_layer": numba.threading_layer(), "per_rank_batch": PER_RANK,
            "global_batch": world * PER_RANK}), flush=True)
    dist.destroy_process_group()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
