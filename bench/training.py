"""Training-step time (forward, backward, optimizer update) of the three reference models:
MLP 784-256-128-10 (batch 128) and a small CNN on 28x28 (batch 64) with SGD, BLAS and numba
kernels interleaved as in real training, a CNN with BatchNorm on 3x64x64 images (batch 16)
with Adam, and a tiny GPT (2 causal pre-norm transformer
layers, width 128, 4 heads, 64 tokens, vocabulary 65, batch 16) with AdamW, the attention
workload."""
from __future__ import annotations

from .timing import compare, fmt_time, header, record, table
from .torch_ref import torch_stats
from .workloads import GPT, train_step

LABELS = {"mlp": "MLP 784-256-128-10, batch 128",
          "cnn": "CNN conv-relu-pool x2 + linear, 28x28, batch 64",
          "cnn64": "CNN 3 x (conv3x3-BN-ReLU-pool) 32/64/128 + 2 linear, 3x64x64, batch 16, "
                   "Adam",
          "tiny_gpt": f"tiny GPT {GPT['layers']} layers x {GPT['heads']} heads, width "
                      f"{GPT['width']}, {GPT['tokens']} tokens, batch {GPT['batch']}, AdamW"}


def ours_step(kind: str):
    """A closure running one training step of our model `kind` (a key of LABELS)."""
    import autograd
    import nn
    import nn.functional as F
    import optim

    return train_step(autograd, nn, F, optim, kind)


def bench_training() -> None:
    import autograd

    header("training step (forward + backward + optimizer step), float32")
    tstats = torch_stats("training")
    rows = []
    for kind, label in LABELS.items():
        ours = ours_step(kind)
        ref = ours_step(kind)

        def numpy_backend(ref=ref):
            autograd.set_backend("numpy")
            try:
                ref()
            finally:
                autograd.set_backend("numba")
        cands = {"ours (numba)": ours, "ours (numpy backend)": numpy_backend}
        # the numpy backend's large products run OpenBLAS on every core, and its worker then
        # spins ~0.1 s: let it sleep before the next sample of ours (which makes no such call);
        # then each candidate steps untimed for 50 ms before its sample, as a training loop
        # would have (after the pause gemm's helper thread got no core for ~35 ms here)
        st = compare(cands, target=0.05, settle={"ours (numpy backend)": 0.15}, rewarm=0.05)
        if tstats:
            st["torch"] = tstats[kind]
        row = [label] + [f"{fmt_time(s['median'])} ({fmt_time(s['min'])}-"
                         f"{fmt_time(s['max'])})" for s in st.values()]
        if tstats:
            row.append(f"{st['ours (numba)']['median'] / st['torch']['median']:.2f}")
        rows.append(row)
        record("training", model=kind, seconds={k: s["median"] for k, s in st.items()})
    cols = ["model", "ours (numba)", "ours (numpy backend)"]
    cols += ["torch", "ours/torch"] if tstats else []
    table(cols, rows)
    print("targets (issue 15): MLP <= 1.0x torch, CNN 28x28 <= 1.0x, CNN 64x64 <= 1.5x, "
          "tiny GPT <= 1.5x")
