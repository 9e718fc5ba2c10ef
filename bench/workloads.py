"""The workloads both sides of a comparison time: the same inputs and models for numbagrad
(bench/kernels.py, overhead.py, training.py) and for PyTorch (bench/torch_ref.py, in its
own process), so that no bench module reaches into another's helpers."""
from __future__ import annotations

import numpy as np

from .timing import QUICK

N_OPS = 20  # length of the per-op overhead chain


def matmul_sizes() -> list:
    return [64, 256, 512] if QUICK[0] else [64, 128, 256, 512, 1024]


def elementwise_inputs(dt, n: int = 1_000_000) -> tuple:
    """x, y, z, pos, X (1000 x 1000 view of x), bias, tanh(x): the same for every library."""
    rng = np.random.default_rng(0)
    x, y, z = (rng.standard_normal(n).astype(dt) for _ in range(3))
    pos = np.abs(x) + dt(0.1)
    return x, y, z, pos, x.reshape(1000, -1), y[:1000].copy(), np.tanh(x)


def conv_inputs() -> tuple:
    rng = np.random.default_rng(0)
    x = rng.standard_normal((64, 8, 14, 14)).astype(np.float32)
    w = (rng.standard_normal((16, 8, 3, 3)) * 0.1).astype(np.float32)
    return x, w, np.zeros(16, np.float32)


def chain(x, c):
    """N_OPS tiny add/mul/tanh ops on x (the per-op overhead workload)."""
    y = x
    for i in range(N_OPS):
        k = i % 3
        y = y + c if k == 0 else (y * c if k == 1 else y.tanh())
    return y


def chain_inputs() -> tuple:
    rng = np.random.default_rng(0)
    return (rng.standard_normal((4, 4)).astype(np.float32),
            rng.standard_normal((4, 4)).astype(np.float32))


def mlp(nn):
    return nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 128), nn.ReLU(),
                         nn.Linear(128, 10))


def cnn(nn):
    return nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(8, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Flatten(), nn.Linear(784, 10))


def cnn64(nn, size: int = 64):
    """3 x (conv3x3-BatchNorm-ReLU-maxpool) with 32/64/128 channels, then 2 linear layers, on
    3 x size x size images (64: the bench's step; 128: the course homework's peak memory)."""
    layers = []
    for cin, cout in ((3, 32), (32, 64), (64, 128)):
        layers += [nn.Conv2d(cin, cout, 3, padding=1), nn.BatchNorm2d(cout), nn.ReLU(),
                   nn.MaxPool2d(2)]
    side = size // 8
    return nn.Sequential(*layers, nn.Flatten(), nn.Linear(128 * side * side, 256), nn.ReLU(),
                         nn.Linear(256, 10))


CNN64 = {"batch": 16, "size": 64}   # the training-step workload (Adam)
CNN128 = {"batch": 32, "size": 128}  # the peak-memory workload (one step, SGD)


# the tiny GPT (nanoGPT's character-level shape): vocabulary, tokens, width, heads, layers, batch
GPT = {"vocab": 65, "tokens": 64, "width": 128, "heads": 4, "layers": 2, "batch": 16}


def tiny_gpt(nn):
    """Token + learned position embeddings, 2 pre-norm causal TransformerEncoderLayers
    (4 heads, feed-forward 512, GELU, no dropout), a final LayerNorm and a linear head to the
    vocabulary; called as model(tokens, positions, causal_mask)."""
    v, t, e = GPT["vocab"], GPT["tokens"], GPT["width"]

    class TinyGPT(nn.Module):
        def __init__(self):
            super().__init__()
            self.tok = nn.Embedding(v, e)
            self.pos = nn.Embedding(t, e)
            layer = nn.TransformerEncoderLayer(e, GPT["heads"], dim_feedforward=4 * e,
                                               dropout=0.0, activation="gelu", batch_first=True,
                                               norm_first=True)
            self.blocks = nn.TransformerEncoder(layer, GPT["layers"], enable_nested_tensor=False)
            self.ln_f = nn.LayerNorm(e)
            self.head = nn.Linear(e, v)

        def forward(self, idx, positions, mask):
            h = self.tok(idx) + self.pos(positions)
            return self.head(self.ln_f(self.blocks(h, mask=mask, is_causal=True)))
    return TinyGPT()


def causal_mask(n: int):
    """(n, n) float32 additive mask: -inf above the diagonal (what PyTorch's
    Transformer.generate_square_subsequent_mask returns)."""
    return np.triu(np.full((n, n), -np.inf, np.float32), 1)


def data(kind: str, seed: int = 0) -> tuple:
    """The model's inputs then the targets, as numpy arrays: random images/features with
    random labels, or for the tiny GPT random tokens (plus positions and the causal mask)
    with the next token as target."""
    rng = np.random.default_rng(seed)
    if kind == "mlp":
        x = rng.standard_normal((128, 784)).astype(np.float32)
        y = rng.integers(0, 10, 128)
    elif kind == "cnn":
        x = rng.standard_normal((64, 1, 28, 28)).astype(np.float32)
        y = rng.integers(0, 10, 64)
    elif kind == "cnn64":
        b, size = CNN64["batch"], CNN64["size"]
        x = rng.standard_normal((b, 3, size, size)).astype(np.float32)
        y = rng.integers(0, 10, b)
    elif kind == "tiny_gpt":
        t = GPT["tokens"]
        seq = rng.integers(0, GPT["vocab"], (GPT["batch"], t + 1), dtype=np.int64)
        return (np.ascontiguousarray(seq[:, :-1]), np.arange(t, dtype=np.int64),
                causal_mask(t), np.ascontiguousarray(seq[:, 1:]))
    else:
        raise ValueError(f"bench workloads: unknown model {kind!r}; choose from {MODELS}")
    return x, y


MODELS = {"mlp": mlp, "cnn": cnn, "cnn64": cnn64, "tiny_gpt": tiny_gpt}


def optimizer(optim, kind: str, params):
    """SGD(lr=0.01) for the MLP and CNN, Adam(lr=1e-3) for the 64x64 CNN, AdamW(lr=3e-4) for
    the tiny GPT."""
    if kind == "tiny_gpt":
        return optim.AdamW(params, lr=3e-4)
    if kind == "cnn64":
        return optim.Adam(params, lr=1e-3)
    return optim.SGD(params, lr=0.01)


def model_step(lib, nn, F, optim, kind: str):
    """A fresh model `kind` (seeded) and its training step as a function of the inputs and
    the targets, `step(*inputs, y)`: zero_grad, forward, cross-entropy, backward, optimizer
    step; returns the loss, detached (what autograd.compile records)."""
    lib.manual_seed(0)
    model = MODELS[kind](nn)
    opt = optimizer(optim, kind, model.parameters())

    def step(*args):
        *inputs, y = args
        opt.zero_grad()
        out = model(*inputs)
        if out.ndim == 3:  # (batch, tokens, vocab) logits: one prediction per token
            out = out.reshape(-1, out.shape[-1])
        loss = F.cross_entropy(out, y.reshape(-1))
        loss.backward()
        opt.step()
        return loss.detach()
    return step


def train_step(lib, nn, F, optim, kind: str):
    """A closure running one training step of model `kind` on its bench data, in library
    `lib` (autograd or torch, with its nn, nn.functional and optim). Both sides build their
    model through this one function, so they time the same thing."""
    step = model_step(lib, nn, F, optim, kind)
    args = tuple(lib.tensor(a) for a in data(kind))
    return lambda: step(*args)


def torch_step(torch, kind: str):
    """PyTorch's training step of model `kind` (the twin of training.ours_step)."""
    return train_step(torch, torch.nn, torch.nn.functional, torch.optim, kind)
