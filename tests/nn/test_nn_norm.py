"""BatchNorm1d / BatchNorm2d / LayerNorm: hand-computed values, running statistics,
train / eval behaviour, gradients (first and second order) and bad input."""
import numpy as np
import pytest

import autograd
import nn
import nn.functional as F
from autograd import gradcheck, gradgradcheck

EPS = 1e-5


def t64(a, requires_grad=True):
    return autograd.tensor(np.asarray(a, dtype=np.float64), requires_grad=requires_grad)


def test_batchnorm1d_two_training_steps_by_hand():
    bn = nn.BatchNorm1d(2)
    # step 1: channel 0 = [1, 3] (mean 2, biased var 1, unbiased 2),
    #         channel 1 = [2, 6] (mean 4, biased var 4, unbiased 8)
    y = bn(autograd.tensor([[1.0, 2.0], [3.0, 6.0]]))
    a, b = 1 / np.sqrt(1 + EPS), 2 / np.sqrt(4 + EPS)
    np.testing.assert_allclose(y.data, [[-a, -b], [a, b]], rtol=1e-6)
    np.testing.assert_allclose(bn.running_mean.data, [0.2, 0.4], rtol=1e-6)  # 0.9*0 + 0.1*mean
    np.testing.assert_allclose(bn.running_var.data, [1.1, 1.7], rtol=1e-6)  # 0.9*1 + 0.1*unbiased
    # step 2: channel 0 = [0, 2, 4] (mean 2, unbiased var 4),
    #         channel 1 = [0, 2, 10] (mean 4, squared deviations 16 + 4 + 36, unbiased 28)
    y = bn(autograd.tensor([[0.0, 0.0], [2.0, 2.0], [4.0, 10.0]]))
    np.testing.assert_allclose(y.data[:, 0], np.array([-2, 0, 2]) / np.sqrt(8 / 3 + EPS),
                               rtol=1e-6)
    np.testing.assert_allclose(y.data[:, 1], np.array([-4, -2, 6]) / np.sqrt(56 / 3 + EPS),
                               rtol=1e-6)
    np.testing.assert_allclose(bn.running_mean.data, [0.38, 0.76], rtol=1e-6)
    np.testing.assert_allclose(bn.running_var.data, [1.39, 4.33], rtol=1e-6)
    assert bn.num_batches_tracked.item() == 2
    # eval: the running statistics, not the batch's; nothing is updated
    bn.eval()
    y = bn(autograd.tensor([[1.38, 0.76], [0.38, 2.84]]))
    np.testing.assert_allclose(y.data, [[1 / np.sqrt(1.39 + EPS), 0],
                                        [0, 2.08 / np.sqrt(4.33 + EPS)]], rtol=1e-5)
    assert bn.num_batches_tracked.item() == 2
    np.testing.assert_allclose(bn.running_mean.data, [0.38, 0.76], rtol=1e-6)


def test_batchnorm_momentum_none_is_a_cumulative_average():
    bn = nn.BatchNorm1d(1, momentum=None)
    for batch in ([[1.0], [3.0]], [[5.0], [9.0]], [[0.0], [0.0]]):
        bn(autograd.tensor(batch))
    np.testing.assert_allclose(bn.running_mean.data, [(2 + 7 + 0) / 3], rtol=1e-6)
    np.testing.assert_allclose(bn.running_var.data, [(2 + 8 + 0) / 3], rtol=1e-6)


def test_batchnorm_affine_and_3d_input():
    bn = nn.BatchNorm1d(2)
    with autograd.no_grad():
        bn.weight.copy_(autograd.tensor([2.0, 1.0]))
        bn.bias.copy_(autograd.tensor([1.0, -1.0]))
    x = autograd.tensor(np.array([[[0.0, 2.0], [1.0, 1.0]], [[4.0, 6.0], [1.0, 1.0]]]))  # (2,2,2)
    y = bn(x)
    # channel 0 over N and L: [0, 2, 4, 6], mean 3, var 5; channel 1 constant -> 0 (+ bias)
    np.testing.assert_allclose(y.data[:, 0], 2 * (np.array([[0, 2], [4, 6]]) - 3)
                               / np.sqrt(5 + EPS) + 1, rtol=1e-6)
    np.testing.assert_allclose(y.data[:, 1], -1.0)


def test_batchnorm2d_normalises_each_channel_over_n_h_w():
    rng = np.random.default_rng(0)
    x = autograd.tensor(rng.standard_normal((4, 3, 5, 5)) * 3 + 7)
    y = nn.BatchNorm2d(3)(x).data
    np.testing.assert_allclose(y.mean(axis=(0, 2, 3)), 0, atol=1e-6)
    np.testing.assert_allclose(y.var(axis=(0, 2, 3)), 1, atol=1e-4)


def test_batchnorm_without_running_stats_uses_batch_stats_in_eval():
    bn = nn.BatchNorm1d(1, track_running_stats=False, affine=False).eval()
    assert bn.running_mean is None and list(bn.state_dict()) == []
    y = bn(autograd.tensor([[1.0], [3.0]]))
    np.testing.assert_allclose(y.data.ravel(), [-1, 1], rtol=1e-5)


@pytest.mark.parametrize("shape", [(4, 3), (3, 2, 4), (2, 3, 2, 2)])
def test_batch_norm_gradcheck_training(shape):
    rng = np.random.default_rng(1)
    x = t64(rng.standard_normal(shape))
    w, b = t64(rng.standard_normal(shape[1])), t64(rng.standard_normal(shape[1]))
    assert gradcheck(lambda x, w, b: F.batch_norm(x, None, None, w, b, training=True),
                     (x, w, b))
    assert gradcheck(lambda x: F.batch_norm(x, None, None, training=True), (x,))


def test_batch_norm_gradgradcheck_training_and_eval():
    rng = np.random.default_rng(2)
    x = t64(rng.standard_normal((3, 2, 2)))
    w, b = t64(rng.standard_normal(2)), t64(rng.standard_normal(2))
    assert gradgradcheck(lambda x, w, b: F.batch_norm(x, None, None, w, b, training=True),
                         (x, w, b))
    rm, rv = autograd.tensor(np.array([0.1, -0.2])), autograd.tensor(np.array([1.5, 0.5]))
    assert gradgradcheck(lambda x, w, b: F.batch_norm(x, rm, rv, w, b, training=False).tanh(),
                         (x, w, b))


def test_batchnorm_module_gradcheck_in_eval_on_parameters():
    bn = nn.BatchNorm2d(2).double()
    bn(autograd.randn(3, 2, 2, 2).double())
    bn.eval()
    x = t64(np.random.default_rng(3).standard_normal((2, 2, 2, 2)))
    assert gradcheck(lambda x, w, b: F.batch_norm(x, bn.running_mean, bn.running_var, w, b),
                     (x, bn.weight, bn.bias))


def test_batchnorm_bad_input():
    with pytest.raises(ValueError) as e:
        nn.BatchNorm1d(3)(autograd.zeros(1, 3))
    assert "Expected more than 1 value per channel when training" in str(e.value)
    assert "BatchNorm1d(3" in str(e.value) and "(1, 3)" in str(e.value)
    nn.BatchNorm1d(3).eval()(autograd.zeros(1, 3))  # fine in eval
    with pytest.raises(ValueError) as e:
        nn.BatchNorm2d(3)(autograd.zeros(2, 4, 5, 5))
    assert "BatchNorm2d(3" in str(e.value) and "3 channels" in str(e.value)
    assert "(2, 4, 5, 5)" in str(e.value)
    with pytest.raises(RuntimeError) as e:
        nn.BatchNorm2d(3)(autograd.zeros(2, 3))
    assert "4D" in str(e.value) and "(2, 3)" in str(e.value)


def test_layer_norm_by_hand_and_gradients():
    ln = nn.LayerNorm(3)
    y = ln(autograd.tensor([[1.0, 2.0, 3.0], [0.0, 0.0, 6.0]]))
    # row 0: mean 2, var 2/3; row 1: mean 2, var (4 + 4 + 16) / 3 = 8
    np.testing.assert_allclose(y.data[0], np.array([-1, 0, 1]) / np.sqrt(2 / 3 + EPS), rtol=1e-6)
    np.testing.assert_allclose(y.data[1], np.array([-2, -2, 4]) / np.sqrt(8 + EPS), rtol=1e-6)
    rng = np.random.default_rng(4)
    x = t64(rng.standard_normal((2, 2, 3)))
    w, b = t64(rng.standard_normal((2, 3))), t64(rng.standard_normal((2, 3)))
    assert gradcheck(lambda x, w, b: F.layer_norm(x, (2, 3), w, b), (x, w, b))
    assert gradgradcheck(lambda x, w, b: F.layer_norm(x, (2, 3), w, b), (x, w, b))
    with pytest.raises(ValueError) as e:
        ln(autograd.zeros(2, 4))
    assert "LayerNorm((3,)" in str(e.value) and "(2, 4)" in str(e.value)
