"""Two kinds of test live here.

* ``test_mpi_*.py`` run once per rank under ``mpiexec -n 2 python -m pytest tests/distributed``;
  the process group is initialised once per session.
* The rest run in one ordinary process. ``test_launch.py`` starts the mpiexec run above in a
  subprocess (with a timeout) and asserts that it passed, so a plain ``python -m pytest``
  covers the multi-process tests too.

Which kind is collected follows the launcher's environment: MPICH's mpiexec sets PMI_SIZE,
Open MPI's sets OMPI_COMM_WORLD_SIZE.
"""
import os

import pytest


def mpi_world_size() -> int:
    """The number of ranks mpiexec started (1 outside mpiexec), read without importing MPI."""
    for var in ("PMI_SIZE", "OMPI_COMM_WORLD_SIZE", "PMIX_SIZE"):
        if os.environ.get(var):
            return int(os.environ[var])
    return 1


UNDER_MPIEXEC = mpi_world_size() > 1

# the per-rank tests need the other ranks; the launcher must not start mpiexec inside mpiexec
collect_ignore_glob = ["test_launch.py"] if UNDER_MPIEXEC else ["test_mpi_*.py"]


@pytest.fixture(scope="session", autouse=True)
def _process_group():
    if not UNDER_MPIEXEC:
        yield
        return
    from autograd import distributed as dist
    dist.init_process_group("mpi")
    yield
    dist.barrier()
    dist.destroy_process_group()


def pytest_sessionfinish(session, exitstatus):
    """Under mpiexec, leave each rank's result where test_launch.py looks for it."""
    report_dir = os.environ.get("NUMBAGRAD_MPI_REPORT_DIR")
    if UNDER_MPIEXEC and report_dir:
        rank = os.environ.get("PMI_RANK") or os.environ.get("OMPI_COMM_WORLD_RANK", "x")
        with open(os.path.join(report_dir, f"rank{rank}.txt"), "w") as f:
            f.write(f"{int(exitstatus)} {session.testscollected} {session.testsfailed}\n")
