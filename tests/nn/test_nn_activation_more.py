"""The activations of issue 14 (GELU, SiLU, Mish, ELU, SELU, CELU, ReLU6, Hardswish, Hardtanh,
LogSigmoid, Softsign, Softmin) and F.normalize / cosine_similarity: values and first
derivatives against PyTorch 2.13 (recorded literals, float64), gradcheck and gradgradcheck
away from the kinks, module forms, bad-input errors naming the layer."""
import numpy as np
import pytest

import autograd
import nn
import nn.functional as F
from autograd import gradcheck, gradgradcheck

X = [-2.0, -0.5, 0.0, 1.5, 3.5]

# (F form, module, torch values, torch d(sum)/dx) recorded with torch 2.13 on X in float64
CASES = {
    "gelu": (F.gelu, nn.GELU(),
             [-0.04550026389635842, -0.15426876936299344, 0.0, 1.399789198096713,
              3.4991857982233756],
             [-0.08523180107819692, 0.13250487534383712, 0.5, 1.1274691922299795,
              1.0028217603536247]),
    "gelu_tanh": (lambda x: F.gelu(x, approximate="tanh"), nn.GELU(approximate="tanh"),
                  [-0.04540230591222494, -0.15428599017485606, 0.0, 1.3995715769802328,
                   3.499383802344626],
                  [-0.0860992566236183, 0.13263009646535764, 0.5, 1.127710793151433,
                   1.0024226437601167]),
    "silu": (F.silu, nn.SiLU(),
             [-0.2384058440442351, -0.1887703343990727, 0.0, 1.2263617142904655,
              3.3974071923702525],
             [-0.09078424878489547, 0.2600388126973482, 0.5, 1.041294154299143,
              1.0702733528277182]),
    "mish": (F.mish, nn.Mish(),
             [-0.2525014826957089, -0.22074377465173, 0.0, 1.4033782663958028,
              3.4939907151175196],
             [-0.1083550924203939, 0.28951067791351226, 0.6, 1.0884879850078475,
              1.0099393249951327]),
    "elu": (F.elu, nn.ELU(),
            [-0.8646647167633873, -0.3934693402873666, 0.0, 1.5, 3.5],
            [0.1353352832366127, 0.6065306597126334, 1.0, 1.0, 1.0]),
    "selu": (F.selu, nn.SELU(),
             [-1.5201664685956948, -0.6917581878028713, 0.0, 1.5760514810332207,
              3.677453455744182],
             [0.2379328722516818, 1.0663411530445053, 1.7580993408473766, 1.0507009873554805,
              1.0507009873554805]),
    "celu": (lambda x: F.celu(x, 0.5), nn.CELU(0.5),
             [-0.4908421805556329, -0.31606027941427883, 0.0, 1.5, 3.5],
             [0.01831563888873418, 0.36787944117144233, 1.0, 1.0, 1.0]),
    "hardtanh": (F.hardtanh, nn.Hardtanh(),
                 [-1.0, -0.5, 0.0, 1.0, 1.0], [0.0, 1.0, 1.0, 0.0, 0.0]),
    "relu6": (F.relu6, nn.ReLU6(), [0.0, 0.0, 0.0, 1.5, 3.5], [0.0, 0.0, 0.0, 1.0, 1.0]),
    "hardswish": (F.hardswish, nn.Hardswish(),
                  [-0.3333333333333333, -0.20833333333333334, 0.0, 1.125, 3.5],
                  [-0.16666666666666663, 0.33333333333333337, 0.5, 1.0, 1.0]),
    "logsigmoid": (F.logsigmoid, nn.LogSigmoid(),
                   [-2.1269280110429727, -0.9740769841801067, -0.6931471805599453,
                    -0.2014132779827524, -0.029750418272620566],
                   [0.8807970779778824, 0.6224593312018545, 0.5, 0.18242552380635632,
                    0.029312230751356316]),
    "softsign": (F.softsign, nn.Softsign(),
                 [-0.6666666666666666, -0.3333333333333333, 0.0, 0.6, 0.7777777777777778],
                 [0.1111111111111111, 0.4444444444444444, 1.0, 0.16000000000000003,
                  0.04938271604938271]),
    "softmin": (lambda x: F.softmin(x, 0), nn.Softmin(dim=0),
                [0.7180041561379767, 0.16020838234630497, 0.09717129583599818,
                 0.021681846801716722, 0.0029343188780031775],
                [0.0, 0.0, 0.0, 0.0, 0.0]),
}


def t64(a, requires_grad=True):
    return autograd.tensor(np.asarray(a, dtype=np.float64), requires_grad=requires_grad)


@pytest.mark.parametrize("name", list(CASES))
def test_values_and_gradient_match_pytorch(name):
    fn, module, values, grads = CASES[name]
    x = t64(X)
    y = fn(x)
    np.testing.assert_allclose(y.data, values, rtol=1e-12, atol=1e-15)
    (g,) = autograd.grad(y.sum(), x)
    np.testing.assert_allclose(g.data, grads, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(module(t64(X, False)).data, values, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("name", list(CASES))
def test_gradcheck_and_gradgradcheck(name):
    fn = CASES[name][0]
    # points away from every kink (0, +-1, +-3, 6)
    x = t64([[-3.7, -2.2, -0.8, -0.3], [0.4, 0.9, 2.1, 4.6]])
    assert gradcheck(fn, (x,))
    assert gradgradcheck(fn, (x,))


def test_float32_input_stays_float32():
    x = autograd.tensor([-1.0, 2.0])
    for name, (fn, _, _, _) in CASES.items():
        assert fn(x).dtype == np.float32, name


def test_gelu_erf_is_accurate_in_the_tails():
    # PyTorch 2.13 gives -5.919525869479969e-09 at x = -6: a coarse erf would give 0 there
    x = t64([-6.0, 6.0], requires_grad=False)
    np.testing.assert_allclose(F.gelu(x).data, [-5.919525869479969e-09, 5.999999994080474],
                               rtol=1e-6)


def test_module_reprs_and_bad_arguments():
    assert repr(nn.GELU("tanh")) == "GELU(approximate='tanh')"
    assert repr(nn.Hardtanh(-2.0, 2.0)) == "Hardtanh(min_val=-2.0, max_val=2.0)"
    assert repr(nn.ELU(alpha=0.5)) == "ELU(alpha=0.5)"
    assert repr(nn.Softmin(dim=1)) == "Softmin(dim=1)"
    with pytest.raises(ValueError, match="approximate"):
        nn.GELU("fast")
    with pytest.raises(ValueError, match="min_val"):
        nn.Hardtanh(1.0, -1.0)


def test_bad_input_error_names_the_layer():
    with pytest.raises(TypeError, match=r"^GELU\(approximate='none'\): gelu: expected a "
                                        r"floating point input, got int64"):
        nn.GELU()(autograd.tensor([1, 2]))
    with pytest.raises(TypeError, match=r"^SiLU\(\): silu: .*int64"):
        nn.SiLU()(autograd.tensor([1, 2]))


def test_softmin_default_dim_and_rows():
    x = t64([[0.0, np.log(3.0)]], requires_grad=False)
    np.testing.assert_allclose(F.softmin(x, dim=1).data, [[0.75, 0.25]])
    np.testing.assert_allclose(nn.Softmin()(x).data, [[0.75, 0.25]])  # legacy dim 1 for 2-D


def test_normalize_values_and_gradients():
    x = t64([[3.0, 4.0], [0.0, 0.0], [1.0, -1.0]], requires_grad=False)
    np.testing.assert_allclose(F.normalize(x, dim=1).data,
                               [[0.6, 0.8], [0.0, 0.0],
                                [0.7071067811865475, -0.7071067811865475]])
    y = t64([[3.0, 4.0], [1.0, -1.0]], requires_grad=False)
    np.testing.assert_allclose(F.normalize(y, p=1, dim=0).data, [[0.75, 0.8], [0.25, -0.2]])
    z = t64([[0.3, -1.2, 2.0], [1.5, 0.7, -0.4]])
    assert gradcheck(lambda t: F.normalize(t, dim=1), (z,))
    assert gradgradcheck(lambda t: F.normalize(t, dim=0), (z,))
    with pytest.raises(IndexError, match="normalize: dim 3"):
        F.normalize(z, dim=3)


def test_cosine_similarity_values_broadcast_and_gradients():
    a = t64([[1.0, 2.0, 3.0], [0.0, 1.0, 0.0]])
    b = t64([[2.0, 0.0, 1.0]])
    np.testing.assert_allclose(F.cosine_similarity(a, b).data, [0.5976143046671969, 0.0],
                               rtol=1e-12)
    assert gradcheck(F.cosine_similarity, (a, b))
    assert gradgradcheck(F.cosine_similarity, (a, b))
    with pytest.raises(ValueError, match=r"cosine_similarity: the shapes \(2, 3\) and \(2,\)"):
        F.cosine_similarity(a, t64([1.0, 2.0]))
