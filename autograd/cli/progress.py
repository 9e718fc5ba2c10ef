"""A per-epoch progress bar: tqdm when it is installed, a plain text bar otherwise."""
from __future__ import annotations

import sys


class _PlainBar:
    def __init__(self, total: int, desc: str, disable: bool):
        self.total, self.desc, self.n, self.disable = total, desc, 0, disable
        self.postfix = ""

    def update(self, loss: float, rate: float) -> None:
        self.n += 1
        if self.disable:
            return
        filled = int(30 * self.n / max(self.total, 1))
        sys.stderr.write(f"\r{self.desc} [{'#' * filled}{'.' * (30 - filled)}] "
                         f"{self.n}/{self.total} loss {loss:.4f} {rate:,.0f} img/s")
        sys.stderr.flush()

    def close(self) -> None:
        if not self.disable:
            sys.stderr.write("\n")


class _TqdmBar:
    def __init__(self, total: int, desc: str, disable: bool):
        from tqdm import tqdm
        self.bar = tqdm(total=total, desc=desc, disable=disable, leave=True, file=sys.stderr)

    def update(self, loss: float, rate: float) -> None:
        self.bar.set_postfix(loss=f"{loss:.4f}", img_s=f"{rate:,.0f}", refresh=False)
        self.bar.update(1)

    def close(self) -> None:
        self.bar.close()


def progress_bar(total: int, desc: str, disable: bool = False):
    try:
        import tqdm  # noqa: F401
    except ImportError:
        return _PlainBar(total, desc, disable)
    return _TqdmBar(total, desc, disable)
