"""TransformerEncoderLayer and TransformerEncoder (issue 14): PyTorch's state_dict keys,
outputs equal to a PyTorch 2.13 model's with the same weights (recorded below as literals),
post-norm and norm_first, relu and gelu, masks, deep-copied layers, gradcheck in float64,
dropout in train and eval, bad-input errors."""
import numpy as np
import pytest

import autograd
import nn
import nn.functional as F
from autograd import gradcheck
from autograd.errors import ShapeError


def det(shape, phase):
    """Deterministic inputs, the same formula the PyTorch reference used."""
    n = int(np.prod(shape))
    return np.sin(np.arange(n).reshape(shape) * 0.37 + phase)


# ---- PyTorch 2.13 reference values ------------------------------------------------------------
# TransformerEncoderLayer(4, 2, 6, dropout=0.0) after torch.manual_seed(1), its attention
# biases and norms set non-zero, in eval mode, applied to src = det((5, 2, 4), 0.3) (float32).
# TEL_MASK_OUT: src_mask = generate_square_subsequent_mask(5), key padding [[0,0,0,1,1],
# [0,0,0,0,0]]; TEL_GELU_NORMFIRST_OUT: activation="gelu", norm_first=True, same weights;
# ENC_OUT: TransformerEncoder(layer, 2, norm=LayerNorm(4)) with the causal mask, is_causal=True.
TEL_SELF_ATTN_IN_PROJ_WEIGHT = np.array([
    -0.22805133, -0.36984929, -0.10264321, -0.26414117, -0.19623385, 0.02932137, 0.36505222,
    0.33284688, -0.59862524, 0.37962222, 0.17107473, 0.58086926, 0.40420246, -0.55795562,
    -0.58224887, -0.29536691, 0.53773141, -0.10200226, 0.26207057, -0.28457648, 0.60087085,
    -0.25909382, 0.45923328, 0.0072515, -0.3226085, 0.31476852, -0.32505962, 0.18010162,
    -0.17682695, -0.06713708, -0.58872759, -0.29196799, 0.33229414, -0.14885382, 0.60995328,
    0.49087065, -0.0286735, -0.40874827, 0.37291166, 0.19005413, -0.39584965, 0.39776322,
    0.37177241, 0.54311001, -0.34327129, -0.10080016, -0.0118628, 0.08944158,
]).reshape(12, 4)
TEL_SELF_ATTN_IN_PROJ_BIAS = np.array([
    0.02907007, 0.42526391, -0.54521942, -0.05445996, -0.61386365, 0.02743145, -0.02792632,
    0.30108419, -0.35183993, -0.10991517, -0.52540219, -0.12566049,
]).reshape(12,)
TEL_SELF_ATTN_OUT_PROJ_WEIGHT = np.array([
    0.2576316, -0.22068912, -0.09693074, 0.23468447, -0.47071844, 0.29985863, -0.10286266,
    0.25437194, 0.06950849, -0.06122208, 0.13868046, 0.02466589, 0.18261409, -0.1948505,
    -0.03645438, -0.04501367,
]).reshape(4, 4)
TEL_SELF_ATTN_OUT_PROJ_BIAS = np.array([
    -0.37940782, -0.4916085, 0.11777233, 0.72817749,
]).reshape(4,)
TEL_LINEAR1_WEIGHT = np.array([
    -0.37945914, -0.35481119, 0.27200228, -0.11724597, 0.24423671, 0.02850497, 0.16417241,
    0.10994434, 0.18179971, 0.24785537, -0.46305603, 0.25167572, -0.35156161, -0.37725449,
    0.03040719, -0.08520359, 0.29366201, -0.28956783, -0.44449097, 0.36388439, -0.07414091,
    0.2812286, 0.16074228, -0.37493765,
]).reshape(6, 4)
TEL_LINEAR1_BIAS = np.array([
    0.10044914, 0.12009829, -0.33477932, -0.23723614, 0.17048782, 0.08956128,
]).reshape(6,)
TEL_LINEAR2_WEIGHT = np.array([
    -0.17365764, -0.12358325, 0.37390757, -0.07553463, 0.23016697, 0.17677282, -0.26389462,
    -0.34718642, 0.39187294, 0.02131741, 0.2798371, 0.08460187, 0.13130194, 0.30494457,
    0.38710701, -0.27090582, 0.05104287, 0.30465829, 0.2957494, 0.25361955, -0.29545701,
    -0.29398131, -0.24689698, 0.05128756,
]).reshape(4, 6)
TEL_LINEAR2_BIAS = np.array([
    0.40688676, -0.25788048, 0.21754773, -0.2259606,
]).reshape(4,)
TEL_NORM1_WEIGHT = np.array([
    1.024678, 0.96313107, 0.8674227, 1.6792476,
]).reshape(4,)
TEL_NORM1_BIAS = np.array([
    -0.52812248, -0.14911741, 0.07593346, -0.48002109,
]).reshape(4,)
TEL_NORM2_WEIGHT = np.array([
    1.4836788, 0.97694868, 1.1314235, 2.2137937,
]).reshape(4,)
TEL_NORM2_BIAS = np.array([
    -0.29529947, -0.10423195, -0.57878786, -0.15605931,
]).reshape(4,)
TEL_OUT = np.array([
    -1.7806343, -0.99487185, 0.03865989, 2.8702955, -0.87364018, -1.4292283, -0.14773399,
    2.865942, 0.17769442, -1.3897178, -1.0486144, 2.9704194, -1.3556549, -1.1728084,
    -0.20446068, 3.1150939, -1.7876271, -0.98233283, 0.01431716, 2.899945, -1.3259436,
    -1.2557845, -0.00778406, 2.8739622, 0.98281151, -1.4494674, -1.1740369, 2.1499073,
    -1.1631482, -1.2345939, -0.30975676, 3.1738896, -1.7746543, -0.97921389, -0.02187026,
    2.9443274, -1.5235879, -1.1590589, 0.04119232, 2.8538542,
]).reshape(5, 2, 4)
TEL_MASK_OUT = np.array([
    -1.4422903, -1.2297945, 0.13355823, 2.7121117, -0.34094694, -1.6451029, -0.04314128,
    2.3556385, 0.32260147, -1.296008, -1.2601069, 2.9556699, -1.4953995, -1.0729208,
    -0.24932796, 3.1850483, -1.7080871, -1.0456169, 0.04573266, 2.8631983, -1.2409022,
    -1.2955692, -0.02343981, 2.8678577, 0.88757217, -1.5801956, -0.90281159, 2.0575554,
    -1.2939414, -1.1333479, -0.38060662, 3.2782476, -1.6994789, -1.0398682, 0.00900398,
    2.9091928, -1.5235879, -1.1590589, 0.04119232, 2.8538542,
]).reshape(5, 2, 4)
TEL_GELU_NORMFIRST_OUT = np.array([
    0.06676283, 0.22939354, 1.1801887, 1.3214781, 1.4802939, 1.3042331, 0.92700827,
    0.11075407, 0.80054027, 0.24245548, -0.20053142, -1.3503795, -1.047967, -1.0640837,
    -0.41875994, -0.24079826, -0.26483977, -0.06142381, 0.95283717, 1.1755886, 1.2644651,
    1.209064, 1.0247502, 0.60453135, 1.1649706, 0.59142011, 0.10491997, -1.1659349,
    -0.87132567, -1.0279744, -0.61091, -0.61451817, -0.58983409, -0.39308953, 0.64358592,
    0.91872174, 0.78588867, 0.85492432, 1.1211379, 1.0880193,
]).reshape(5, 2, 4)
ENC_OUT = np.array([
    -0.89258075, -0.6362803, -0.13826734, 1.6671283, -0.59773666, -0.86256248, -0.22704595,
    1.687345, -0.3549315, -0.78741944, -0.56932878, 1.7116796, -0.85654658, -0.59204179,
    -0.24178013, 1.6903685, -0.92356026, -0.58287245, -0.16128203, 1.6677146, -0.82609862,
    -0.6661045, -0.19211987, 1.6843231, 0.04038131, -0.96991688, -0.68100673, 1.6105422,
    -0.8107937, -0.6115914, -0.27799106, 1.7003762, -0.92869848, -0.56429839, -0.17669055,
    1.6696874, -0.89096493, -0.61795008, -0.16366424, 1.672579,
]).reshape(5, 2, 4)

STATE_KEYS = ["self_attn.in_proj_weight", "self_attn.in_proj_bias", "self_attn.out_proj.weight",
              "self_attn.out_proj.bias", "linear1.weight", "linear1.bias", "linear2.weight",
              "linear2.bias", "norm1.weight", "norm1.bias", "norm2.weight", "norm2.bias"]
REFERENCE = [TEL_SELF_ATTN_IN_PROJ_WEIGHT, TEL_SELF_ATTN_IN_PROJ_BIAS,
             TEL_SELF_ATTN_OUT_PROJ_WEIGHT, TEL_SELF_ATTN_OUT_PROJ_BIAS, TEL_LINEAR1_WEIGHT,
             TEL_LINEAR1_BIAS, TEL_LINEAR2_WEIGHT, TEL_LINEAR2_BIAS, TEL_NORM1_WEIGHT,
             TEL_NORM1_BIAS, TEL_NORM2_WEIGHT, TEL_NORM2_BIAS]
CAUSAL = np.triu(np.full((5, 5), -np.inf), 1)  # generate_square_subsequent_mask(5)
PADDING = np.array([[0, 0, 0, 1, 1], [0, 0, 0, 0, 0]], dtype=bool)


def state(dtype=np.float32):
    return {k: autograd.tensor(v.astype(dtype)) for k, v in zip(STATE_KEYS, REFERENCE)}


def reference_layer(dtype=np.float32, **kwargs):
    kwargs = {"dropout": 0.0, **kwargs}
    layer = nn.TransformerEncoderLayer(4, 2, 6, dtype=dtype, **kwargs)
    layer.load_state_dict(state(dtype))
    return layer.eval()


def src(dtype=np.float32, requires_grad=False):
    return autograd.tensor(det((5, 2, 4), 0.3).astype(dtype), requires_grad=requires_grad)


def test_state_dict_keys_and_shapes_are_pytorchs():
    layer = nn.TransformerEncoderLayer(4, 2, 6)
    sd = layer.state_dict()
    assert list(sd) == STATE_KEYS
    assert [tuple(t.shape) for t in sd.values()] == [r.shape for r in REFERENCE]
    enc = nn.TransformerEncoder(layer, 2, norm=nn.LayerNorm(4))
    assert list(enc.state_dict()) == ([f"layers.0.{k}" for k in STATE_KEYS]
                                      + [f"layers.1.{k}" for k in STATE_KEYS]
                                      + ["norm.weight", "norm.bias"])


def test_layer_matches_pytorch_in_eval():
    layer = reference_layer()
    np.testing.assert_allclose(layer(src()).data, TEL_OUT, atol=1e-5)
    out = layer(src(), src_mask=autograd.tensor(CAUSAL),
                src_key_padding_mask=autograd.tensor(PADDING))
    np.testing.assert_allclose(out.data, TEL_MASK_OUT, atol=1e-5)
    bool_causal = autograd.tensor(np.isinf(CAUSAL))  # True = masked, as PyTorch
    out = layer(src(), src_mask=bool_causal, src_key_padding_mask=autograd.tensor(PADDING))
    np.testing.assert_allclose(out.data, TEL_MASK_OUT, atol=1e-5)


def test_gelu_norm_first_matches_pytorch():
    layer = reference_layer(activation="gelu", norm_first=True)
    np.testing.assert_allclose(layer(src()).data, TEL_GELU_NORMFIRST_OUT, atol=1e-5)
    layer = reference_layer(activation=F.gelu, norm_first=True)  # a callable
    np.testing.assert_allclose(layer(src()).data, TEL_GELU_NORMFIRST_OUT, atol=1e-5)


def test_batch_first_and_unbatched():
    layer = reference_layer(batch_first=True)
    out = layer(src().transpose(0, 1))
    np.testing.assert_allclose(out.transpose(0, 1).data, TEL_OUT, atol=1e-5)
    out = reference_layer()(src()[:, 1])
    np.testing.assert_allclose(out.data, TEL_OUT[:, 1], atol=1e-5)


def test_encoder_matches_pytorch_and_copies_the_layer():
    layer = reference_layer()
    enc = nn.TransformerEncoder(layer, 2, norm=nn.LayerNorm(4)).eval()
    a, b = enc.layers
    assert a is not layer and b is not a
    assert a.linear1.weight is not b.linear1.weight
    np.testing.assert_array_equal(a.linear1.weight.data, layer.linear1.weight.data)
    out = enc(src(), mask=autograd.tensor(CAUSAL), is_causal=True)
    np.testing.assert_allclose(out.data, ENC_OUT, atol=1e-5)
    a.linear1.weight.data[:] = 0.0  # the copies are independent
    np.testing.assert_array_equal(b.linear1.weight.data, TEL_LINEAR1_WEIGHT.astype(np.float32))


def test_layer_gradcheck_float64():
    layer = reference_layer(np.float64)
    x = src(np.float64, True)
    params = tuple(layer.parameters())

    def f(x, *_):
        return layer(x, src_mask=autograd.tensor(CAUSAL),
                     src_key_padding_mask=autograd.tensor(PADDING))

    assert gradcheck(f, (x, *params))
    norm_first = reference_layer(np.float64, activation="gelu", norm_first=True)
    assert gradcheck(lambda x: norm_first(x), (x,))


def test_encoder_gradcheck_float64():
    enc = nn.TransformerEncoder(reference_layer(np.float64), 2,
                                norm=nn.LayerNorm(4, dtype=np.float64))
    x = src(np.float64, True)
    assert gradcheck(lambda x, *_: enc(x), (x, *enc.layers[1].parameters()))


def test_dropout_in_train_only():
    layer = reference_layer(dropout=0.3)
    layer.train()
    autograd.manual_seed(0)
    a = layer(src())
    autograd.manual_seed(0)
    a2 = layer(src())
    autograd.manual_seed(1)
    b = layer(src())
    np.testing.assert_array_equal(a.data, a2.data)
    assert not np.allclose(a.data, b.data)
    assert not np.allclose(a.data, TEL_OUT, atol=1e-3)
    layer.eval()
    np.testing.assert_allclose(layer(src()).data, TEL_OUT, atol=1e-5)


def test_bad_inputs():
    with pytest.raises(AssertionError, match="embed_dim must be divisible by num_heads"):
        nn.TransformerEncoderLayer(6, 4)
    with pytest.raises(RuntimeError, match="activation should be relu/gelu, not tanh"):
        nn.TransformerEncoderLayer(4, 2, activation="tanh")
    layer = reference_layer()
    with pytest.raises(ShapeError, match=r"MultiheadAttention.*\(5, 2, 3\)"):
        layer(src()[..., :3])
    with pytest.raises(RuntimeError, match=r"2D attn_mask is \(4, 4\)"):
        layer(src(), src_mask=autograd.tensor(np.zeros((4, 4))))
    with pytest.raises(ValueError, match="num_layers"):
        nn.TransformerEncoder(layer, -1)
