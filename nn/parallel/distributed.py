"""DistributedDataParallel: one model replica per MPI rank, gradients averaged in backward.

At construction every rank copies rank 0's parameters and buffers, so the replicas start
equal. During backward each parameter's post-accumulate-grad hook marks it ready; the
parameters are grouped into buckets (in reverse registration order, which is roughly the
order backward finishes them, at most `bucket_cap_mb` MiB each), and as soon as all of a
bucket's gradients are ready its gradients are copied into one flat buffer, divided by the
world size and summed over the ranks with a non-blocking all-reduce, while backward goes on
computing the gradients of the layers below. When the last bucket has been started, the
hook waits for all of them and writes the averages back into `.grad`, so after `backward()`
every rank holds the same averaged gradient and the optimisers keep the replicas equal.
"""
from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import numpy as np

import autograd
from autograd import distributed as dist

from ..module import Module

_MIB = 1024 * 1024
_FIRST_BUCKET_BYTES = 1 * _MIB  # as PyTorch: a small first bucket starts communication early


class _Bucket:
    """Parameters whose gradients travel in one flat buffer and one all-reduce."""

    def __init__(self, dtype: np.dtype, limit: int) -> None:
        self.dtype, self.limit = dtype, limit  # limit: close the bucket at this many bytes
        self.indices: list[int] = []     # positions in DistributedDataParallel._params
        self.offsets: list[int] = []
        self.nbytes = 0
        self.buffer: np.ndarray | None = None
        self.pending = 0                 # gradients not yet ready in this backward
        self.work = None                 # the in-flight all-reduce

    def add(self, index: int, numel: int) -> None:
        self.indices.append(index)
        self.offsets.append(self.nbytes // self.dtype.itemsize)
        self.nbytes += numel * self.dtype.itemsize


def _assign_buckets(params: list, cap_bytes: int) -> list[_Bucket]:
    """Buckets of at most cap_bytes (a bigger parameter gets one of its own), one dtype each,
    filled in reverse parameter order; the first bucket of each dtype is capped at 1 MiB."""
    buckets: list[_Bucket] = []
    open_: dict = {}
    for index in reversed(range(len(params))):
        p = params[index]
        bucket = open_.get(p.dtype)
        if bucket is None:
            first = not any(b.dtype == p.dtype for b in buckets)
            bucket = open_[p.dtype] = _Bucket(
                p.dtype, min(_FIRST_BUCKET_BYTES, cap_bytes) if first else cap_bytes)
            buckets.append(bucket)
        bucket.add(index, p.data.size)
        if bucket.nbytes >= bucket.limit:
            del open_[p.dtype]
    for bucket in buckets:
        bucket.buffer = np.empty(bucket.nbytes // bucket.dtype.itemsize, dtype=bucket.dtype)
    return buckets


class DistributedDataParallel(Module):
    """Wrap `module` for data-parallel training: run one copy per rank, each on its own
    shard of every batch (see autograd.data.DistributedSampler); backward() leaves every
    rank with the gradient averaged over the ranks, as if one process had seen all shards.

    ``autograd.distributed.init_process_group()`` must have been called. Inside
    ``with ddp.no_sync():`` forward/backward only accumulate local gradients; the next
    synchronised backward averages the accumulated sum. Every parameter that requires grad
    must receive a gradient in each synchronised backward, on every rank. With
    `broadcast_buffers` (default) rank 0's buffers (e.g. batch-norm running statistics) are
    copied to all ranks at every forward, so every rank must call forward together; evaluate
    on one rank alone through ``ddp.module``."""

    def __init__(self, module: Module, device_ids: list | None = None,
                 broadcast_buffers: bool = True, bucket_cap_mb: float | None = None) -> None:
        super().__init__()
        if not isinstance(module, Module):
            raise TypeError(f"DistributedDataParallel: expected an nn.Module, got "
                            f"{type(module).__name__}")
        if device_ids not in (None, []):
            raise ValueError(f"DistributedDataParallel: device_ids must be None for a CPU "
                             f"module, got {device_ids!r}")
        cap = 25.0 if bucket_cap_mb is None else bucket_cap_mb
        if isinstance(cap, bool) or not isinstance(cap, (int, float)) or not cap > 0:
            raise ValueError(f"DistributedDataParallel: bucket_cap_mb must be a positive "
                             f"number, got {bucket_cap_mb!r}")
        self.module = module
        self.broadcast_buffers = bool(broadcast_buffers)
        self.bucket_cap_mb = float(cap)
        self.require_backward_grad_sync = True
        self.world_size, self.rank = dist.get_world_size(), dist.get_rank()
        named = [(n, p) for n, p in module.named_parameters() if p.requires_grad]
        if not named:
            raise RuntimeError("DistributedDataParallel is not needed when a module doesn't "
                               "have any parameter that requires a gradient.")
        self._param_names = [n for n, _ in named]
        self._params = [p for _, p in named]
        self._check_same_model(module)
        self._sync_module_states(module)
        self._buckets = _assign_buckets(self._params, int(self.bucket_cap_mb * _MIB))
        self._bucket_of = [None] * len(self._params)
        for bucket in self._buckets:
            for index in bucket.indices:
                self._bucket_of[index] = bucket
        self._ready = [False] * len(self._params)
        self._next_bucket = 0
        self._armed = False  # a synchronised forward ran; its backward is expected
        self._hook_handles = [p.register_post_accumulate_grad_hook(self._make_hook(i))
                              for i, p in enumerate(self._params)]

    # ---- construction -------------------------------------------------------------------
    def _check_same_model(self, module: Module) -> None:
        """Every rank must wrap the same architecture: compare counts and sizes."""
        tensors = [*module.parameters(), *module.buffers()]
        mine = autograd.from_numpy(np.array(
            [len(self._params), len(tensors), sum(t.data.size for t in tensors)],
            dtype=np.int64))
        everyone = [autograd.zeros_like(mine) for _ in range(self.world_size)]
        dist.all_gather(everyone, mine)
        table = np.stack([t.data for t in everyone])
        if not (table == table[0]).all():
            raise RuntimeError(f"DistributedDataParallel: the ranks wrap different models "
                               f"(per rank [parameters needing grad, state tensors, elements]:"
                               f" {table.tolist()})")

    def _sync_module_states(self, module: Module) -> None:
        """Copy rank 0's parameters and buffers to every rank."""
        for t in [*module.parameters(), *module.buffers()]:
            dist.broadcast(t, 0)

    # ---- forward --------------------------------------------------------------------------
    def forward(self, *inputs: Any, **kwargs: Any):
        self._check_previous_reduction()
        if self.broadcast_buffers:
            for b in self.module.buffers():
                dist.broadcast(b, 0)
        self._reset()
        self._armed = autograd.is_grad_enabled() and self.require_backward_grad_sync
        return self.module(*inputs, **kwargs)

    @contextlib.contextmanager
    def no_sync(self) -> Iterator[None]:
        """Forward/backward passes inside accumulate gradients locally, without all-reduce;
        the first synchronised backward after it averages the accumulated gradients."""
        previous = self.require_backward_grad_sync
        self.require_backward_grad_sync = False
        try:
            yield
        finally:
            self.require_backward_grad_sync = previous

    # ---- the reducer ----------------------------------------------------------------------
    def _reset(self) -> None:
        self._ready = [False] * len(self._params)
        self._next_bucket = 0
        for bucket in self._buckets:
            bucket.pending, bucket.work = len(bucket.indices), None

    def _make_hook(self, index: int):
        def hook(_param) -> None:
            if self._armed:
                self._mark_ready(index)
        return hook

    def _mark_ready(self, index: int) -> None:
        if self._ready[index]:
            raise RuntimeError(f"DistributedDataParallel: parameter {self._param_names[index]!r}"
                               f" was marked ready twice in one backward (a second backward "
                               f"through the same forward is not supported)")
        self._ready[index] = True
        bucket = self._bucket_of[index]
        bucket.pending -= 1
        if bucket.pending == 0:
            self._launch_ready_buckets()
        else:
            self._progress()

    def _launch_ready_buckets(self) -> None:
        """Start the ready buckets strictly in bucket order, so every rank issues the same
        sequence of collectives whatever order its backward finished them in."""
        while self._next_bucket < len(self._buckets):
            bucket = self._buckets[self._next_bucket]
            if bucket.pending:
                self._progress()
                return
            buf = bucket.buffer
            for index, offset in zip(bucket.indices, bucket.offsets):
                g = self._params[index].grad.data
                buf[offset:offset + g.size] = g.reshape(-1)
            buf /= self.world_size
            bucket.work = dist.all_reduce(autograd.from_numpy(buf), dist.ReduceOp.SUM,
                                          async_op=True)
            self._next_bucket += 1
        self._finish()

    def _progress(self) -> None:
        """Let MPI move the started all-reduces along (MPICH progresses non-blocking
        collectives only inside MPI calls)."""
        for bucket in self._buckets[:self._next_bucket]:
            bucket.work.is_completed()

    def _finish(self) -> None:
        """Wait for every bucket and write the averaged gradients back into .grad."""
        for bucket in self._buckets:
            bucket.work.wait()
            buf = bucket.buffer
            for index, offset in zip(bucket.indices, bucket.offsets):
                g = self._params[index].grad.data
                g[...] = buf[offset:offset + g.size].reshape(g.shape)
        self._armed = False

    def _check_previous_reduction(self) -> None:
        if not self._armed or not any(self._ready):
            return  # finished, or a forward that was never followed by backward
        for bucket in self._buckets[:self._next_bucket]:
            bucket.work.wait()  # keep the ranks' collective sequences matched
        missing = [n for n, r in zip(self._param_names, self._ready) if not r]
        self._armed = False
        raise RuntimeError(f"DistributedDataParallel: expected to have finished reduction in "
                           f"the prior iteration before starting a new one; these parameters "
                           f"received no gradient in that backward: {missing}. Every "
                           f"parameter that requires grad must take part in the loss on every "
                           f"rank (or set requires_grad=False on it before wrapping).")

    def extra_repr(self) -> str:
        return (f"world_size={self.world_size}, buckets={len(self._buckets)}, "
                f"bucket_cap_mb={self.bucket_cap_mb:g}")
