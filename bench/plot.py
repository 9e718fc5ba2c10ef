"""Charts of a bench run: one PNG per section, and one of every ratio against numpy and PyTorch.

`python -m bench --plot DIR` draws them after the run; `python -m bench.plot RESULTS.json DIR`
redraws them from a `--json` file. matplotlib (the `examples` extra) is imported only here,
through its object API with the Agg canvas, so it never touches a global backend.

Ratios are time(ours) / time(reference): below 1 ours is faster. The matmul chart puts
GFLOP/s under the machine's peak (bench/machine.py), the elementwise chart puts GB/s against
the measured memory bandwidth. The distributed chart compares two ways of running ours
(samples per second), so it stays out of the ratio chart, whose references are numpy and
PyTorch.
"""
from __future__ import annotations

import json
import os
import sys

COLORS = {"ours": "tab:blue", "numpy": "tab:orange", "torch": "tab:red", "other": "tab:green"}
RATIO_TICKS = (0.01, 0.03, 0.1, 0.25, 0.5, 1, 2, 4, 10, 30, 100)


def _rows(results: list, section: str) -> list:
    return [r for r in results if r.get("section") == section]


def _who(name: str) -> str:
    n = name.lower()
    if "torch" in n:
        return "torch"
    if "numpy" in n and "backend" not in n:
        return "numpy"
    return "ours" if ("ours" in n or n in ("dispatched", "gemm")) else "other"


def _color(name: str) -> str:
    """The same colour for the same kind of candidate in every chart: ours blue (our second
    variant green, the numpy backend purple), numpy orange, PyTorch red."""
    n = name.lower()
    if n == "gemm" or "no_grad" in n:
        return COLORS["other"]
    if "numpy backend" in n:
        return "tab:purple"
    return COLORS[_who(name)]


def ratios(results: list) -> list:
    """[(workload, ours / numpy, ours / torch)] with times (None where a side is missing);
    for conv and training "numpy" is our numpy backend, the reference implementation."""
    out = []
    for r in _rows(results, "matmul"):
        g = r["gflops"]
        out.append((f"matmul f{r['dtype'][5:]} n={r['n']}", g["numpy"] / g["dispatched"],
                    g["torch"] / g["dispatched"] if "torch" in g else None))
    for r in _rows(results, "elementwise"):
        s = r["seconds"]
        out.append((f"{r['kernel']} f{r['dtype'][5:]}", s["ours"] / s["numpy"],
                    s["ours"] / s["torch"] if "torch" in s else None))
    for r in _rows(results, "conv2d"):
        s = r["seconds"]
        out.append(("conv2d fwd+bwd", s["ours (numba)"] / s["ours (numpy backend)"],
                    s["ours (numba)"] / s["torch"] if "torch" in s else None))
    for r in _rows(results, "overhead"):
        u = r["us_per_op"]
        if "torch fwd+bwd" in u:
            out.append(("per-op overhead", None, u["ours fwd+bwd"] / u["torch fwd+bwd"]))
    for r in _rows(results, "training"):
        s = r["seconds"]
        out.append((f"training step {r['model']}", s["ours (numba)"] / s["ours (numpy backend)"],
                    s["ours (numba)"] / s["torch"] if "torch" in s else None))
    return out


def _figure(width: float, height: float):
    from matplotlib.figure import Figure
    return Figure(figsize=(width, height), dpi=100, layout="constrained")


def _save(fig, outdir: str, name: str, title: str, note: str) -> str:
    fig.suptitle(f"{title}\n{note}", fontsize=10)
    path = os.path.join(outdir, f"{name}.png")
    fig.savefig(path, format="png")
    return path


def _matmul(fig, rows: list) -> None:
    dtypes = sorted({r["dtype"] for r in rows})
    axes = fig.subplots(1, len(dtypes), squeeze=False)[0]
    for ax, dt in zip(axes, dtypes):
        sel = sorted((r for r in rows if r["dtype"] == dt), key=lambda r: r["n"])
        ns = [r["n"] for r in sel]
        for k in sel[0]["gflops"]:
            med = [r["gflops"][k] for r in sel]
            lo = [m - r.get("gflops_min", {}).get(k, m) for m, r in zip(med, sel)]
            hi = [r.get("gflops_max", {}).get(k, m) - m for m, r in zip(med, sel)]
            ax.errorbar(ns, med, yerr=[lo, hi], marker="o", capsize=3, label=k, color=_color(k))
        peak = sel[0]["peak"]
        ax.axhline(peak, ls="--", color="black", lw=1, label=f"peak {peak:.0f} GFLOP/s")
        ax.set(xscale="log", xlabel="n (C = A @ B, n x n)", ylabel="GFLOP/s", title=dt,
               ylim=(0, peak * 1.12))
        ax.set_xticks(ns, [str(n) for n in ns])
        ax.minorticks_off()
        ax.legend(fontsize=8)


def _elementwise(fig, rows: list, bandwidth) -> None:
    dtypes = sorted({r["dtype"] for r in rows})
    axes = fig.subplots(1, len(dtypes), squeeze=False)[0]
    for ax, dt in zip(axes, dtypes):
        sel = [r for r in rows if r["dtype"] == dt]
        who = list(sel[0]["gbps"])
        h = 0.8 / len(who)
        for j, k in enumerate(who):
            ax.barh([i + j * h for i in range(len(sel))], [r["gbps"][k] for r in sel], h,
                    label=k, color=_color(k))
        if bandwidth:
            ax.axvline(bandwidth, ls="--", color="black", lw=1,
                       label=f"memory bandwidth {bandwidth:.0f} GB/s")
        ax.set_yticks([i + 0.4 - h / 2 for i in range(len(sel))], [r["kernel"] for r in sel])
        ax.invert_yaxis()
        ax.set(xlabel="GB/s (bytes read + written)", title=dt)
    fig.legend(*axes[0].get_legend_handles_labels(), fontsize=8, loc="outside lower center",
               ncols=4)


def _threshold(fig, rows: list) -> None:
    ax = fig.subplots()
    rows = sorted(rows, key=lambda r: r["n"])
    ns = [r["n"] for r in rows]
    for k in rows[0]["seconds"]:
        ax.plot(ns, [r["seconds"][k] * 1e6 for r in rows], marker="o", label=k,
                ls="--" if "mul" in k else "-")
    ax.set(xscale="log", yscale="log", xlabel="elements", ylabel="us per call")
    ax.legend(fontsize=8, ncols=2)


def _bars(fig, values: dict, xlabel: str) -> None:
    ax = fig.subplots()
    names = list(values)
    ax.barh(names, [values[k] for k in names], color=[_color(k) for k in names])
    for i, k in enumerate(names):
        ax.text(values[k], i, f" {values[k]:.3g}", va="center", fontsize=8)
    ax.invert_yaxis()
    ax.set(xlabel=xlabel)
    ax.margins(x=0.15)


def _grouped(fig, groups: dict, xlabel: str) -> None:
    """groups: label -> {candidate: value}, drawn as grouped horizontal bars."""
    ax = fig.subplots()
    labels = list(groups)
    who = list(dict.fromkeys(k for g in groups.values() for k in g))
    h = 0.8 / len(who)
    for j, k in enumerate(who):
        vals = [groups[g].get(k, 0.0) for g in labels]
        ax.barh([i + j * h for i in range(len(labels))], vals, h, label=k,
                color=_color(k) if _who(k) != "other" else None)
    ax.set_yticks([i + 0.4 - h / 2 for i in range(len(labels))], labels)
    ax.invert_yaxis()
    ax.set(xlabel=xlabel)
    ax.legend(fontsize=8)


def _ratios(fig, rows: list) -> None:
    ax = fig.subplots()
    sides = [(who, col) for who, col in (("numpy", 1), ("torch", 2))
             if any(r[col] is not None for r in rows)]
    h = 0.8 / len(sides)
    for j, (who, col) in enumerate(sides):
        ys = [i + (j - (len(sides) - 1) / 2) * h for i, r in enumerate(rows) if r[col] is not None]
        xs = [r[col] for r in rows if r[col] is not None]
        ax.barh(ys, xs, h, label=f"ours / {who}", color=COLORS[who])
        for x, y in zip(xs, ys):
            ax.text(x, y, f" {x:.2f}", va="center", fontsize=7)
    ax.axvline(1.0, color="black", lw=1)
    ax.set_xscale("log")
    values = [v for r in rows for v in r[1:] if v is not None]
    lo, hi = min(values + [1.0]) / 1.3, max(values + [1.0]) * 1.6
    ticks = [t for t in RATIO_TICKS if lo <= t <= hi]
    ax.set_xlim(lo, hi)
    ax.set_xticks(ticks, [f"{t:g}x" for t in ticks])
    ax.minorticks_off()
    ax.set_yticks(range(len(rows)), [r[0] for r in rows], fontsize=8)
    ax.invert_yaxis()
    ax.set(xlabel="time ratio (log scale): < 1 ours faster, > 1 slower")
    fig.legend(fontsize=8, loc="outside lower center", ncols=2)


def write_charts(results: list, outdir: str, meta: dict | None = None) -> list:
    """Draw one PNG per section present in `results` (the `--json` rows) and ratios.png;
    returns the paths written. `meta` may hold 'loadavg' (start, end) and 'quick'."""
    os.makedirs(outdir, exist_ok=True)
    meta = meta or {}
    load = meta.get("loadavg")
    note = (f"load average {load[0]} at start, {load[1]} at end" if load else "") + \
        (" (--quick)" if meta.get("quick") else "")
    paths = []
    if rows := _rows(results, "matmul"):
        fig = _figure(9, 4)
        _matmul(fig, rows)
        paths.append(_save(fig, outdir, "matmul", "matmul GFLOP/s (median, min-max) against "
                           "the machine's peak", note))
    if rows := _rows(results, "elementwise"):
        mem = _rows(results, "memory")
        fig = _figure(9, max(2.5, 0.9 + 0.45 * len({r["kernel"] for r in rows})))
        _elementwise(fig, rows, mem[0]["gbps"] if mem else None)
        paths.append(_save(fig, outdir, "elementwise", "elementwise kernels, GB/s, against "
                           "measured memory bandwidth", note))
    if rows := _rows(results, "threshold"):
        fig = _figure(7, 4)
        _threshold(fig, rows)
        paths.append(_save(fig, outdir, "threshold", "serial vs parallel vs numpy by size",
                           note))
    if rows := _rows(results, "conv2d"):
        fig = _figure(7, 2.5)
        _bars(fig, {k: v * 1e3 for k, v in rows[0]["seconds"].items()}, "ms per call")
        paths.append(_save(fig, outdir, "conv", "conv2d forward+backward", note))
    if rows := _rows(results, "overhead"):
        fig = _figure(7, 2.5)
        _bars(fig, rows[0]["us_per_op"], "us per op")
        paths.append(_save(fig, outdir, "overhead", "per-op autograd overhead", note))
    if rows := _rows(results, "training"):
        fig = _figure(7, 3)
        _grouped(fig, {r["model"]: {k: v * 1e3 for k, v in r["seconds"].items()}
                       for r in rows}, "ms per step")
        paths.append(_save(fig, outdir, "training", "training step (forward + backward + "
                           "optimizer step)", note))
    if rows := _rows(results, "startup"):
        fig = _figure(7, 2.5)
        _grouped(fig, {r["case"]: {"import": r["import"], "first step": r["first_step"]}
                       for r in rows}, "seconds")
        paths.append(_save(fig, outdir, "startup", "start-up: import + first MLP step", note))
    if rows := _rows(results, "distributed"):
        fig = _figure(7, 2.5)
        _bars(fig, rows[0]["samples_per_s"], "samples per second (higher is better)")
        paths.append(_save(fig, outdir, "distributed", f"demo CNN, global batch "
                           f"{rows[0]['global_batch']}: 2 MPI ranks vs 2 threads", note))
    if rows := ratios(results):
        fig = _figure(8, max(2.5, 1.2 + 0.22 * len(rows)))
        _ratios(fig, rows)
        paths.append(_save(fig, outdir, "ratios", "time ours / time reference, per workload",
                           note))
    return paths


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 2:
        print("usage: python -m bench.plot RESULTS.json DIR", file=sys.stderr)
        return 2
    with open(argv[0]) as f:
        data = json.load(f)
    for path in write_charts(data["results"], argv[1], data):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
