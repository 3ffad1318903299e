"""Abstract (undefined) functions: ``f(x)``, ``g(x, y)`` with no formula behind them.

``function("f")`` gives a callable that builds ``f(...)``; ``parse(text, functions=["f"])``
reads the same calls from text.  Differentiation applies the chain rule through them: the partial
derivative of ``f`` in its i-th argument is the abstract function ``f_i``, and higher partials
list their argument numbers in increasing order (``f_1_1`` is f'', ``f_1_2`` is d^2 f/(da1 da2)).
So ``diff(f(g(x))^2, x)`` is ``2*f(g(x))*f_1(g(x))*g_1(x)``, which ``parse`` reads back with the
same ``functions=``.  SymPy sees ``sympy.Function("f")`` and its ``Derivative``/``Subs`` forms.

Abstract functions are not registry entries: they have no NumPy form, and ``lambdify`` of an
expression that uses one raises a ``SymcalcError`` (a ``ValueError``) naming it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Optional, Sequence

from ..errors import SymcalcError, SymcalcTypeError
from ..core.expr import Expr
from .elementary import ALIASES, REGISTRY, Function

DERIVATIVE_NAME = re.compile(r"([^\W\d_]\w*?)((?:_\d+)+)\Z")
_NAME = re.compile(r"[^\W\d_]\w*\Z")
_RESERVED = {"pi", "e"}


@dataclass(frozen=True, eq=False)
class Undefined(Function):
    """A registry-like entry for an abstract function or one of its partial derivatives."""

    base: str = ""
    indices: tuple[int, ...] = ()  # the arguments differentiated in, increasing


_made: dict[tuple[str, int, tuple[int, ...]], Undefined] = {}


def check_name(name: object) -> str:
    """``name`` if it can name an abstract function, else a SymcalcError (a SymcalcTypeError
    for a name that is no string) saying why."""
    if not isinstance(name, str):
        raise SymcalcTypeError(f"a function name must be a string, not {type(name).__name__}")
    if not _NAME.match(name):
        raise SymcalcError(f"{name!r} is not a function name: use letters, digits and '_', "
                         "starting with a letter")
    if not name.isascii():  # the parser spells θ as theta; the names must meet there
        raise SymcalcError(f"{name!r}: spell an abstract function's name in ASCII letters "
                         "(Greek letters by name, e.g. phi; a formula may still write φ(x))")
    if name in REGISTRY or name in ALIASES:
        raise SymcalcError(f"{name!r} is a built-in function; an abstract function needs another name")
    if name in _RESERVED:
        raise SymcalcError(f"{name!r} is a constant, not a function name")
    if DERIVATIVE_NAME.match(name):
        raise SymcalcError(f"{name!r} is how symcalc names a derivative "
                         f"({name.split('_')[0]} in an argument); choose another name")
    return name


def applied(base: str, nargs: int, indices: Sequence[int] = ()) -> Undefined:
    """The entry for ``base`` of ``nargs`` arguments, differentiated in the arguments ``indices``
    (1-based; order does not matter)."""
    order = tuple(sorted(indices))
    key = (base, nargs, order)
    fn = _made.get(key)
    if fn is None:
        if any(not 1 <= k <= nargs for k in order):
            raise SymcalcError(f"{base} takes {nargs} argument(s): it has no partial derivative "
                             f"in argument {max(order)}")
        name = base + "".join(f"_{k}" for k in order)
        fn = Undefined(
            name, nargs, nargs,
            partials=lambda *args: [applied(base, nargs, order + (k,))(*args)
                                    for k in range(1, nargs + 1)],
            numpy=_no_numpy(name, base),
            sympy=_sympy_form(base, order),
            latex=_latex_form(base, nargs, order),
            base=base, indices=order,
        )
        _made[key] = fn
    return fn


class AbstractFunction:
    """A callable that builds ``name(args)`` for an abstract function (see ``function``)."""

    def __init__(self, name: str, nargs: Optional[int] = None):
        self.name = check_name(name)
        if nargs is not None and (not isinstance(nargs, int) or isinstance(nargs, bool)):
            raise SymcalcTypeError(f"nargs must be a positive integer, not {nargs!r}")
        if nargs is not None and nargs < 1:
            raise SymcalcError(f"nargs must be a positive integer, not {nargs!r}")
        self.nargs = nargs

    def __call__(self, *args: object) -> Expr:
        if self.nargs is None:
            if not args:
                raise SymcalcTypeError(f"{self.name} needs at least one argument")
            self.nargs = len(args)  # fixed at first use
        elif len(args) != self.nargs:
            raise SymcalcTypeError(f"{self.name} takes {self.nargs} argument(s), got {len(args)}")
        return applied(self.name, self.nargs)(*args)

    def __repr__(self) -> str:
        return f"function({self.name!r}, nargs={self.nargs})"


def function(name: str, nargs: Optional[int] = None) -> AbstractFunction:
    """An abstract function ``name``: call it to build ``name(expr, ...)``.

    ``nargs`` fixes the number of arguments; without it the first call fixes it.

    >>> import symcalc as sc
    >>> f = function("f")
    >>> x = sc.symbols("x")
    >>> sc.diff(f(x**2), x)
    Expr('2*x*f_1(x^2)')
    """
    return AbstractFunction(name, nargs)


def _no_numpy(name: str, base: str):
    def form(args: Sequence[str]) -> str:
        what = name if name == base else f"{name} (a derivative of {base})"
        raise SymcalcError(f"{what} is an abstract function with no numeric definition: "
                         f"substitute a formula for {base} before compiling")
    return form


def _sympy_form(base: str, order: tuple[int, ...]):
    def form(sp: Any, *args: Any) -> Any:
        f = sp.Function(base)
        if not order:
            return f(*args)
        # as SymPy writes the chain rule: differentiate in an argument that is a symbol of its
        # own directly, else in a dummy that Subs then replaces by the argument
        slots = list(args)
        dummies, points = [], []
        for k in sorted(set(order)):
            a = args[k - 1]
            alone = isinstance(a, sp.Symbol) and not any(
                a in b.free_symbols for j, b in enumerate(args) if j != k - 1)
            if not alone:
                slots[k - 1] = sp.Dummy(f"xi_{k}")
                dummies.append(slots[k - 1])
                points.append(a)
        derivative = sp.Derivative(f(*slots), *[slots[k - 1] for k in order])
        return sp.Subs(derivative, dummies, points) if dummies else derivative
    return form


def _latex_form(base: str, nargs: int, order: tuple[int, ...]):
    head = base if len(base) == 1 else f"\\operatorname{{{base}}}"
    if order and nargs == 1:
        head += "'" * len(order) if len(order) <= 3 else f"^{{({len(order)})}}"
    elif order:
        head = "".join(f"\\partial_{{{k}}}" for k in order) + " " + head

    def form(args: Sequence[str]) -> str:
        return f"{head}\\left({', '.join(args)}\\right)"
    return form
