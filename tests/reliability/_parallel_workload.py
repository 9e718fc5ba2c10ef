"""A workload that reaches every kernel family with arrays both below and above the
kernels' parallel thresholds; run as a child process by test_numba_cache.py and
test_concurrency.py (``python -m tests.reliability._parallel_workload SIZES [THREADS]``).

Prints the numba threading layer that ended up in use ("none" when no parallel region ran)
and whether every result matched the numpy backend's."""
from __future__ import annotations

import sys
import threading

import numpy as np

_INIT_LOCK = threading.Lock()


def workload(size: str) -> list:
    """float32 (the demo's dtype, so the training tests reuse the compiled kernels)."""
    import autograd
    import nn
    import nn.functional as F
    import optim

    rng = np.random.default_rng(0)
    n, c, hw = (2, 1, 4) if size == "small" else (32, 8, 32)

    def t(*shape):
        return autograd.tensor(rng.standard_normal(shape).astype(np.float32))

    x, w, m = t(n, c, hw, hw), t(4, c, 3, 3), t(n * c * 4, hw * hw // 4)
    out = [F.conv2d(x, w, padding=1), F.max_pool2d(x, 2), F.avg_pool2d(x, 2),
           F.batch_norm(x, None, None, training=True), x.sum((0, 2, 3)), x.amax(1),
           m.softmax(1), m.log_softmax(0), m.logsumexp(1), m.var(0), m.exp(), m.tanh(),
           m.sigmoid(), m.relu(), m * m + m, m @ m.T]
    # one training step of a demo-like model: backward kernels, cross-entropy, Adam
    with _INIT_LOCK:  # the initialisers share one global generator
        autograd.manual_seed(0)
        model = nn.Sequential(nn.Conv2d(c, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU(),
                              nn.MaxPool2d(2), nn.Flatten(),
                              nn.Linear(16 * (hw // 2) ** 2, 10))
    opt = optim.Adam(model.parameters(), lr=1e-3)
    loss = F.cross_entropy(model(x), autograd.tensor(rng.integers(0, 10, n)))
    loss.backward()
    # compare gradients, not the updated weights: the conv bias before batch norm has a
    # gradient of exactly 0 in exact arithmetic, ~1e-9 noise in floats, and Adam turns that
    # noise into a +-lr step whose sign differs between backends
    out += [loss] + [p.grad for p in model.parameters()]
    opt.step()
    return [o.data for o in out]


def main(sizes: list, threads: int) -> None:
    import numba

    import autograd

    autograd.set_backend("numpy")
    expected = {s: workload(s) for s in set(sizes)}
    autograd.set_backend("numba")
    bad = []

    def run():
        for s in sizes:
            for got, ref in zip(workload(s), expected[s]):
                if not np.allclose(got, ref, rtol=1e-3, atol=1e-4):
                    bad.append(s)

    if threads == 1:
        run()
    else:
        ts = [threading.Thread(target=run) for _ in range(threads)]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
    try:
        layer = numba.threading_layer()
    except ValueError:
        layer = "none"
    print(layer, "ok" if not bad else "WRONG")


if __name__ == "__main__":
    main(sys.argv[1].split(","), int(sys.argv[2]) if len(sys.argv) > 2 else 1)
