"""Shared pieces of the example scripts: command-line options, aligned tables, optional plots.

Every example accepts

    --plots DIR   save its figures as PNG files into DIR (needs matplotlib: pip install ".[plot]")
    --quick       smaller sizes, for automated runs

Without matplotlib, or without ``--plots``, the examples only print.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any, Iterable, Sequence


def options(docstring: str | None) -> argparse.Namespace:
    """Parse the command line shared by all examples; the description is the docstring's first line."""
    summary = (docstring or "").strip().splitlines()[0] if docstring else None
    parser = argparse.ArgumentParser(description=summary)
    parser.add_argument("--plots", metavar="DIR", type=Path,
                        help="save figures as PNG files into DIR (needs matplotlib)")
    parser.add_argument("--quick", action="store_true", help="smaller sizes, for automated runs")
    return parser.parse_args()


class Figures:
    """Creates and saves matplotlib figures when a plot folder was given and matplotlib is installed.

    ``bool(figures)`` says whether plotting is on, so an example can skip its plotting code.
    """

    def __init__(self, folder: Path | None):
        self.folder = folder
        self.pyplot = None
        if folder is None:
            return
        try:
            import matplotlib
        except ImportError:
            print('(matplotlib is not installed: pip install ".[plot]" for figures; printing only)')
            return
        matplotlib.use("Agg")  # files only, no display needed
        import matplotlib.pyplot
        self.pyplot = matplotlib.pyplot
        folder.mkdir(parents=True, exist_ok=True)

    def __bool__(self) -> bool:
        return self.pyplot is not None

    def new(self, ncols: int = 1, width: float = 6.0, height: float = 4.5):
        """A figure with ``ncols`` side-by-side axes: ``(figure, axes)``."""
        return self.pyplot.subplots(1, ncols, figsize=(width * ncols, height))

    def save(self, figure, name: str) -> Path:
        path = self.folder / name
        figure.tight_layout()
        figure.savefig(path, dpi=100)
        self.pyplot.close(figure)
        print(f"saved {path}")
        return path


def table(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    """Print rows as an aligned text table: numbers right-aligned, text left-aligned."""
    rows = [list(row) for row in rows]
    cells = [[_cell(v) for v in row] for row in rows]
    widths = [max([len(h)] + [len(r[i]) for r in cells]) for i, h in enumerate(headers)]
    numeric = [bool(rows) and all(isinstance(r[i], (int, float)) for r in rows)
               for i in range(len(headers))]

    def line(values):
        return "  ".join(v.rjust(w) if num else v.ljust(w)
                         for v, w, num in zip(values, widths, numeric)).rstrip()

    print(line(headers))
    print(line(["-" * w for w in widths]))
    for row in cells:
        print(line(row))


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.3e}" if value != 0 and not 1e-3 <= abs(value) < 1e5 else f"{value:.6g}"
    return str(value)


def loglog_slope(xs: Sequence[float], ys: Sequence[float]) -> float:
    """Least-squares slope of log(ys) against log(xs): the order p in ys ~ C * xs^p."""
    import numpy as np
    slope, _ = np.polyfit(np.log(np.asarray(xs, float)), np.log(np.asarray(ys, float)), 1)
    return float(slope)
