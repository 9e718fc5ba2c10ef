"""nn.Module bookkeeping: registration, traversal, modes, state_dict, casting, containers."""
import numpy as np
import pytest

import autograd
import nn


def small_net():
    autograd.manual_seed(0)
    return nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.ReLU(), nn.Linear(4, 2))


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(2, 2)
        self.scale = nn.Parameter(autograd.ones(1))
        self.register_buffer("steps", autograd.zeros(1))
        self.register_buffer("cache", autograd.zeros(2), persistent=False)
        self.plain = 3

    def forward(self, x):
        return self.fc(x) * self.scale


def test_attribute_assignment_registers_parameters_modules_and_buffers():
    b = Block()
    # as PyTorch: a module's own parameters first, then its children's
    assert [n for n, _ in b.named_parameters()] == ["scale", "fc.weight", "fc.bias"]
    assert [n for n, _ in b.named_buffers()] == ["steps", "cache"]
    assert [n for n, _ in b.named_children()] == ["fc"]
    assert [n for n, _ in b.named_modules()] == ["", "fc"]
    assert b.plain == 3 and "plain" not in b._parameters
    assert all(p.requires_grad for p in b.parameters())
    # reassigning None to a declared parameter keeps the slot, a Tensor is refused
    b.scale = None
    assert b.scale is None and [n for n, _ in b.named_parameters()] == ["fc.weight", "fc.bias"]
    with pytest.raises(TypeError):
        b.fc = 3


def test_shared_parameters_are_listed_once():
    lin = nn.Linear(2, 2)
    net = nn.Sequential(lin, nn.ReLU(), lin)
    assert len(list(net.parameters())) == 2
    assert [n for n, _ in net.named_parameters()] == ["0.weight", "0.bias"]
    assert len(list(net.modules())) == 3  # Sequential, Linear (once), ReLU


def test_train_eval_propagate_and_return_self():
    net = small_net()
    assert net.training and net[1].training
    assert net.eval() is net
    assert not net.training and not net[1].training and not net[3].training
    net.train()
    assert net[1].training


def test_zero_grad_and_apply():
    net = small_net()
    net(autograd.randn(5, 3)).sum().backward()
    assert all(p.grad is not None for p in net.parameters())
    net.zero_grad(set_to_none=False)
    assert all(p.grad is not None and not p.grad.data.any() for p in net.parameters())
    net.zero_grad()
    assert all(p.grad is None for p in net.parameters())
    seen = []
    net.apply(lambda m: seen.append(type(m).__name__))
    assert seen == ["Linear", "BatchNorm1d", "ReLU", "Linear", "Sequential"]


def test_repr_is_pytorch_like():
    net = nn.Sequential(nn.Linear(3, 4), nn.ReLU())
    assert repr(net) == ("Sequential(\n  (0): Linear(in_features=3, out_features=4, bias=True)\n"
                         "  (1): ReLU()\n)")
    assert repr(nn.Conv2d(1, 2, 3, padding=1)) == \
        "Conv2d(1, 2, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1))"


def test_state_dict_keys_values_and_round_trip():
    net = small_net()
    sd = net.state_dict()
    assert list(sd) == ["0.weight", "0.bias", "1.weight", "1.bias", "1.running_mean",
                        "1.running_var", "1.num_batches_tracked", "3.weight", "3.bias"]
    assert sd["1.num_batches_tracked"].dtype == np.int64
    assert not any(v.requires_grad for v in sd.values())
    assert "cache" not in Block().state_dict() and "steps" in Block().state_dict()
    net(autograd.randn(6, 3))  # moves the running stats
    saved = {k: v.data.copy() for k, v in net.state_dict().items()}
    other = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.ReLU(), nn.Linear(4, 2))
    w_before = other[0].weight
    result = other.load_state_dict(net.state_dict())
    assert result.missing_keys == [] and result.unexpected_keys == []
    assert other[0].weight is w_before  # copied in place, same Parameter object
    for k, v in other.state_dict().items():
        np.testing.assert_array_equal(v.data, saved[k])
    assert other[1].num_batches_tracked.item() == 1
    x = autograd.randn(4, 3)
    net.eval(), other.eval()
    np.testing.assert_allclose(other(x).data, net(x).data)


def test_load_state_dict_strict_errors_list_every_problem():
    net = small_net()
    sd = net.state_dict()
    del sd["3.bias"]
    sd["extra.weight"] = autograd.zeros(2)
    sd["0.weight"] = autograd.zeros(5, 3)
    with pytest.raises(RuntimeError) as e:
        net.load_state_dict(sd)
    msg = str(e.value)
    assert '"3.bias"' in msg and "Missing" in msg
    assert '"extra.weight"' in msg and "Unexpected" in msg
    assert "size mismatch for 0.weight" in msg and "(5, 3)" in msg and "(4, 3)" in msg
    # non-strict: shape mismatch still raises, missing / unexpected are reported
    sd["0.weight"] = autograd.ones(4, 3)
    missing, unexpected = net.load_state_dict(sd, strict=False)
    assert missing == ["3.bias"] and unexpected == ["extra.weight"]
    np.testing.assert_array_equal(net[0].weight.data, np.ones((4, 3)))


def test_to_double_float_keep_parameter_objects():
    net = small_net()
    w = net[0].weight
    net.double()
    assert net[0].weight is w and w.dtype == np.float64
    assert net[1].running_mean.dtype == np.float64
    assert net[1].num_batches_tracked.dtype == np.int64  # integer buffers are not cast
    assert net(autograd.randn(2, 3).double()).dtype == np.float64
    net.to(np.float32)
    assert w.dtype == np.float32
    assert net.to("cpu") is net
    with pytest.raises(TypeError):
        net.to(np.int32)


def test_sequential_indexing_slicing_iteration():
    net = small_net()
    assert len(net) == 4
    assert isinstance(net[0], nn.Linear) and net[-1] is net[3]
    head = net[:2]
    assert isinstance(head, nn.Sequential) and len(head) == 2 and head[1] is net[1]
    assert [type(m).__name__ for m in net] == ["Linear", "BatchNorm1d", "ReLU", "Linear"]
    with pytest.raises(IndexError):
        net[4]
    x = autograd.randn(5, 3)
    np.testing.assert_allclose(net(x).data, net[3](net[2](net[1](net[0](x)))).data, rtol=1e-6)


def test_module_list_registers_its_members():
    class Tower(nn.Module):
        def __init__(self):
            super().__init__()
            self.layers = nn.ModuleList([nn.Linear(2, 2) for _ in range(3)])

        def forward(self, x):
            for layer in self.layers:
                x = layer(x)
            return x

    t = Tower()
    assert len(t.layers) == 3 and len(list(t.parameters())) == 6
    assert "layers.2.bias" in t.state_dict()
    t.layers.append(nn.Linear(2, 1))
    assert t(autograd.randn(4, 2)).shape == (4, 1)
    assert isinstance(t.layers[1:], nn.ModuleList) and len(t.layers[1:]) == 3


def test_forward_must_be_defined():
    with pytest.raises(NotImplementedError):
        nn.Module()(autograd.zeros(1))


def test_forward_hooks_and_module_dict():
    lin = nn.Linear(2, 2)
    calls = []
    handle = lin.register_forward_hook(lambda m, args, out: calls.append(out.shape) or out * 0)
    assert not lin(autograd.ones(3, 2)).data.any() and calls == [(3, 2)]
    handle.remove()
    assert lin(autograd.ones(3, 2)).data.any()
    heads = nn.ModuleDict({"a": nn.Linear(2, 1), "b": nn.Linear(2, 3)})
    assert list(heads) == ["a", "b"] and "b" in heads and len(heads) == 2
    assert list(heads.state_dict()) == ["a.weight", "a.bias", "b.weight", "b.bias"]


def test_shape_layers():
    x = autograd.randn(2, 3, 4, 5)
    assert nn.Flatten()(x).shape == (2, 60)
    assert nn.Flatten(0, 1)(x).shape == (6, 4, 5)
    assert nn.Unflatten(1, (3, 20))(nn.Flatten()(x)).shape == (2, 3, 20)
    assert nn.Identity(54, unused="x")(x) is x


def test_flatten_an_empty_batch():
    assert nn.Flatten()(autograd.zeros(0, 3, 4, 4)).shape == (0, 48)
