"""DistributedDataParallel on 2+ ranks (run by test_launch.py under mpiexec).

The reference for every check is one process training the same model (rank 0's
initialisation) on the full batch, i.e. the concatenation of the ranks' shards."""
import numpy as np
import pytest

import autograd
import nn
import optim
from autograd import distributed as dist
from nn.parallel import DistributedDataParallel
from nn.parallel import distributed as ddp_module

B, D_IN, D_OUT = 4, 5, 3  # per-rank batch, features, outputs


def make_model(seed: int) -> nn.Module:
    autograd.manual_seed(seed)
    return nn.Sequential(nn.Linear(D_IN, 8), nn.Tanh(), nn.Linear(8, 6), nn.Tanh(),
                         nn.Linear(6, D_OUT)).double()


def full_batch(step: int, n: int):
    rng = np.random.default_rng(1000 + step)
    return rng.standard_normal((n * B, D_IN)), rng.integers(0, D_OUT, n * B)


def shard(x, y, r):
    return x[r * B:(r + 1) * B], y[r * B:(r + 1) * B]


def flat_params(module) -> np.ndarray:
    return np.concatenate([p.data.ravel() for p in module.parameters()])


def flat_grads(module) -> np.ndarray:
    return np.concatenate([p.grad.data.ravel() for p in module.parameters()])


def gather(a: np.ndarray) -> np.ndarray:
    """Rank r's copy of `a` in row r, on every rank."""
    out = [autograd.from_numpy(np.zeros_like(a)) for _ in range(dist.get_world_size())]
    dist.all_gather(out, autograd.from_numpy(np.ascontiguousarray(a)))
    return np.stack([t.data for t in out])


def loss_of(model, x, y):
    return nn.CrossEntropyLoss()(model(autograd.from_numpy(x)), autograd.from_numpy(y))


def test_construction_broadcasts_rank0_parameters():
    r, _ = dist.get_rank(), dist.get_world_size()
    model = make_model(seed=10 + r)             # different on every rank
    ddp = DistributedDataParallel(model)
    np.testing.assert_array_equal(flat_params(model), flat_params(make_model(seed=10)))
    assert ddp.module is model
    keys = list(ddp.state_dict())
    assert keys == ["module." + k for k in model.state_dict()] and keys[0] == "module.0.weight"


@pytest.mark.parametrize("bucket_cap_mb", [25, 1e-6])  # one bucket / one per parameter
@pytest.mark.parametrize("opt", ["sgd", "adam"])
def test_ten_steps_equal_single_process_full_batch(bucket_cap_mb, opt):
    r, n = dist.get_rank(), dist.get_world_size()
    ddp = DistributedDataParallel(make_model(seed=20 + r), bucket_cap_mb=bucket_cap_mb)
    assert len(ddp._buckets) == (1 if bucket_cap_mb == 25 else 6)
    ref = make_model(seed=20)                   # rank 0's initialisation, one process
    make_opt = {"sgd": lambda p: optim.SGD(p, lr=0.1, momentum=0.9),
                "adam": lambda p: optim.Adam(p, lr=0.01)}[opt]
    opt_ddp, opt_ref = make_opt(ddp.parameters()), make_opt(ref.parameters())
    for step in range(10):
        x, y = full_batch(step, n)
        opt_ddp.zero_grad()
        loss_of(ddp, *shard(x, y, r)).backward()
        opt_ddp.step()
        opt_ref.zero_grad()
        loss_of(ref, x, y).backward()
        opt_ref.step()
        np.testing.assert_allclose(flat_grads(ddp.module), flat_grads(ref), rtol=1e-12,
                                   atol=1e-15, err_msg=f"gradient, step {step}")
        np.testing.assert_allclose(flat_params(ddp.module), flat_params(ref), rtol=1e-12,
                                   atol=1e-15, err_msg=f"parameters, step {step}")
        everyone = gather(flat_params(ddp.module))
        assert (everyone == everyone[0]).all(), f"replicas drifted apart at step {step}"
    # the steps really moved the model: the comparison above is not between two constants
    assert np.abs(flat_params(ref) - flat_params(make_model(seed=20))).max() > 1e-2


def test_buckets_start_before_backward_ends(monkeypatch):
    """With one bucket per parameter, the first all-reduce starts while other parameters
    are still waiting for their gradients (communication overlaps backward)."""
    r = dist.get_rank()
    ddp = DistributedDataParallel(make_model(seed=30), bucket_cap_mb=1e-6)
    ready_at_launch = []
    real = dist.all_reduce

    def spy(t, op=dist.ReduceOp.SUM, group=None, async_op=False):
        ready_at_launch.append(sum(ddp._ready))
        return real(t, op, group, async_op)

    monkeypatch.setattr(ddp_module.dist, "all_reduce", spy)
    x, y = full_batch(0, dist.get_world_size())
    loss_of(ddp, *shard(x, y, r)).backward()
    # buckets are in reverse parameter order: the last layer's bias is reduced first, when
    # only it (and perhaps the weight beside it) has its gradient
    assert len(ready_at_launch) == 6
    assert ready_at_launch[0] <= 2 and ready_at_launch == sorted(ready_at_launch)


def test_no_sync_accumulates_locally_then_averages_the_sum(monkeypatch):
    r, n = dist.get_rank(), dist.get_world_size()
    ddp = DistributedDataParallel(make_model(seed=40))
    ref = make_model(seed=40)
    calls = []
    real = dist.all_reduce
    monkeypatch.setattr(ddp_module.dist, "all_reduce",
                        lambda *a, **k: calls.append(1) or real(*a, **k))
    x1, y1 = full_batch(1, n)
    x2, y2 = full_batch(2, n)
    with ddp.no_sync():
        loss_of(ddp, *shard(x1, y1, r)).backward()
    assert calls == []                           # no communication inside no_sync
    local = make_model(seed=40)
    loss_of(local, *shard(x1, y1, r)).backward()
    np.testing.assert_allclose(flat_grads(ddp.module), flat_grads(local), rtol=1e-13)
    everyone = gather(flat_grads(ddp.module))
    assert not np.allclose(everyone[0], everyone[1])  # the ranks' gradients differ
    loss_of(ddp, *shard(x2, y2, r)).backward()   # synchronised: averages g1 + g2
    assert len(calls) == 1
    loss_of(ref, x1, y1).backward()
    loss_of(ref, x2, y2).backward()
    np.testing.assert_allclose(flat_grads(ddp.module), flat_grads(ref), rtol=1e-12, atol=1e-15)
    everyone = gather(flat_grads(ddp.module))
    assert (everyone == everyone[0]).all()


def test_no_grad_forward_and_forward_without_backward_do_not_sync():
    r, n = dist.get_rank(), dist.get_world_size()
    ddp = DistributedDataParallel(make_model(seed=50))
    x, y = full_batch(3, n)
    with autograd.no_grad():
        ddp(autograd.from_numpy(x))
    loss_of(ddp, *shard(x, y, r))               # forward only: then a normal step works
    loss_of(ddp, *shard(x, y, r)).backward()
    ref = make_model(seed=50)
    loss_of(ref, x, y).backward()
    np.testing.assert_allclose(flat_grads(ddp.module), flat_grads(ref), rtol=1e-12, atol=1e-15)


def test_buffers_broadcast_from_rank0_at_forward():
    r = dist.get_rank()
    autograd.manual_seed(60)
    model = nn.Sequential(nn.Linear(D_IN, 4), nn.BatchNorm1d(4)).double()
    model[1].running_mean.data[...] = r + 1.0   # different on every rank before wrapping
    ddp = DistributedDataParallel(model)
    np.testing.assert_array_equal(model[1].running_mean.data, np.ones(4))
    model[1].running_var.data[...] = 2.0 + r    # drifted after construction
    ddp.eval()
    ddp(autograd.from_numpy(np.ones((2, D_IN))))
    np.testing.assert_array_equal(model[1].running_var.data, np.full(4, 2.0))


def test_parameter_without_gradient_is_reported_at_next_forward():
    r, n = dist.get_rank(), dist.get_world_size()

    class TwoHeads(nn.Module):
        def __init__(self):
            super().__init__()
            self.used, self.unused = nn.Linear(D_IN, D_OUT), nn.Linear(D_IN, D_OUT)

        def forward(self, x):
            return self.used(x)

    autograd.manual_seed(70)
    ddp = DistributedDataParallel(TwoHeads().double())
    x, y = full_batch(4, n)
    loss_of(ddp, *shard(x, y, r)).backward()
    with pytest.raises(RuntimeError, match=r"no gradient in that backward: \['unused.weight', "
                                           r"'unused.bias'\]"):
        ddp(autograd.from_numpy(x))


def test_constructor_errors():
    with pytest.raises(TypeError, match="expected an nn.Module"):
        DistributedDataParallel(lambda x: x)
    with pytest.raises(ValueError, match="bucket_cap_mb must be a positive number"):
        DistributedDataParallel(make_model(seed=1), bucket_cap_mb=0)
    with pytest.raises(RuntimeError, match="doesn't have any parameter that requires"):
        DistributedDataParallel(make_model(seed=1).requires_grad_(False))
