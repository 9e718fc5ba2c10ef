"""F.scaled_dot_product_attention and nn.MultiheadAttention (issue 14): values against
PyTorch 2.13 (recorded below as literals: same inputs, same state_dict), masks (bool True =
attend for SDPA, True = masked for MultiheadAttention, as PyTorch), fully masked rows (zeros,
as PyTorch 2.13), gradcheck and gradgradcheck in float64, dropout in train and eval, and
bad-input errors naming the op or layer and the shapes."""
import math

import numpy as np
import pytest

import autograd
import nn
import nn.functional as F
from autograd import gradcheck, gradgradcheck
from autograd.errors import ShapeError


def det(shape, phase):
    """Deterministic inputs, the same formula the PyTorch reference used."""
    n = int(np.prod(shape))
    return np.sin(np.arange(n).reshape(shape) * 0.37 + phase)


# ---- PyTorch 2.13 reference values ------------------------------------------------------------
# SDPA on q = det((2, 3, 4), 0.1), k = det((2, 5, 4), 1.0), v = det((2, 5, 3), 2.0) in float64;
# the MultiheadAttention(4, 2) state_dict is torch.manual_seed(0)'s init with biases set
# non-zero, applied to x = det((3, 2, 4), 0.2) and y = det((5, 2, 4), 0.9) in float32.
SDPA_PLAIN = np.array([
    0.2490142, 0.28564708, 0.28361898, 0.37261284, 0.36944318, 0.31627112, -0.4195554,
    -0.49172255, -0.49733736, 0.19048963, -0.05954355, -0.30151779, -0.25877899, -0.2567037,
    -0.21988476, -0.30794027, -0.18360878, -0.03442671,
]).reshape(2, 3, 3)
SDPA_CAUSAL = np.array([
    0.90929743, 0.69727774, 0.39088478, 0.69117603, 0.44149364, 0.13205716, -0.38808541,
    -0.5893305, -0.71081247, 0.95415227, 0.99782158, 0.90644042, 0.85678839, 0.76974324,
    0.57851694, 0.77176494, 0.73953236, 0.60720755,
]).reshape(2, 3, 3)
SDPA_BOOL = np.array([
    0.35977561, 0.26622829, 0.13664822, 0, 0, 0, -0.33301594, -0.47882765, -0.55983228,
    -0.24170145, -0.48253329, -0.65805652, 0, 0, 0, 0.04041991, 0.21497363, 0.36043168,
]).reshape(2, 3, 3)
SDPA_FLOAT_SCALE = np.array([
    0.34051199, 0.2484661, 0.1227915, 0.12168307, 0.24036059, 0.32650643, -0.39600051,
    -0.41643324, -0.38050368, 0.30054121, 0.10386078, -0.10687671, -0.37811638, -0.32400903,
    -0.22604857, -0.38198275, -0.29105603, -0.16073624,
]).reshape(2, 3, 3)
SDPA_BOOL_GQ = np.array([
    0.45121947, 0.46158992, 0.40948633, 0.30196069, 0, 0, 0, 0, 0.04584903, 0.04350891,
    0.03528007, 0.02227623, -0.33476654, -0.23141931, -0.09675056, 0.05101292, 0, 0, 0, 0,
    0.03792205, 0.03004357, 0.01809883, 0.00370451,
]).reshape(2, 3, 4)
SDPA_BOOL_GK = np.array([
    0.02964759, 0.12511125, 0.20364169, 0.25461019, 0.00209983, -0.00732798, -0.01576398,
    -0.02206641, -0.01358184, -0.04097142, -0.06281571, -0.07615819, -0.01746851,
    -0.07924448, -0.13029509, -0.16371086, -0.00069707, 0.00243263, 0.00523309, 0.00732527,
    0.24361006, 0.24432689, 0.21197523, 0.15093371, -0.00543015, -0.00578833, -0.00536309,
    -0.00421198, -0.18470047, -0.18498192, -0.16022695, -0.113786, -0.04882347, -0.04859355,
    -0.04178672, -0.02932426, -0.00465597, -0.00496309, -0.00459847, -0.00361147,
]).reshape(2, 5, 4)
SDPA_BOOL_GV = np.array([
    0.37146594, 0.52870695, 0.61438995, 0.11385788, 0.01434854, -0.08710281, 0.25131869,
    0.09131312, -0.08105125, 0.11059184, 0.17631214, 0.21816942, 0.04140536, 0.00521796,
    -0.03167566, -0.15874627, -0.05906529, 0.0486099, -0.00921163, 0.00543695, 0.01934967,
    -0.51023584, -0.67520696, -0.748792, -0.05984757, -0.08210456, -0.09324909, -0.12834453,
    0.07575236, 0.26959654,
]).reshape(2, 5, 3)
MHA_IN_PROJ_WEIGHT = np.array([
    0.22242416, 0.50850672, -0.12602636, 0.45824552, -0.09870425, 0.06479764, 0.55448872,
    -0.56807977, -0.3855117, -0.15503143, -0.23870276, 0.52909029, -0.39692736, -0.28189516,
    -0.42782819, -0.57352418, -0.35746658, 0.52639419, 0.27325183, 0.29680011, 0.03220562,
    -0.31395325, 0.10360404, -0.57176894, -0.44247967, -0.31569636, 0.38636902, 0.35904697,
    -0.27158415, -0.02209586, 0.39164937, 0.60877973, 0.24303971, 0.08272714, 0.41058737,
    -0.36056635, 0.11411195, -0.47477573, -0.42442685, -0.31634155, 0.27708203, 0.24627195,
    -0.36274037, 0.18500206, 0.33617535, -0.07729204, 0.02338133, 0.14188959,
]).reshape(12, 4)
MHA_IN_PROJ_BIAS = np.array([
    -1.1093897, 0.12949227, -0.51485109, -0.2503792, 0.13668387, -0.45905, -0.02021054,
    0.14405841, -0.00376865, -0.45724773, -0.54429185, -0.13329816,
]).reshape(12,)
MHA_OUT_PROJ_WEIGHT = np.array([
    -0.00374341, 0.2682218, -0.41152257, -0.36796951, -0.19257718, 0.13407868, -0.00990659,
    0.39644474, -0.04437202, 0.13230628, -0.15110654, -0.09828269, -0.47767425, -0.33114105,
    -0.20611155, 0.01852179,
]).reshape(4, 4)
MHA_OUT_PROJ_BIAS = np.array([
    0.09471173, -0.10951141, 1.0287956, -0.01771094,
]).reshape(4,)
MHA_OUT = np.array([
    0.35990506, -0.2630223, 1.1037149, 0.24441855, 0.13538709, -0.18393226, 1.0250008,
    0.20432414, 0.35724309, -0.05380749, 1.1385287, 0.07740866, 0.22709012, -0.19056877,
    1.0612537, 0.22116737, 0.36031708, -0.21730688, 1.1117246, 0.20776094, 0.13435301,
    -0.18919915, 1.0235932, 0.20511882,
]).reshape(3, 2, 4)
MHA_W = np.array([
    0.11885144, 0.31838679, 0.11203976, 0.33823603, 0.11248599, 0.15341622, 0.28108028,
    0.14684379, 0.27814305, 0.14051668, 0.12551197, 0.31316626, 0.1188734, 0.32226899,
    0.12017936, 0.2841934, 0.14587237, 0.22130401, 0.17859164, 0.17003852, 0.19602451,
    0.21617939, 0.17464696, 0.24043411, 0.17271511, 0.28876725, 0.14478968, 0.22100173,
    0.17621797, 0.1692234,
]).reshape(2, 3, 5)
MHA_MASK_OUT = np.array([
    0.37436152, -0.24920259, 1.1117763, 0.1666085, 0.09176002, -0.20020357, 1.0035307,
    0.16343649, 0.39100564, -0.02319764, 1.1585834, 0.06024329, 0.10761694, -0.22218014,
    1.0055295, 0.18710236, 0.52550209, -0.17959699, 1.1867027, 0.10745023, 0.13435301,
    -0.18919915, 1.0235932, 0.20511882,
]).reshape(3, 2, 4)
MHA_MASK_W = np.array([
    0.37102789, 0, 0, 0.62897217, 0, 0.1160749, 0.88392508, 0, 0, 0, 0.18286474, 0.41141173,
    0, 0.40572345, 0, 0.16567133, 0, 0, 0.83432865, 0, 0.64363819, 0.35636181, 0, 0, 0,
    0.14838594, 0.41167372, 0, 0.43994033, 0, 0.26657936, 0, 0.23637274, 0.2856535,
    0.21139435, 0.33801621, 0.27866837, 0.22691275, 0, 0.15640265, 0.20834875, 0.20206393,
    0.19241334, 0.21844676, 0.17872722, 0.3906568, 0, 0.27900118, 0.14204831, 0.18829374,
    0.18828647, 0.28979528, 0.2325639, 0, 0.28935441, 0.36918575, 0.08751544, 0.24959011,
    0.1339892, 0.15971956,
]).reshape(2, 2, 3, 5)
MHA_MASK_OUT_NW = np.array([
    0.37436152, -0.24920258, 1.1117763, 0.1666085, 0.09176, -0.20020355, 1.0035307,
    0.16343649, 0.39100561, -0.02319765, 1.1585833, 0.06024331, 0.10761694, -0.22218014,
    1.0055295, 0.18710236, 0.52550209, -0.17959699, 1.1867027, 0.10745019, 0.13435298,
    -0.18919915, 1.0235932, 0.20511881,
]).reshape(3, 2, 4)
MHA_UNBATCHED_OUT = np.array([
    0.35990506, -0.2630223, 1.1037149, 0.24441855, 0.35724309, -0.05380749, 1.1385287,
    0.07740866, 0.36031708, -0.21730688, 1.1117246, 0.20776094,
]).reshape(3, 4)
MHA_UNBATCHED_W = np.array([
    0.11885144, 0.31838679, 0.11203976, 0.33823603, 0.11248599, 0.15341622, 0.28108028,
    0.14684379, 0.27814305, 0.14051668, 0.12551197, 0.31316626, 0.1188734, 0.32226899,
    0.12017936,
]).reshape(3, 5)

BOOL_MASK = np.array([[1, 0, 1, 1, 0], [0, 0, 0, 0, 0], [1, 1, 1, 0, 1]], dtype=bool)
KEY_PADDING = np.array([[0, 0, 1, 0, 1], [0, 0, 0, 0, 0]], dtype=bool)
ATTN_MASK = np.array([[0, 1, 0, 0, 0], [0, 0, 0, 1, 0], [0, 0, 0, 0, 0]], dtype=bool)


def qkv(requires_grad=False):
    return tuple(autograd.tensor(det(s, p), requires_grad=requires_grad)
                 for s, p in (((2, 3, 4), 0.1), ((2, 5, 4), 1.0), ((2, 5, 3), 2.0)))


def reference_mha(**kwargs):
    m = nn.MultiheadAttention(4, 2, **kwargs)
    m.load_state_dict({"in_proj_weight": autograd.tensor(MHA_IN_PROJ_WEIGHT.astype(np.float32)),
                       "in_proj_bias": autograd.tensor(MHA_IN_PROJ_BIAS.astype(np.float32)),
                       "out_proj.weight": autograd.tensor(
                           MHA_OUT_PROJ_WEIGHT.astype(np.float32)),
                       "out_proj.bias": autograd.tensor(MHA_OUT_PROJ_BIAS.astype(np.float32))})
    return m


def xy():
    return (autograd.tensor(det((3, 2, 4), 0.2).astype(np.float32)),
            autograd.tensor(det((5, 2, 4), 0.9).astype(np.float32)))


# ---- scaled_dot_product_attention -------------------------------------------------------------
def test_sdpa_matches_pytorch_plain_causal_bool_and_float_mask():
    q, k, v = qkv()
    np.testing.assert_allclose(F.scaled_dot_product_attention(q, k, v).data, SDPA_PLAIN,
                               atol=1e-7)
    np.testing.assert_allclose(F.scaled_dot_product_attention(q, k, v, is_causal=True).data,
                               SDPA_CAUSAL, atol=1e-7)
    out = F.scaled_dot_product_attention(q, k, v, attn_mask=autograd.tensor(BOOL_MASK))
    np.testing.assert_allclose(out.data, SDPA_BOOL, atol=1e-7)
    fm = autograd.tensor(det((3, 5), 3.0))
    out = F.scaled_dot_product_attention(q, k, v, attn_mask=fm, scale=0.3)
    np.testing.assert_allclose(out.data, SDPA_FLOAT_SCALE, atol=1e-7)


def test_sdpa_equals_the_unfused_formula():
    q, k, v = qkv()
    s = q.data @ np.swapaxes(k.data, -1, -2) / 2.0  # 1/sqrt(E), E = 4
    p = np.exp(s - s.max(-1, keepdims=True))
    p /= p.sum(-1, keepdims=True)
    np.testing.assert_allclose(F.scaled_dot_product_attention(q, k, v).data, p @ v.data,
                               rtol=1e-12)


def test_sdpa_is_stable_for_huge_scores():
    q, k, v = qkv()
    out = F.scaled_dot_product_attention(q * 1e4, k, v)
    assert np.isfinite(out.data).all()
    s = (q.data * 1e4) @ np.swapaxes(k.data, -1, -2)
    np.testing.assert_allclose(out.data, np.take_along_axis(
        v.data, s.argmax(-1)[..., None], axis=-2), atol=1e-12)  # softmax -> one-hot


def test_sdpa_fully_masked_row_is_zero_for_bool_and_minus_inf_masks_as_pytorch():
    q, k, v = qkv(True)
    fm = np.zeros((3, 5))
    fm[1] = -np.inf
    for mask in (autograd.tensor(BOOL_MASK), autograd.tensor(fm)):
        out = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
        np.testing.assert_array_equal(out.data[:, 1], 0.0)
        out.sum().backward()
        np.testing.assert_array_equal(q.grad.data[:, 1], 0.0)
        assert np.isfinite(k.grad.data).all() and np.isfinite(v.grad.data).all()
        q.grad = k.grad = v.grad = None


def test_sdpa_gradients_match_pytorch_with_bool_mask():
    q, k, v = qkv(True)
    out = F.scaled_dot_product_attention(q, k, v, attn_mask=autograd.tensor(BOOL_MASK))
    (out * autograd.tensor(det(out.shape, 0.5))).sum().backward()
    np.testing.assert_allclose(q.grad.data, SDPA_BOOL_GQ, atol=1e-7)
    np.testing.assert_allclose(k.grad.data, SDPA_BOOL_GK, atol=1e-7)
    np.testing.assert_allclose(v.grad.data, SDPA_BOOL_GV, atol=1e-7)


@pytest.mark.parametrize("mask", ["none", "causal", "bool", "float"])
def test_sdpa_gradcheck_and_gradgradcheck(mask):
    q, k, v = qkv(True)
    fm = autograd.tensor(det((3, 5), 3.0), requires_grad=True)
    extra = (fm,) if mask == "float" else ()

    def f(q, k, v, *m):
        kw = {"causal": {"is_causal": True},
              "bool": {"attn_mask": autograd.tensor(BOOL_MASK)}}.get(mask, {})
        return F.scaled_dot_product_attention(q, k, v, *m, **kw)

    assert gradcheck(f, (q, k, v, *extra))
    assert gradgradcheck(f, (q, k, v, *extra))


def test_sdpa_broadcasts_batch_dims_and_gradients_sum_back():
    rng = np.random.default_rng(0)
    q = autograd.tensor(rng.standard_normal((2, 1, 3, 4)), requires_grad=True)
    k = autograd.tensor(rng.standard_normal((3, 5, 4)), requires_grad=True)
    v = autograd.tensor(rng.standard_normal((5, 2)), requires_grad=True)
    out = F.scaled_dot_product_attention(q, k, v)
    assert out.shape == (2, 3, 3, 2)
    full = F.scaled_dot_product_attention(
        autograd.tensor(np.broadcast_to(q.data, (2, 3, 3, 4)).copy()),
        autograd.tensor(np.broadcast_to(k.data, (2, 3, 5, 4)).copy()),
        autograd.tensor(np.broadcast_to(v.data, (2, 3, 5, 2)).copy()))
    np.testing.assert_allclose(out.data, full.data, rtol=1e-12)
    assert gradcheck(F.scaled_dot_product_attention, (q, k, v))
    assert gradgradcheck(F.scaled_dot_product_attention, (q, k, v))


def test_sdpa_dropout_uses_the_seeded_generator():
    q, k, v = qkv()
    autograd.manual_seed(5)
    a = F.scaled_dot_product_attention(q, k, v, dropout_p=0.4)
    autograd.manual_seed(5)
    b = F.scaled_dot_product_attention(q, k, v, dropout_p=0.4)
    np.testing.assert_array_equal(a.data, b.data)
    autograd.manual_seed(5)
    keep = autograd.random.generator().random((2, 3, 5)) >= 0.4
    s = q.data @ np.swapaxes(k.data, -1, -2) / 2.0
    p = np.exp(s - s.max(-1, keepdims=True))
    p /= p.sum(-1, keepdims=True)
    np.testing.assert_allclose(a.data, (p * keep / 0.6) @ v.data, rtol=1e-12)
    assert not np.allclose(a.data, SDPA_PLAIN)


def test_sdpa_dropout_gradcheck_with_a_fixed_mask():
    q, k, v = qkv(True)

    def f(q, k, v):
        autograd.manual_seed(11)
        return F.scaled_dot_product_attention(q, k, v, dropout_p=0.3)

    assert gradcheck(f, (q, k, v))
    assert gradgradcheck(f, (q, k, v))


def test_sdpa_float32_keeps_dtype_and_2d_inputs_work():
    q, k, v = (t.float() for t in qkv())
    out = F.scaled_dot_product_attention(q, k, v)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out.data, SDPA_PLAIN, atol=1e-6)
    out2 = F.scaled_dot_product_attention(q[0], k[0], v[0])
    assert out2.shape == (3, 3)
    np.testing.assert_allclose(out2.data, SDPA_PLAIN[0], atol=1e-6)


def test_sdpa_bad_inputs():
    q, k, v = qkv()
    with pytest.raises(ShapeError, match=r"scaled_dot_product_attention.*\(2, 3, 4\).*\(2, 5, 3\)"):
        F.scaled_dot_product_attention(q, k[..., :3], v)
    with pytest.raises(ShapeError, match="scaled_dot_product_attention"):
        F.scaled_dot_product_attention(q, k, v[:, :4])
    with pytest.raises(ShapeError, match="at least 2-D"):
        F.scaled_dot_product_attention(q[0, 0], k[0, 0], v[0, 0])
    with pytest.raises(ShapeError, match=r"attn_mask of shape \(4, 5\)"):
        F.scaled_dot_product_attention(q, k, v, attn_mask=autograd.tensor(np.ones((4, 5))))
    with pytest.raises(TypeError, match="attn_mask must be bool or float"):
        F.scaled_dot_product_attention(q, k, v, attn_mask=autograd.tensor(np.ones((3, 5), int)))
    with pytest.raises(ValueError, match="is_causal"):
        F.scaled_dot_product_attention(q, k, v, attn_mask=autograd.tensor(BOOL_MASK),
                                       is_causal=True)
    with pytest.raises(ValueError, match="dropout_p"):
        F.scaled_dot_product_attention(q, k, v, dropout_p=1.5)
    with pytest.raises(TypeError, match="float dtype"):
        F.scaled_dot_product_attention(q.float(), k, v)


# ---- MultiheadAttention -----------------------------------------------------------------------
def test_mha_parameter_layout_and_init():
    autograd.manual_seed(0)
    m = nn.MultiheadAttention(8, 2)
    assert [(name, tuple(t.shape)) for name, t in m.state_dict().items()] == [
        ("in_proj_weight", (24, 8)), ("in_proj_bias", (24,)), ("out_proj.weight", (8, 8)),
        ("out_proj.bias", (8,))]
    bound = math.sqrt(6.0 / (24 + 8))  # xavier_uniform_ on (3E, E)
    w = m.in_proj_weight.data
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.8 * bound
    np.testing.assert_array_equal(m.in_proj_bias.data, 0.0)
    np.testing.assert_array_equal(m.out_proj.bias.data, 0.0)
    assert np.abs(m.out_proj.weight.data).max() <= 1 / math.sqrt(8)  # a Linear's init
    assert isinstance(m.out_proj, nn.Linear)
    assert not nn.MultiheadAttention(8, 2, bias=False).state_dict().keys() & {
        "in_proj_bias", "out_proj.bias"}


def test_mha_with_pytorch_state_dict_matches_pytorch():
    m = reference_mha()
    x, y = xy()
    out, w = m(x, y, y)
    np.testing.assert_allclose(out.data, MHA_OUT, atol=2e-6)
    np.testing.assert_allclose(w.data, MHA_W, atol=2e-6)
    out, w = m(x, y, y, key_padding_mask=autograd.tensor(KEY_PADDING),
               attn_mask=autograd.tensor(ATTN_MASK), average_attn_weights=False)
    assert w.shape == (2, 2, 3, 5)
    np.testing.assert_allclose(out.data, MHA_MASK_OUT, atol=2e-6)
    np.testing.assert_allclose(w.data, MHA_MASK_W, atol=2e-6)
    out, w = m(x, y, y, key_padding_mask=autograd.tensor(KEY_PADDING),
               attn_mask=autograd.tensor(ATTN_MASK), need_weights=False)
    assert w is None
    np.testing.assert_allclose(out.data, MHA_MASK_OUT_NW, atol=2e-6)


def test_mha_float_masks_equal_bool_masks():
    m = reference_mha()
    x, y = xy()
    ref, _ = m(x, y, y, key_padding_mask=autograd.tensor(KEY_PADDING),
               attn_mask=autograd.tensor(ATTN_MASK))
    out, _ = m(x, y, y, key_padding_mask=autograd.tensor(np.where(KEY_PADDING, -np.inf, 0.0)),
               attn_mask=autograd.tensor(np.where(ATTN_MASK, -np.inf, 0.0)))
    np.testing.assert_allclose(out.data, ref.data, atol=1e-6)
    np.testing.assert_allclose(ref.data, MHA_MASK_OUT, atol=2e-6)


def test_mha_batch_first_and_unbatched():
    m, mb = reference_mha(), reference_mha(batch_first=True)
    x, y = xy()
    out, w = mb(x.transpose(0, 1), y.transpose(0, 1), y.transpose(0, 1))
    np.testing.assert_allclose(out.transpose(0, 1).data, MHA_OUT, atol=2e-6)
    np.testing.assert_allclose(w.data, MHA_W, atol=2e-6)
    out, w = m(x[:, 0], y[:, 0], y[:, 0])
    assert out.shape == (3, 4) and w.shape == (3, 5)
    np.testing.assert_allclose(out.data, MHA_UNBATCHED_OUT, atol=2e-6)
    np.testing.assert_allclose(w.data, MHA_UNBATCHED_W, atol=2e-6)


def test_mha_3d_attn_mask_per_head():
    m = reference_mha()
    x, y = xy()
    per_head = np.broadcast_to(ATTN_MASK, (4, 3, 5))
    out, _ = m(x, y, y, attn_mask=autograd.tensor(per_head))
    ref, _ = m(x, y, y, attn_mask=autograd.tensor(ATTN_MASK))
    np.testing.assert_allclose(out.data, ref.data, atol=1e-6)


def test_mha_gradcheck_float64_both_paths():
    autograd.manual_seed(2)
    m = nn.MultiheadAttention(4, 2, dtype=np.float64)
    m.in_proj_bias.data[:] = det((12,), 0.4)
    m.out_proj.bias.data[:] = det((4,), 0.8)
    x = autograd.tensor(det((3, 2, 4), 0.2), requires_grad=True)
    y = autograd.tensor(det((5, 2, 4), 0.9), requires_grad=True)
    params = (m.in_proj_weight, m.in_proj_bias, m.out_proj.weight)
    kpm = autograd.tensor(KEY_PADDING)
    for need in (True, False):
        def f(x, y, *_, need=need):
            return m(x, y, y, key_padding_mask=kpm, need_weights=need)[0]
        assert gradcheck(f, (x, y, *params))


def test_mha_kdim_vdim_use_separate_projections():
    autograd.manual_seed(0)
    m = nn.MultiheadAttention(4, 2, kdim=3, vdim=5, dtype=np.float64)
    assert [(n, tuple(t.shape)) for n, t in m.state_dict().items()] == [
        ("q_proj_weight", (4, 4)), ("k_proj_weight", (4, 3)), ("v_proj_weight", (4, 5)),
        ("in_proj_bias", (12,)), ("out_proj.weight", (4, 4)), ("out_proj.bias", (4,))]
    q = autograd.tensor(det((3, 2, 4), 0.1), requires_grad=True)
    k = autograd.tensor(det((6, 2, 3), 0.2), requires_grad=True)
    v = autograd.tensor(det((6, 2, 5), 0.3), requires_grad=True)
    out, w = m(q, k, v)
    assert out.shape == (3, 2, 4) and w.shape == (2, 3, 6)
    np.testing.assert_allclose(w.data.sum(-1), 1.0, rtol=1e-12)
    assert gradcheck(lambda q, k, v: m(q, k, v)[0], (q, k, v))


def test_mha_dropout_in_train_only():
    m = reference_mha(dropout=0.5)
    x, y = xy()
    m.train()
    autograd.manual_seed(1)
    a, wa = m(x, y, y)
    autograd.manual_seed(2)
    b, _ = m(x, y, y)
    assert not np.allclose(a.data, b.data)
    assert not np.allclose(wa.data, MHA_W, atol=1e-3)  # weights after dropout, as PyTorch
    autograd.manual_seed(1)
    a2, _ = m(x, y, y)
    np.testing.assert_array_equal(a.data, a2.data)
    m.eval()
    out, w = m(x, y, y)
    np.testing.assert_allclose(out.data, MHA_OUT, atol=2e-6)
    np.testing.assert_allclose(w.data, MHA_W, atol=2e-6)
    out, _ = m(x, y, y, need_weights=False)
    np.testing.assert_allclose(out.data, MHA_OUT, atol=2e-6)


def test_mha_bad_inputs():
    with pytest.raises(AssertionError, match="embed_dim must be divisible by num_heads"):
        nn.MultiheadAttention(5, 2)
    m = reference_mha()
    x, y = xy()
    with pytest.raises(ShapeError, match=r"MultiheadAttention.*\(3, 2, 3\)"):
        m(x[..., :3], y, y)
    with pytest.raises(ShapeError, match="batch size"):
        m(x, y[:, :1], y[:, :1])
    with pytest.raises(RuntimeError, match=r"2D attn_mask is \(3, 4\), but should be \(3, 5\)"):
        m(x, y, y, attn_mask=autograd.tensor(np.zeros((3, 4), bool)))
    with pytest.raises(RuntimeError, match=r"3D attn_mask is \(2, 3, 5\)"):
        m(x, y, y, attn_mask=autograd.tensor(np.zeros((2, 3, 5), bool)))
    with pytest.raises(ShapeError, match=r"key_padding_mask shape of \(2, 5\)"):
        m(x, y, y, key_padding_mask=autograd.tensor(np.zeros((2, 4), bool)))
    with pytest.raises(RuntimeError, match="need attn_mask"):
        m(x, y, y, is_causal=True)
