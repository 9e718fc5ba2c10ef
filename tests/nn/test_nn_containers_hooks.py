"""ParameterList, ParameterDict, named_modules, requires_grad_ and the hooks of issue 14:
forward pre-hooks, forward hooks and full backward hooks (PyTorch's semantics: grad_input
with respect to the module's tensor inputs, grad_output with respect to its outputs), each
with a handle whose remove() unregisters it."""
import numpy as np
import pytest

import autograd
import nn
import optim


def t64(a, requires_grad=True):
    return autograd.tensor(np.asarray(a, dtype=np.float64), requires_grad=requires_grad)


class Holder(nn.Module):
    def __init__(self):
        super().__init__()
        self.pl = nn.ParameterList([nn.Parameter(autograd.zeros(2)), autograd.ones(3)])
        self.pd = nn.ParameterDict({"a": autograd.ones(1)})
        self.pd["b"] = nn.Parameter(autograd.zeros(2, 2))


def test_parameter_list_and_dict_register_their_parameters():
    m = Holder()
    assert list(m.state_dict()) == ["pl.0", "pl.1", "pd.a", "pd.b"]
    assert all(isinstance(p, nn.Parameter) for p in m.pl)  # plain tensors were wrapped
    assert isinstance(m.pd["a"], nn.Parameter) and m.pd["a"].requires_grad
    assert len(m.pl) == 2 and m.pl[-1].shape == (3,) and len(m.pl[0:1]) == 1
    assert "a" in m.pd and list(m.pd.keys()) == ["a", "b"] and len(m.pd) == 2
    assert len(list(m.parameters())) == 4
    m.pl.append(autograd.ones(4))
    m.pl[0] = autograd.full((2,), 5.0)
    assert m.pl[0].data.tolist() == [5.0, 5.0] and list(m.state_dict())[2] == "pl.2"
    assert m.pd.pop("a").shape == (1,) and "a" not in m.pd
    assert list(m.state_dict()) == ["pl.0", "pl.1", "pl.2", "pd.b"]
    with pytest.raises(IndexError, match="ParameterList: index 5 is out of range"):
        m.pl[5]
    with pytest.raises(KeyError):
        m.pd["zz"]


def test_parameter_list_trains_with_an_optimiser():
    pl = nn.ParameterList([t64([1.0, 2.0], False)])
    opt = optim.SGD(pl.parameters(), lr=0.5)
    (pl[0] * pl[0]).sum().backward()
    opt.step()
    np.testing.assert_allclose(pl[0].data, [0.0, 0.0])  # x - 0.5 * 2x


def test_named_modules_and_requires_grad_():
    net = nn.Sequential(nn.Linear(2, 2), nn.Sequential(nn.ReLU(), nn.Linear(2, 1)))
    assert [n for n, _ in net.named_modules()] == ["", "0", "1", "1.0", "1.1"]
    assert [n for n, _ in net.named_modules(prefix="net")][:2] == ["net", "net.0"]
    assert net.requires_grad_(False) is net
    assert not any(p.requires_grad for p in net.parameters())
    net[1].requires_grad_()
    assert [p.requires_grad for p in net.parameters()] == [False, False, True, True]


def test_forward_pre_hook_replaces_args_and_is_removable():
    lin = nn.Linear(2, 1)
    handle = lin.register_forward_pre_hook(lambda m, args: (args[0] * 0,))
    x = autograd.ones(3, 2)
    np.testing.assert_allclose(lin(x).data, np.broadcast_to(lin.bias.data, (3, 1)))
    handle.remove()
    assert not np.allclose(lin(x).data, np.broadcast_to(lin.bias.data, (3, 1)))


def test_full_backward_hook_sees_grad_input_and_grad_output():
    autograd.manual_seed(0)
    lin = nn.Linear(3, 2).double()
    seen = []
    handle = lin.register_full_backward_hook(lambda m, gi, go: seen.append((m, gi, go)))
    x = t64(np.arange(12.0).reshape(4, 3))
    y = lin(x)
    (y * y).sum().backward()
    assert len(seen) == 1
    m, gi, go = seen[0]
    assert m is lin and len(gi) == 1 and len(go) == 1
    np.testing.assert_allclose(go[0].data, 2 * y.data)  # d sum(y^2) / dy
    np.testing.assert_allclose(gi[0].data, go[0].data @ lin.weight.data)
    np.testing.assert_allclose(x.grad.data, gi[0].data)
    handle.remove()
    lin(x).sum().backward()
    assert len(seen) == 1


def test_full_backward_hook_can_replace_grad_input():
    lin = nn.Linear(3, 2).double()
    lin.register_full_backward_hook(lambda m, gi, go: (gi[0] * 10,))
    x = t64(np.ones((2, 3)))
    lin(x).sum().backward()
    np.testing.assert_allclose(x.grad.data, 10 * np.ones((2, 2)) @ lin.weight.data)
    # the parameters' gradients are not affected
    np.testing.assert_allclose(lin.bias.grad.data, [2.0, 2.0])


def test_full_backward_hook_without_input_grad_gets_none():
    lin = nn.Linear(3, 2).double()
    seen = []
    lin.register_full_backward_hook(lambda m, gi, go: seen.append((gi, go)))
    lin(t64(np.ones((2, 3)), False)).sum().backward()
    assert len(seen) == 1 and seen[0][0] == (None,)
    np.testing.assert_allclose(seen[0][1][0].data, np.ones((2, 2)))


class Bilinear(nn.Module):
    def forward(self, a, b, scale=2.0):
        return a * b * scale


def test_full_backward_hook_with_two_inputs_and_retained_graph():
    mod = Bilinear()
    seen = []
    mod.register_full_backward_hook(lambda m, gi, go: seen.append(gi))
    a, b = t64([1.0, 2.0]), t64([3.0, 4.0])
    out = mod(a, b)
    out.sum().backward(retain_graph=True)
    out.sum().backward()
    assert len(seen) == 2  # once per backward
    np.testing.assert_allclose(seen[0][0].data, [6.0, 8.0])  # d/da = 2 b
    np.testing.assert_allclose(seen[0][1].data, [2.0, 4.0])  # d/db = 2 a
    mod.register_full_backward_hook(lambda m, gi, go: (gi[0], gi[1]))
    with pytest.raises(RuntimeError, match="Bilinear: a full backward hook may replace "
                                           "grad_input only for a module with one input"):
        mod(a, b).sum().backward()


def test_hooks_are_skipped_under_no_grad():
    lin = nn.Linear(2, 2)
    seen = []
    lin.register_full_backward_hook(lambda m, gi, go: seen.append(1))
    with autograd.no_grad():
        out = lin(autograd.ones(1, 2))
    assert out.grad_fn is None and seen == []


def test_reassigning_a_parameter_or_module_keeps_its_place():
    lin = nn.Linear(2, 2)
    lin.weight = nn.Parameter(autograd.zeros(2, 2))
    assert list(lin.state_dict()) == ["weight", "bias"]
    net = nn.Sequential(nn.Linear(2, 2), nn.ReLU())
    net[0] = nn.Linear(2, 2)
    assert [n for n, _ in net.named_children()] == ["0", "1"]
