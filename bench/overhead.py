"""Per-op autograd overhead: a chain of 20 tiny add/mul/tanh ops, forward + backward."""
from __future__ import annotations

from .timing import compare, header, record, table
from .torch_ref import torch_stats
from .workloads import N_OPS, chain, chain_inputs


def bench_overhead() -> None:
    import autograd

    header(f"per-op autograd overhead: chain of {N_OPS} add/mul/tanh on 4x4 float32, "
           f"forward+backward, us per op")
    tstats = torch_stats("overhead")
    xv, cv = chain_inputs()
    x = autograd.tensor(xv, requires_grad=True)
    c = autograd.tensor(cv)

    def ours():
        x.grad = None
        chain(x, c).sum().backward()

    def forward_only():
        with autograd.no_grad():
            chain(x, c).sum()

    st = compare({"ours fwd+bwd": ours, "ours fwd (no_grad)": forward_only}, target=0.02)
    if tstats:
        st["torch fwd+bwd"] = tstats["chain"]
    per_op = {k: s["median"] / (N_OPS + 1) * 1e6 for k, s in st.items()}
    rows = [[k, f"{per_op[k]:.1f}",
             f"{s['min'] / (N_OPS + 1) * 1e6:.1f}-{s['max'] / (N_OPS + 1) * 1e6:.1f}"]
            for k, s in st.items()]
    table(["chain", "us/op (median)", "min-max"], rows)
    if tstats:
        print(f"ours / torch = {per_op['ours fwd+bwd'] / per_op['torch fwd+bwd']:.2f}x "
              f"(target <= 1.2x)")
    record("overhead", us_per_op=per_op)
