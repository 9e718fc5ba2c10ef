"""Collective communication between processes over MPI (PyTorch's torch.distributed API).

Launch N copies of a script with ``mpiexec -n N python script.py``; each calls
`init_process_group("mpi")` and then all of them take part in every collective, in the same
order. Collectives work in place on a Tensor's numpy array through mpi4py's buffer interface
(no pickling, and no copy when the array is contiguous). mpi4py is imported only inside
`init_process_group`, so ``import autograd`` never needs it; install it with
``pip install numbagrad[distributed]`` (mpi4py and MPICH, which brings ``mpiexec``).
"""
from __future__ import annotations

import enum

import numpy as np

from .tensor import Tensor

__all__ = [
    "ReduceOp",
    "Work",
    "all_gather",
    "all_reduce",
    "barrier",
    "broadcast",
    "destroy_process_group",
    "get_rank",
    "get_world_size",
    "init_process_group",
    "is_available",
    "is_initialized",
]

_INSTALL_HINT = ("autograd.distributed needs mpi4py and an MPI library: "
                 "pip install numbagrad[distributed]")
_NOT_INITIALIZED = ("Default process group has not been initialized, please make sure to call "
                    "init_process_group.")


class ReduceOp(enum.Enum):
    """How all_reduce combines the ranks' values (AVG: SUM divided by the world size)."""
    SUM = "sum"
    AVG = "avg"
    MAX = "max"
    MIN = "min"


class _Group:
    """The default process group: a private duplicate of MPI's world communicator, so that
    collectives issued here never match messages of other MPI users in the same program."""

    def __init__(self, mpi, comm) -> None:
        self.MPI, self.comm = mpi, comm
        self.rank, self.size = comm.Get_rank(), comm.Get_size()


_group: _Group | None = None


def _mpi():
    try:
        from mpi4py import MPI
    except ImportError as e:
        raise ImportError(f"{_INSTALL_HINT} ({e})") from e
    return MPI


def is_available() -> bool:
    """True when mpi4py can be imported (the MPI backend is usable)."""
    try:
        _mpi()
    except ImportError:
        return False
    return True


def init_process_group(backend: str = "mpi", init_method: str | None = None,
                       world_size: int = -1, rank: int = -1) -> None:
    """Join the default process group: every process started by ``mpiexec`` is one rank.

    MPI decides the ranks and the world size; `world_size` and `rank`, when given, must
    agree with it. Initialising twice raises, as in PyTorch."""
    global _group
    if not isinstance(backend, str) or backend.lower() != "mpi":
        raise ValueError(f"init_process_group: unsupported backend {backend!r}; numbagrad "
                         f"supports only 'mpi'")
    if init_method not in (None, "env://"):
        raise ValueError(f"init_process_group: backend 'mpi' takes no init_method (got "
                         f"{init_method!r}); mpiexec starts and connects the processes")
    if _group is not None:
        raise RuntimeError("trying to initialize the default process group twice!")
    MPI = _mpi()
    comm = MPI.COMM_WORLD.Dup()
    size, me = comm.Get_size(), comm.Get_rank()
    if world_size not in (-1, size) or rank not in (-1, me):
        comm.Free()
        raise ValueError(f"init_process_group: world_size={world_size}, rank={rank} disagree "
                         f"with MPI's world size {size} and rank {me}")
    _group = _Group(MPI, comm)


def is_initialized() -> bool:
    """True between init_process_group and destroy_process_group."""
    return _group is not None


def _default_group() -> _Group:
    if _group is None:
        raise RuntimeError(_NOT_INITIALIZED)
    return _group


def get_rank() -> int:
    """This process's rank, 0 .. world_size - 1."""
    return _default_group().rank


def get_world_size() -> int:
    """How many processes take part."""
    return _default_group().size


def barrier() -> None:
    """Wait until every rank has reached this call."""
    _default_group().comm.Barrier()


def destroy_process_group() -> None:
    """Leave the default process group (init_process_group may be called again later)."""
    global _group
    group = _default_group()
    _group = None
    group.comm.Free()


class Work:
    """The handle of a collective started with ``async_op=True``: `wait()` blocks until it
    is done and has written its result into the tensor; `is_completed()` polls."""

    def __init__(self, request, finish=None) -> None:
        self._request, self._finish, self._done = request, finish, False

    def is_completed(self) -> bool:
        if not self._done and self._request.Test():
            self._complete()
        return self._done

    def wait(self) -> bool:
        if not self._done:
            self._request.Wait()
            self._complete()
        return True

    def _complete(self) -> None:
        self._done = True
        if self._finish is not None:
            self._finish()
            self._finish = None


def _check_tensor(fn: str, t) -> np.ndarray:
    if not isinstance(t, Tensor):
        raise TypeError(f"{fn}: expected a Tensor, got {type(t).__name__}")
    return t.data


def _buffer(a: np.ndarray) -> np.ndarray:
    """`a` itself when MPI can address it in place, else a contiguous copy."""
    return a if a.flags.c_contiguous and a.flags.writeable else np.ascontiguousarray(a)


def _mpi_op(fn: str, op, a: np.ndarray, MPI):
    if not isinstance(op, ReduceOp):
        raise TypeError(f"{fn}: op must be a ReduceOp (SUM, AVG, MAX, MIN), got {op!r}")
    if op is ReduceOp.AVG and a.dtype.kind not in "fc":
        raise TypeError(f"{fn}: ReduceOp.AVG needs a floating point tensor, got {a.dtype}")
    return {ReduceOp.SUM: MPI.SUM, ReduceOp.AVG: MPI.SUM, ReduceOp.MAX: MPI.MAX,
            ReduceOp.MIN: MPI.MIN}[op]


def _bump(t: Tensor) -> None:
    t.mark_modified()  # an in-place write, as far as saved-tensor checks are concerned


def all_reduce(tensor: Tensor, op: ReduceOp = ReduceOp.SUM, group=None,
               async_op: bool = False) -> Work | None:
    """Combine `tensor` over all ranks with `op` and leave the result in `tensor` on every
    rank (in place: MPI reads and writes the tensor's own array when it is contiguous).

    With ``async_op=True`` the reduction is started (MPI_Iallreduce) and a `Work` is
    returned; the tensor holds the result once `wait()` returns."""
    g = _default_group()
    _check_group("all_reduce", group)
    a = _check_tensor("all_reduce", tensor)
    mpi_op = _mpi_op("all_reduce", op, a, g.MPI)
    buf = _buffer(a)
    size = g.size

    def finish() -> None:
        if op is ReduceOp.AVG:
            np.divide(buf, size, out=buf, casting="unsafe")
        if buf is not a:
            a[...] = buf
        _bump(tensor)

    if async_op:
        return Work(g.comm.Iallreduce(g.MPI.IN_PLACE, buf, op=mpi_op), finish)
    g.comm.Allreduce(g.MPI.IN_PLACE, buf, op=mpi_op)
    finish()
    return None


def broadcast(tensor: Tensor, src: int, group=None, async_op: bool = False) -> Work | None:
    """Copy rank `src`'s `tensor` into `tensor` on every other rank (in place)."""
    g = _default_group()
    _check_group("broadcast", group)
    a = _check_tensor("broadcast", tensor)
    _check_rank("broadcast", "src", src, g.size)
    buf = _buffer(a)

    def finish() -> None:
        if buf is not a:
            a[...] = buf
        if g.rank != src:
            _bump(tensor)

    if async_op:
        return Work(g.comm.Ibcast(buf, root=src), finish)
    g.comm.Bcast(buf, root=src)
    finish()
    return None


def all_gather(tensor_list: list, tensor: Tensor, group=None,
               async_op: bool = False) -> Work | None:
    """Fill ``tensor_list[r]`` with rank r's `tensor`, on every rank.

    `tensor_list` holds world_size tensors of `tensor`'s shape and dtype (written in place)."""
    g = _default_group()
    _check_group("all_gather", group)
    a = _check_tensor("all_gather", tensor)
    if not isinstance(tensor_list, list) or len(tensor_list) != g.size:
        got = len(tensor_list) if isinstance(tensor_list, (list, tuple)) else type(tensor_list)
        raise ValueError(f"all_gather: tensor_list must be a list of world_size={g.size} "
                         f"tensors, got {got}")
    for i, t in enumerate(tensor_list):
        out = _check_tensor("all_gather", t)
        if out.shape != a.shape or out.dtype != a.dtype:
            raise ValueError(f"all_gather: tensor_list[{i}] has shape {out.shape} and dtype "
                             f"{out.dtype}; expected {a.shape} and {a.dtype} like the input")
    gathered = np.empty((g.size, *a.shape), dtype=a.dtype)
    send = np.ascontiguousarray(a)

    def finish() -> None:
        for t, row in zip(tensor_list, gathered):
            t.data[...] = row
            _bump(t)

    if async_op:
        return Work(g.comm.Iallgather(send, gathered), finish)
    g.comm.Allgather(send, gathered)
    finish()
    return None


def _check_rank(fn: str, name: str, value, size: int) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) \
            or not 0 <= value < size:
        raise ValueError(f"{fn}: {name}={value!r} is not a rank of this group (world_size "
                         f"{size}, valid ranks 0 .. {size - 1})")


def _check_group(fn: str, group) -> None:
    if group is not None:
        raise ValueError(f"{fn}: only the default process group (group=None) is supported")
