"""A plot as SVG, drawn on the server: a function of one variable and a model of it near a point.

The view is chosen from the function's finite values (the middle 96% of them, so that a pole
does not flatten the rest); the curve is cut where the function is undefined (nan, inf) and where
it jumps across the whole view between two samples (a pole such as ``1/x`` or ``tan(x)``), never
joined across.  Only numbers and escaped text go into the SVG.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from html import escape
from typing import Optional

import numpy as np

from ..compiler.compile import lambdify
from ..core.expr import Expr, Symbol

WIDTH, HEIGHT = 640, 400
MARGIN = (40, 18, 34, 54)  # top, right, bottom, left: room for the tick labels
SAMPLES = 801
CURVE, MODEL, POINT = "#2563eb", "#ea580c", "#111827"
BEYOND = 1e300  # values larger in size are not drawn (as inf): the view's arithmetic stays finite


@dataclass(frozen=True)
class Plot:
    """The SVG text and what it shows: the ranges and the number of curve pieces drawn."""

    svg: str
    x_range: tuple[float, float]
    y_range: tuple[float, float]
    segments: int


def plot_svg(f: Expr, x: Symbol, at: float, model: Optional[Expr], model_label: str,
             half_width: float = 4.0) -> Plot:
    """``f`` (a function of ``x`` alone) on ``[at - half_width, at + half_width]``, the ``model``
    (its tangent line or Taylor polynomial at ``at``, or None) and the point itself."""
    half_width = max(half_width, abs(at) / 4)
    xs = np.linspace(at - half_width, at + half_width, SAMPLES)
    ys = _values(f, x, xs)
    ms = _values(model, x, xs) if model is not None else None
    y0 = _values(f, x, np.array([at]))[0]
    lo, hi = _view(ys, [y0])
    box = _Box(xs[0], xs[-1], lo, hi)
    parts = [_grid(box)]
    curve = _pieces(xs, ys, box)
    parts += [_polyline(p, CURVE, 2.5) for p in curve]
    if ms is not None:
        parts += [_polyline(p, MODEL, 2, dashed=True) for p in _pieces(xs, ms, box)]
    if math.isfinite(y0) and lo <= y0 <= hi:
        px, py = box.to_pixels(at, y0)
        parts.append(f'<circle cx="{px:.2f}" cy="{py:.2f}" r="5" fill="{POINT}" '
                     f'stroke="#ffffff" stroke-width="2"><title>({_tick(at)}, {_tick(y0)})'
                     f'</title></circle>')
    left, top, right, bottom = box.left, box.top, box.right, box.bottom
    body = "\n".join(parts)
    legend = _legend(f"f({escape(x.name)})", escape(model_label) if ms is not None else None)
    svg = (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" '
           f'role="img" class="plot" font-family="system-ui, sans-serif" font-size="12">'
           f'<title>Plot of f({escape(x.name)}) near {escape(x.name)} = {_tick(at)}</title>'
           f'<defs><clipPath id="plot-area"><rect x="{left}" y="{top}" width="{right - left}" '
           f'height="{bottom - top}"/></clipPath></defs>'
           f'<rect x="0" y="0" width="{WIDTH}" height="{HEIGHT}" fill="#ffffff"/>'
           f'{body}{legend}</svg>')
    return Plot(svg, (float(xs[0]), float(xs[-1])), (lo, hi), len(curve))


def _values(e: Expr, x: Symbol, xs: np.ndarray) -> np.ndarray:
    """``e`` at ``xs`` as floats; undefined points (and complex values) are nan."""
    with np.errstate(all="ignore"):
        values = np.asarray(lambdify(e, [x])(xs))
    if np.iscomplexobj(values):
        values = np.where(np.abs(values.imag) < 1e-12, values.real, np.nan)
    values = np.broadcast_to(values.astype(float), xs.shape)
    return np.where(np.abs(values) <= BEYOND, values, np.nan)  # also drops nan and inf


def _view(ys: np.ndarray, extra: list[float]) -> tuple[float, float]:
    """The y range shown: the middle 96% of the finite values and the point, padded."""
    finite = ys[np.isfinite(ys)]
    points = [v for v in extra if math.isfinite(v)]
    if finite.size:
        lo, hi = np.percentile(finite, [2, 98])
        lo, hi = min([float(lo)] + points), max([float(hi)] + points)
    elif points:
        lo = hi = points[0]
    else:
        lo, hi = -1.0, 1.0
    if hi - lo < 1e-9 * max(1.0, abs(lo), abs(hi)):
        lo, hi = lo - 1, hi + 1
    pad = 0.08 * (hi - lo)
    return lo - pad, hi + pad


class _Box:
    """Data coordinates to pixels."""

    def __init__(self, x0: float, x1: float, y0: float, y1: float):
        top, right, bottom, left = MARGIN
        self.left, self.top, self.right, self.bottom = left, top, WIDTH - right, HEIGHT - bottom
        self.x0, self.x1, self.y0, self.y1 = float(x0), float(x1), float(y0), float(y1)

    def to_pixels(self, x: float, y: float) -> tuple[float, float]:
        px = self.left + (x - self.x0) / (self.x1 - self.x0) * (self.right - self.left)
        py = self.bottom - (y - self.y0) / (self.y1 - self.y0) * (self.bottom - self.top)
        return px, py


def _pieces(xs: np.ndarray, ys: np.ndarray, box: _Box) -> list[list[tuple[float, float]]]:
    """Runs of finite values, cut at poles, as pixel points (far values clamped, so that the
    visible part of a steep segment keeps its direction)."""
    span = box.y1 - box.y0
    far_lo, far_hi = box.y0 - 1000 * span, box.y1 + 1000 * span
    pieces: list[list[tuple[float, float]]] = []
    current: list[tuple[float, float]] = []
    previous = None
    for x, y in zip(xs.tolist(), ys.tolist()):
        if not math.isfinite(y):
            previous = None
            if current:
                pieces.append(current)
            current = []
            continue
        if previous is not None and _pole_between(previous, y, box, span):
            pieces.append(current)
            current = []
        current.append(box.to_pixels(x, min(max(y, far_lo), far_hi)))
        previous = y
    if current:
        pieces.append(current)
    return [p for p in pieces if len(p) > 1]


def _pole_between(a: float, b: float, box: _Box, span: float) -> bool:
    """Whether two neighbouring samples lie beyond opposite edges of the view: the function
    passes through infinity between them rather than across the view."""
    below, above = box.y0 - span, box.y1 + span
    return (a > above and b < below) or (a < below and b > above)


def _polyline(points: list[tuple[float, float]], colour: str, width: float,
              dashed: bool = False) -> str:
    coords = " ".join(f"{px:.2f},{py:.2f}" for px, py in points)
    dash = ' stroke-dasharray="7 5"' if dashed else ""
    return (f'<polyline points="{coords}" fill="none" stroke="{colour}" stroke-width="{width}" '
            f'stroke-linejoin="round" stroke-linecap="round" clip-path="url(#plot-area)"{dash}/>')


def _ticks(lo: float, hi: float, count: int = 6) -> list[float]:
    """Round numbers (1, 2 or 5 times a power of ten) spaced across [lo, hi]."""
    raw = (hi - lo) / count
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    first = math.ceil(lo / step)
    return [k * step for k in range(first, math.floor(hi / step) + 1)]


def _tick(value: float) -> str:
    if abs(value) < 1e-12:
        return "0"
    return f"{value:.4g}".replace("-", "\u2212")


def _grid(box: _Box) -> str:
    out = [f'<rect x="{box.left}" y="{box.top}" width="{box.right - box.left}" '
           f'height="{box.bottom - box.top}" fill="#f8fafc" stroke="#cbd5e1"/>']
    for t in _ticks(box.x0, box.x1):
        px, _ = box.to_pixels(t, box.y0)
        out.append(f'<line x1="{px:.2f}" y1="{box.top}" x2="{px:.2f}" y2="{box.bottom}" '
                   f'stroke="#e2e8f0"/>')
        out.append(f'<text x="{px:.2f}" y="{box.bottom + 18}" text-anchor="middle" '
                   f'fill="#475569">{_tick(t)}</text>')
    for t in _ticks(box.y0, box.y1):
        _, py = box.to_pixels(box.x0, t)
        out.append(f'<line x1="{box.left}" y1="{py:.2f}" x2="{box.right}" y2="{py:.2f}" '
                   f'stroke="#e2e8f0"/>')
        out.append(f'<text x="{box.left - 8}" y="{py + 4:.2f}" text-anchor="end" '
                   f'fill="#475569">{_tick(t)}</text>')
    if box.y0 <= 0 <= box.y1:  # the axes, where they are in view
        _, py = box.to_pixels(box.x0, 0)
        out.append(f'<line x1="{box.left}" y1="{py:.2f}" x2="{box.right}" y2="{py:.2f}" '
                   f'stroke="#64748b" stroke-width="1.2"/>')
    if box.x0 <= 0 <= box.x1:
        px, _ = box.to_pixels(0, box.y0)
        out.append(f'<line x1="{px:.2f}" y1="{box.top}" x2="{px:.2f}" y2="{box.bottom}" '
                   f'stroke="#64748b" stroke-width="1.2"/>')
    return "\n".join(out)


def _legend(curve_label: str, model_label: Optional[str]) -> str:
    """The key, in a row above the plot area."""
    rows = [(curve_label, CURVE, "")]
    if model_label is not None:
        rows.append((model_label, MODEL, ' stroke-dasharray="7 5"'))
    out, x, y = [], MARGIN[3], MARGIN[0] - 16
    for label, colour, dash in rows:
        out.append(f'<line x1="{x}" y1="{y - 4}" x2="{x + 24}" y2="{y - 4}" stroke="{colour}" '
                   f'stroke-width="2.5"{dash}/>')
        out.append(f'<text x="{x + 30}" y="{y}" fill="#1f2937" font-size="13">{label}</text>')
        x += 30 + 7.5 * len(label) + 28
    return "\n".join(out)
