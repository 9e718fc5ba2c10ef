"""What `numbagrad demo --distributed` changes: one process per MPI rank, data-parallel.

Started as ``mpiexec -n N numbagrad demo --distributed``: every rank builds the same model
and data, trains on its DistributedSampler shard of each epoch with batch --batch-size (so
the global batch is N x --batch-size), and DistributedDataParallel averages the gradients.
Rank 0 alone prints, shows progress and writes the checkpoint (the unwrapped model's state,
so a single process can --resume from it).
"""
from __future__ import annotations

import os
import sys

import autograd
from autograd.data import DataLoader, DistributedSampler


class DistributedRun:
    """The demo's data-parallel context; with enabled=False every method is a no-op."""

    def __init__(self, enabled: bool) -> None:
        self.enabled, self.rank, self.world = enabled, 0, 1
        self.sampler, self._batch = None, 0
        if not enabled:
            return
        from autograd import distributed as dist
        dist.init_process_group("mpi")
        self.rank, self.world = dist.get_rank(), dist.get_world_size()
        if not any(v in os.environ for v in ("OMP_NUM_THREADS", "NUMBA_NUM_THREADS",
                                             "OPENBLAS_NUM_THREADS")):
            # the ranks share this host's cores: give each its share, not all of them
            autograd.set_num_threads(max(1, autograd.get_num_threads() // self.world))
        if self.rank != 0:  # one voice: only rank 0 prints
            sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - for the life of the process

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    def loader(self, dataset, batch_size: int, seed: int, no_single: bool) -> DataLoader:
        """This rank's shard of every epoch, reshuffled per epoch with `seed` (no_single:
        drop a last batch of one image, which BatchNorm1d cannot train on)."""
        self.sampler, self._batch = DistributedSampler(dataset, shuffle=True, seed=seed), batch_size
        return DataLoader(dataset, batch_size=batch_size, sampler=self.sampler,
                          drop_last=no_single and len(self.sampler) % batch_size == 1)

    def wrap(self, model):
        """The model to train: DistributedDataParallel(model) (rank 0's weights everywhere)."""
        if not self.enabled:
            return model
        from nn.parallel import DistributedDataParallel
        wrapped = DistributedDataParallel(model)
        print(f"distributed: {self.world} ranks x batch {self._batch} "
              f"(global batch {self.world * self._batch}), "
              f"{autograd.get_num_threads()} thread(s) per rank")
        return wrapped

    def set_epoch(self, epoch: int) -> None:
        if self.sampler is not None:
            self.sampler.set_epoch(epoch)

    def close(self) -> None:
        if self.enabled:
            from autograd import distributed as dist
            dist.barrier()
            dist.destroy_process_group()
