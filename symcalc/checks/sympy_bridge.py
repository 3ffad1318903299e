"""Conversion between symcalc expressions and SymPy expressions.

This is the only module of symcalc that imports SymPy, and it does so only when one of its
functions is called: importing symcalc and differentiating never load SymPy.

* ``to_sympy`` maps every node, and every registry function through its entry's ``sympy`` form
  (``sigmoid(x) -> 1/(1 + exp(-x))``, ``relu(x) -> Max(x, 0)``, ...).  Numbers stay exact.
* ``from_sympy`` maps a SymPy expression back, recognising the SymPy classes each registry entry
  names in ``sympy_names`` plus a few shapes SymPy uses for symcalc functions
  (``Max(x, 0) -> relu(x)``, ``log(x)/log(b) -> log(x, b)``).

Both walk the expression without recursion, so the depth of a formula is no limit here.  SymPy's
own constructors do recurse when they evaluate, so very deep formulas convert only with
``evaluate=False``.
"""

from __future__ import annotations

import numbers
import sys
from fractions import Fraction
from typing import Any, Sequence

from ..core.bigint import exact_power_fits
from ..language.arguments import ExprLike, to_expr
from ..errors import SymcalcError, SymcalcTypeError
from ..core.expr import (E, PI, Add, Call, Constant, Expr, Mul, Num, Pow, Symbol, add, as_expr,
                         mul, postorder, power)
from ..functions.elementary import REGISTRY, Function, log, relu
from ..language.parser import symbol_from_name
from ..functions.abstract import applied, check_name

_BY_SYMPY_NAME: dict[str, Function] = {
    name: fn for fn in REGISTRY.values() for name in fn.sympy_names
}


def to_sympy(e: ExprLike | Sequence, *, real: bool = False, evaluate: bool = True) -> Any:
    """The SymPy expression equal to ``e`` (an Expr, a formula string or a number); a list of them,
    or a list of lists such as a Hessian, gives a list of the same nesting.

    ``real=True`` makes every symbol a real SymPy symbol, so that ``Abs``, ``sign`` and ``Max``
    differentiate as on the real line.  ``evaluate=False`` builds the SymPy tree without SymPy's
    automatic simplification (needed for formulas nested more deeply than SymPy can evaluate).

    >>> to_sympy("x^2*exp(x)")
    x**2*exp(x)
    >>> to_sympy(["x*y", ["sin(x)"]])
    [x*y, [sin(x)]]
    """
    import sympy

    if isinstance(e, Sequence) and not isinstance(e, (str, Expr)):
        return [to_sympy(item, real=real, evaluate=evaluate) for item in e]
    e = to_expr(e)
    too_deep = SymcalcError(
        f"the formula is nested {e.depth} levels deep, more than SymPy can evaluate; "
        "use to_sympy(e, evaluate=False)"
    )
    if evaluate and e.depth > sys.getrecursionlimit():  # SymPy would fail, only more slowly
        raise too_deep
    made: dict[Expr, Any] = {}
    held: set[Expr] = set()  # a huge power of numbers and the nodes above it: not evaluated
    with sympy.evaluate(evaluate):
        try:
            for node in postorder([e]):
                args = [made[a] for a in node.args]
                if _huge_power(node) or any(a in held for a in node.args):
                    held.add(node)
                    with sympy.evaluate(False):
                        made[node] = _node_to_sympy(sympy, node, args, real)
                else:
                    made[node] = _node_to_sympy(sympy, node, args, real)
        except RecursionError:
            raise too_deep from None
    return made[e]


def _huge_power(node: Expr) -> bool:
    """Whether ``node`` is a power of two numbers too large to compute exactly (``9^9^9``,
    ``(1 + 1/10^6)^(10^6)``): SymPy would form its integers, for minutes or forever, and so would
    its functions of it (``log`` tests whether the argument is a power); unevaluated, SymPy's
    ``evalf`` still gives its value at any precision at once."""
    return (isinstance(node, Pow) and isinstance(node.base, Num) and isinstance(node.exponent, Num)
            and not exact_power_fits(node.base.value, node.exponent.value))


def _node_to_sympy(sympy: Any, node: Expr, args: list, real: bool) -> Any:
    if isinstance(node, Num):
        v = node.value
        if isinstance(v, int):
            return sympy.Integer(v)
        return sympy.Rational(v.numerator, v.denominator)
    if isinstance(node, Symbol):
        return sympy.Symbol(node.name, real=True) if real else sympy.Symbol(node.name)
    if isinstance(node, Constant):
        return sympy.pi if node is PI else sympy.E
    if isinstance(node, Add):
        return sympy.Add(*args)
    if isinstance(node, Mul):
        return sympy.Mul(*args)
    if isinstance(node, Pow):
        return sympy.Pow(*args)
    if isinstance(node, Call):
        return node.fn.sympy(sympy, *args)
    raise TypeError(f"cannot convert {type(node).__name__} to SymPy")


def from_sympy(s: Any) -> Expr:
    """The symcalc expression equal to the SymPy expression ``s``.

    Python numbers are accepted too (floats exactly through their decimal form).  Anything with
    no symcalc counterpart (``I``, ``oo``, ``Derivative``, unknown functions, ...) raises a
    ``ValueError`` naming it.

    >>> import sympy
    >>> from_sympy(sympy.sin(sympy.Symbol("x"))**2)
    Expr('sin(x)^2')
    """
    import sympy

    if isinstance(s, (numbers.Number, Expr)) and not isinstance(s, sympy.Basic):
        return as_expr(s)
    if not isinstance(s, sympy.Basic):
        raise SymcalcTypeError(f"from_sympy needs a SymPy expression, not {type(s).__name__}")
    # Nodes are memoised by identity: hashing a deep SymPy tree could recurse.
    made: dict[int, tuple[Any, Expr]] = {}
    stack: list[tuple[Any, bool]] = [(s, False)]
    while stack:
        node, expanded = stack.pop()
        if id(node) in made:
            continue
        if isinstance(node, (sympy.Derivative, sympy.Subs)):  # of an abstract function
            made[id(node)] = (node, _abstract_derivative(sympy, node))
            continue
        if not expanded and node.args:  # an Integral is named, not the Tuple of its limits
            _check_kind(sympy, node)
        if expanded or not node.args:
            args = [made[id(a)][1] for a in node.args]
            made[id(node)] = (node, _node_from_sympy(sympy, node, args))
            continue
        stack.append((node, True))
        stack.extend((a, False) for a in reversed(node.args) if id(a) not in made)
    return made[id(s)][1]


def _check_kind(sympy: Any, node: Any) -> None:
    """Refuse, by its name, a SymPy node with arguments of a kind symcalc does not have (an
    ``Integral``, a ``Piecewise``, an unknown function), before its arguments are converted."""
    name = type(node).__name__
    if isinstance(node, sympy.core.function.Application):
        if name not in _BY_SYMPY_NAME and not isinstance(node, sympy.core.function.AppliedUndef):
            raise SymcalcError(f"symcalc has no function for the SymPy function {name} (in {node})")
    elif not isinstance(node, (sympy.Add, sympy.Mul, sympy.Pow)):
        raise SymcalcError(f"symcalc has no counterpart for the SymPy {name} {node}")


def _node_from_sympy(sympy: Any, node: Any, args: list[Expr]) -> Expr:
    if isinstance(node, sympy.Integer):
        return Num(int(node.p))
    if isinstance(node, sympy.Rational):
        return Num(Fraction(int(node.p), int(node.q)))
    if isinstance(node, sympy.Float):
        return _float(node)
    if node is sympy.pi:
        return PI
    if node is sympy.E:
        return E
    if isinstance(node, sympy.Symbol):
        return symbol_from_name(node.name)
    if isinstance(node, sympy.Add):
        return add(*args)
    if isinstance(node, sympy.Mul):
        return _log_with_base(args) or mul(*args)
    if isinstance(node, sympy.Pow):
        return power(*args)
    if isinstance(node, sympy.core.function.AppliedUndef):  # Function("f")(x): abstract
        return applied(check_name(type(node).__name__), len(args))(*args)
    if isinstance(node, sympy.core.function.Application):  # sin, Max, Heaviside, ...
        return _call(node, args)
    raise SymcalcError(f"symcalc has no counterpart for the SymPy {type(node).__name__} {node}")


def _abstract_derivative(sympy: Any, node: Any) -> Expr:
    """``Derivative(f(x, y), x)`` -> ``f_1(x, y)``; ``Subs(Derivative(f(u), u), u, g(x))`` ->
    ``f_1(g(x))``: partial derivatives of an abstract function in some of its arguments."""
    whole, point = node, {}
    if isinstance(node, sympy.Subs):
        point = dict(zip(node.variables, node.point))
        node = node.expr
    f = node.expr if isinstance(node, sympy.Derivative) else None
    if not isinstance(f, sympy.core.function.AppliedUndef):
        raise SymcalcError(f"symcalc has no counterpart for the SymPy {type(whole).__name__} {whole}")
    indices: list[int] = []
    for variable, count in node.variable_count:
        places = [k for k, a in enumerate(f.args) if a == variable]
        if len(places) != 1 or any(variable in a.free_symbols for a in f.args if a != variable):
            raise SymcalcError(f"symcalc has no counterpart for the SymPy derivative {whole}: "
                             f"{variable} is not one argument of {f.func}")
        indices += [places[0] + 1] * int(count)
    args = [from_sympy(a.xreplace(point)) for a in f.args]
    return applied(check_name(type(f).__name__), len(args), indices)(*args)


def _float(node: Any) -> Num:
    text = str(node)
    try:
        return Num(Fraction(text))
    except ValueError:
        raise SymcalcError(f"symcalc has no counterpart for the SymPy number {text}") from None


def _call(node: Any, args: list[Expr]) -> Expr:
    name = type(node).__name__
    if name == "Max" and len(args) == 2 and any(a == 0 for a in args):  # Max(x, 0) -> relu(x)
        return relu(args[1] if args[0] == 0 else args[0])
    if name == "Heaviside" and len(args) == 2:  # SymPy may carry the value at 0 as an argument
        if args[1] != Fraction(1, 2):
            raise SymcalcError(f"symcalc's heaviside takes the value 1/2 at 0, not {args[1]}")
        args = args[:1]
    fn = _BY_SYMPY_NAME.get(name)
    if fn is None:
        raise SymcalcError(f"symcalc has no function for the SymPy function {name} (in {node})")
    fn.check_arity(len(args))
    return fn(*args)


def _log_with_base(factors: list[Expr]) -> Expr | None:
    # SymPy writes log(x, b) as log(x)*log(b)^-1: that exact two-factor shape maps back to log(x, b)
    if len(factors) != 2:
        return None
    logs = [f for f in factors if isinstance(f, Call) and f.fn is log and len(f.args) == 1]
    inverse = [
        f for f in factors
        if isinstance(f, Pow) and f.exponent == -1 and isinstance(f.base, Call)
        and f.base.fn is log and len(f.base.args) == 1
    ]
    if len(logs) != 1 or len(inverse) != 1:
        return None
    return log(logs[0].args[0], inverse[0].base.args[0])
