"""Training-step time (forward, backward, SGD update) of the two reference models:
MLP 784-256-128-10 (batch 128) and a small CNN on 28x28 (batch 64), BLAS and numba
kernels interleaved as in real training."""
from __future__ import annotations

from .timing import compare, fmt_time, header, record, table
from .torch_ref import torch_stats
from .workloads import cnn, data, mlp


def ours_step(kind: str):
    """A closure running one SGD step of our model."""
    import autograd
    import nn
    import nn.functional as F
    import optim

    autograd.manual_seed(0)
    model = mlp(nn) if kind == "mlp" else cnn(nn)
    opt = optim.SGD(model.parameters(), lr=0.01)
    xv, yv = data(kind)
    x, y = autograd.tensor(xv), autograd.tensor(yv)

    def step():
        opt.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        return loss
    return step


def bench_training() -> None:
    import autograd

    header("training step (forward + backward + SGD), float32")
    tstats = torch_stats("training")
    rows = []
    for kind, label in (("mlp", "MLP 784-256-128-10, batch 128"),
                        ("cnn", "CNN conv-relu-pool x2 + linear, 28x28, batch 64")):
        ours = ours_step(kind)
        ref = ours_step(kind)

        def numpy_backend(ref=ref):
            autograd.set_backend("numpy")
            try:
                ref()
            finally:
                autograd.set_backend("numba")
        cands = {"ours (numba)": ours, "ours (numpy backend)": numpy_backend}
        st = compare(cands, target=0.05)
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
    print("targets: MLP <= 1.0x torch, CNN <= 1.5x torch")
