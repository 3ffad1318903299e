"""Code generation: expressions -> readable NumPy source -> a compiled, vectorised function.

The pipeline, one pure step after another:

1. ``program``: the outputs (one expression, a list, or a list of lists) become a flat tuple of
   root nodes plus the nesting shape.  A ``Derivatives`` result offers two equal versions, the
   readable formulas and the shared reverse-accumulation graph; the smaller one is compiled.
2. ``stabilise``: rewrite rules (values in ``STABILITY_RULES``) replace patterns that overflow or
   lose precision, such as ``log(1 + exp(x))``, by stable forms.
3. ``codegen``: one assignment per shared node, in topological order.  Nodes are interned, so a
   subexpression that occurs twice is one node: common-subexpression elimination needs no search.
4. ``lambdify``: compiles that source (never any user text), registers it with ``linecache`` so
   tracebacks show the generated lines, and returns the function.
"""

from __future__ import annotations

import itertools
import keyword
import linecache
import re
import unicodedata
import weakref
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Callable, Iterable, Optional, Sequence, Union

from . import matrix as _matrix
from .calculus import Derivatives, to_expr, to_symbols
from .expr import (
    ONE,
    ZERO,
    Add,
    Call,
    Constant,
    Expr,
    Mul,
    Num,
    Pow,
    Symbol,
    add,
    count_ops,
    make_call,
    mul,
    negate,
    postorder,
    power,
    raw_add,
    raw_mul,
    structural_key,
)
from .functions import REGISTRY, Function, exp, log, logsumexp, sigmoid, softplus

Outputs = Union[Expr, str, int, float, Sequence[Any]]

# --- functions NumPy has but the registry does not (used only by generated code) ---------------
log1p = REGISTRY.get("log1p") or Function(
    "log1p", 1, 1,
    partials=lambda x: [1 / (1 + x)],
    numpy=lambda a: f"np.log1p({a[0]})", sympy=lambda sp, x: sp.log(1 + x),
    latex=lambda a: f"\\log\\left(1 + {a[0]}\\right)",
)
expm1 = REGISTRY.get("expm1") or Function(
    "expm1", 1, 1,
    partials=lambda x: [exp(x)],
    numpy=lambda a: f"np.expm1({a[0]})", sympy=lambda sp, x: sp.exp(x) - 1,
    latex=lambda a: f"\\left(e^{{{a[0]}}} - 1\\right)",
)


# --- pattern helpers for the stability rules ---------------------------------------------------
def _is_call(node: Expr, name: str) -> bool:
    return isinstance(node, Call) and node.fn.name == name and len(node.args) == 1


def _call_power(factor: Expr, name: str) -> Optional[tuple[Expr, Fraction]]:
    """``name(u) -> (u, 1)``, ``name(u)^k -> (u, k)`` for a number k; otherwise None."""
    if _is_call(factor, name):
        return factor.args[0], Fraction(1)
    if isinstance(factor, Pow) and _is_call(factor.base, name) and isinstance(factor.exponent, Num):
        return factor.base.args[0], Fraction(factor.exponent.value)
    return None


def _scaled_call(term: Expr, name: str) -> Optional[tuple[Fraction, Expr]]:
    """``c*name(u) -> (c, u)`` (c a number, 1 when absent); otherwise None."""
    if _is_call(term, name):
        return Fraction(1), term.args[0]
    if (isinstance(term, Mul) and len(term.args) == 2 and isinstance(term.args[0], Num)
            and _is_call(term.args[1], name)):
        return Fraction(term.args[0].value), term.args[1].args[0]
    return None


def _one_plus_exp(s: Expr) -> Optional[Expr]:
    """``exp(u) + 1 -> u``; otherwise None."""
    if isinstance(s, Add) and len(s.args) == 2:
        a, b = s.args
        if b is ONE and _is_call(a, "exp"):
            return a.args[0]
        if a is ONE and _is_call(b, "exp"):
            return b.args[0]
    return None


def _exp_sum_arguments(s: Expr) -> Optional[list[Expr]]:
    """For ``s = sum c_i*exp(u_i) + c_0`` with every c > 0: ``[u_i + log(c_i), ..., log(c_0)]``.

    Then ``log(s) = logsumexp(those)``.  None when ``s`` is not such a sum.
    """
    if not isinstance(s, Add):
        return None
    arguments = []
    for term in s.args:
        if isinstance(term, Num):
            if term.value <= 0:
                return None
            arguments.append(log(term))
            continue
        scaled = _scaled_call(term, "exp")
        if scaled is not None and scaled[0] > 0:
            c, u = scaled
            arguments.append(u if c == 1 else add(u, log(Num(c))))
            continue
        powered = _call_power(term, "exp")
        if powered is None:
            return None
        u, k = powered
        arguments.append(mul(Num(k), u))
    if all(isinstance(t, Num) for t in s.args):
        return None
    return arguments


def _log_of_exp_sum(s: Expr) -> Optional[Expr]:
    u = _one_plus_exp(s)
    if u is not None:
        return softplus(u)
    arguments = _exp_sum_arguments(s)
    return logsumexp(*arguments) if arguments else None


# --- the stability rules ------------------------------------------------------------------------
def _log_exp_sum(node: Expr) -> Optional[Expr]:
    # log(exp(u) + 1) -> softplus(u);   log(exp(a) + exp(b)) -> logsumexp(a, b)
    if _is_call(node, "log"):
        return _log_of_exp_sum(node.args[0])
    return None


def _log_one_plus(node: Expr) -> Optional[Expr]:
    # log(1 + u) -> log1p(u)
    if _is_call(node, "log") and isinstance(node.args[0], Add) and ONE in node.args[0].args:
        rest = list(node.args[0].args)
        rest.remove(ONE)
        return log1p(rest[0] if len(rest) == 1 else add(*rest))
    return None


def _reciprocal_exp_sum(node: Expr) -> Optional[Expr]:
    # (exp(u) + 1)^-n -> sigmoid(-u)^n;   (exp(a) + exp(b))^-p -> exp(-p*logsumexp(a, b))
    if not (isinstance(node, Pow) and isinstance(node.exponent, Num) and node.exponent.value < 0):
        return None
    p = node.exponent.value
    u = _one_plus_exp(node.base)
    if u is not None and isinstance(p, int):
        return power(sigmoid(negate(u)), Num(-p))
    total = _log_of_exp_sum(node.base)
    return exp(mul(Num(p), total)) if total is not None else None


def _exp_times_sigmoid(node: Expr) -> Optional[Expr]:
    # exp(u)^k * sigmoid(-u)^n -> sigmoid(u)^m * exp(u)^(k - m) * sigmoid(-u)^(n - m),  m = min(k, n)
    if not isinstance(node, Mul):
        return None
    factors = list(node.args)
    for i, f in enumerate(factors):
        e = _call_power(f, "exp")
        if e is None or e[1] <= 0 or e[1].denominator != 1:
            continue
        u, k = e
        for j, g in enumerate(factors):
            s = _call_power(g, "sigmoid")
            if s is not None and s[1] > 0 and s[1].denominator == 1 and s[0] is negate(u):
                m = min(k, s[1])
                rest = [h for index, h in enumerate(factors) if index not in (i, j)]
                return mul(*rest, power(sigmoid(u), Num(m)), power(exp(u), Num(k - m)),
                           power(g.args[0] if isinstance(g, Pow) else g, Num(s[1] - m)))
    return None


def _merge_exps(node: Expr) -> Optional[Expr]:
    # exp(a) * exp(b)^k -> exp(a + k*b)   (one overflowing and one vanishing factor give no nan)
    if not isinstance(node, Mul):
        return None
    found = [(f, _call_power(f, "exp")) for f in node.args]
    exps = [(f, e) for f, e in found if e is not None]
    if len(exps) < 2:
        return None
    rest = [f for f, e in found if e is None]
    return mul(*rest, exp(add(*(mul(Num(k), u) for _, (u, k) in exps))))


def _distribute_exp(node: Expr) -> Optional[Expr]:
    # (c*exp(a) + d*exp(b)) * exp(v) -> c*exp(a + v) + d*exp(b + v)   (a softmax-like quotient)
    if not isinstance(node, Mul):
        return None
    for i, f in enumerate(node.args):
        scale = _call_power(f, "exp")
        if scale is None:
            continue
        for j, g in enumerate(node.args):
            terms = _exp_terms(g)
            if terms is not None:
                v = mul(Num(scale[1]), scale[0])
                spread = add(*(mul(Num(c), exp(add(u, v))) for c, u in terms))
                rest = [h for index, h in enumerate(node.args) if index not in (i, j)]
                return mul(*rest, spread)
    return None


def _exp_terms(s: Expr) -> Optional[list[tuple[Fraction, Expr]]]:
    """``c*exp(a) + d*exp(b)^k + n -> [(c, a), (d, k*b), (n, 0)]`` for a sum of such terms."""
    if not isinstance(s, Add):
        return None
    terms = []
    for term in s.args:
        if isinstance(term, Num):
            terms.append((Fraction(term.value), Num(0)))
            continue
        scaled = _scaled_call(term, "exp")
        powered = _call_power(term, "exp")
        if scaled is not None:
            terms.append(scaled)
        elif powered is not None:
            terms.append((Fraction(1), mul(Num(powered[1]), powered[0])))
        else:
            return None
    return terms


def _log_sigmoid(node: Expr) -> Optional[Expr]:
    # log(sigmoid(u)) -> -softplus(-u)
    if _is_call(node, "log") and _is_call(node.args[0], "sigmoid"):
        return negate(softplus(negate(node.args[0].args[0])))
    return None


def _one_minus_sigmoid(node: Expr) -> Optional[Expr]:
    # c - c*sigmoid(u) -> c*sigmoid(-u)   (no cancellation when sigmoid(u) is close to 1)
    return _fuse_constant(node, "sigmoid", lambda c, u: mul(Num(c), sigmoid(negate(u))), sign=-1)


def _exp_minus_one(node: Expr) -> Optional[Expr]:
    # c*exp(u) - c -> c*expm1(u)   (no cancellation when u is close to 0)
    return _fuse_constant(node, "exp", lambda c, u: mul(Num(-c), expm1(u)), sign=-1)


def _fuse_constant(node: Expr, name: str, build: Callable[[Fraction, Expr], Expr],
                   sign: int) -> Optional[Expr]:
    """In a sum with a number c, replace c and a term ``sign*c*name(u)`` by ``build(c, u)``."""
    if not isinstance(node, Add):
        return None
    constants = [t for t in node.args if isinstance(t, Num)]
    if len(constants) != 1 or constants[0].value == 0:
        return None
    c = Fraction(constants[0].value)
    for term in node.args:
        scaled = _scaled_call(term, name)
        if scaled is not None and scaled[0] == sign * c:
            rest = [t for t in node.args if t is not term and t is not constants[0]]
            return add(*rest, build(c, scaled[1]))
    return None


# Tried in this order on every node, bottom-up; a rule returns the replacement or None.
STABILITY_RULES: tuple[Callable[[Expr], Optional[Expr]], ...] = (
    _log_exp_sum,         # log(exp(u) + 1) -> softplus(u);  log(exp(a) + exp(b)) -> logsumexp(a, b)
    _log_one_plus,        # log(1 + u) -> log1p(u)
    _reciprocal_exp_sum,  # 1/(exp(u) + 1) -> sigmoid(-u);  1/(exp(a) + exp(b)) -> exp(-logsumexp(a, b))
    _exp_times_sigmoid,   # exp(u) * sigmoid(-u) -> sigmoid(u)
    _merge_exps,          # exp(a) * exp(b) -> exp(a + b)
    _distribute_exp,      # (exp(a) + exp(b)) * exp(v) -> exp(a + v) + exp(b + v)
    _log_sigmoid,         # log(sigmoid(u)) -> -softplus(-u)
    _one_minus_sigmoid,   # 1 - sigmoid(u) -> sigmoid(-u)
    _exp_minus_one,       # exp(u) - 1 -> expm1(u)
)


_RULE_FUNCTIONS = frozenset({"exp", "log", "sigmoid"})  # every rule's pattern has one of these


class Stabiliser:
    """Applies ``STABILITY_RULES`` to graphs, memoised across all the graphs it is given."""

    def __init__(self) -> None:
        self._done: dict[Expr, Expr] = {}
        self._relevant: dict[Expr, bool] = {}  # does the node contain a function a rule names?

    def __call__(self, root: Expr) -> Expr:
        return self.all([root])[0]

    def all(self, roots: Sequence[Expr]) -> list[Expr]:
        """The stabilised ``roots``, in one pass over their shared graph."""
        done, relevant = self._done, self._relevant
        for node in postorder(roots, done=lambda n: n in done):
            relevant[node] = ((isinstance(node, Call) and node.fn.name in _RULE_FUNCTIONS)
                              or any(relevant[a] for a in node.args))
            if not relevant[node]:
                done[node] = node
                continue
            args = tuple(done[a] for a in node.args)
            current = node if args == node.args else _same_kind(node, args)
            result = self._apply_rules(current)
            done[node] = result
            done.setdefault(result, result)
            relevant.setdefault(result, True)
        return [done[r] for r in roots]

    def _apply_rules(self, node: Expr) -> Expr:
        for rule in STABILITY_RULES:
            replacement = rule(node)
            if replacement is not None and replacement is not node:
                return self(replacement)  # the replacement's new nodes may match further rules
        return node


def _same_kind(node: Expr, args: tuple[Expr, ...]) -> Expr:
    """A node like ``node`` with new arguments; binary sums and products stay unflattened, so a
    reverse-accumulation graph keeps its sharing."""
    if isinstance(node, Add):
        return raw_add(*args) if len(args) == 2 else add(*args)
    if isinstance(node, Mul):
        return raw_mul(*args) if len(args) == 2 else mul(*args)
    if isinstance(node, Pow):
        return power(*args)
    return make_call(node.fn, args)


# --- the program: what is compiled -----------------------------------------------------------------
@dataclass(frozen=True)
class Program:
    """The stabilised output expressions, flattened, with their nesting shape (``()``: one
    expression) and the function's variables."""

    variables: tuple[Symbol, ...]
    roots: tuple[Expr, ...]
    shape: tuple[int, ...]

    @property
    def operation_count(self) -> int:
        """Operations of the generated code, each shared node counted once."""
        return count_ops(self.roots)


def program(exprs: Outputs, variables: Iterable[Symbol | str] | str) -> Program:
    """The ``Program`` that ``codegen`` prints for ``exprs`` in the given variable order."""
    symbols = tuple(to_symbols(variables))
    stabilise = Stabiliser()
    roots, shape = _flatten(exprs, stabilise, 0)
    roots = _share_products(stabilise.all(roots))
    free = set().union(*(r.free_symbols for r in roots)) if roots else set()
    missing = sorted(s.name for s in free - set(symbols))
    if missing:
        raise ValueError(f"the expression depends on {', '.join(missing)}, which "
                         f"{'is' if len(missing) == 1 else 'are'} not among the variables "
                         f"{[s.name for s in symbols]}")
    return Program(symbols, tuple(roots), shape)


def _share_products(roots: list[Expr]) -> list[Expr]:
    """Products of three or more factors, rewritten as binary products that share their partial
    products: a linear-time stand-in for a search for common subproducts, which matters for
    high-order derivatives.

    The factors of every product are put in one global order (by depth, then structure).  The
    product is split at its least used factor: the factors before it are multiplied from the
    first on, those after it from the last on.  Products that differ in one factor, such as the
    terms of a product rule, then share both their prefixes and their suffixes.
    """
    order = list(postorder(roots))
    uses: dict[Expr, int] = {}
    for node in order:
        if isinstance(node, Mul) and len(node.args) > 2:
            for f in node.args:
                uses[f] = uses.get(f, 0) + 1
    if not uses:
        return roots
    new: dict[Expr, Expr] = {}
    for node in order:
        args = tuple(new[a] for a in node.args)
        if isinstance(node, Mul) and len(args) > 2:
            coefficient = args[0] if isinstance(args[0], Num) else ONE
            pairs = sorted(((old, arg) for old, arg in zip(node.args, args) if arg is not coefficient),
                           key=lambda p: (p[0].depth, structural_key(p[0])))
            pivot = min(range(len(pairs)), key=lambda k: uses[pairs[k][0]])
            product = pairs[pivot][1]
            prefix = _chain([arg for _, arg in pairs[:pivot]])
            suffix = _chain([arg for _, arg in reversed(pairs[pivot + 1:])])
            for part in (prefix, suffix):
                if part is not None:
                    product = raw_mul(part, product)
            new[node] = raw_mul(coefficient, product)  # the coefficient last: parts stay common
        else:
            new[node] = node if args == node.args else _same_kind(node, args)
    return [new[r] for r in roots]


def _chain(factors: list[Expr]) -> Expr | None:
    """``((f0*f1)*f2)*...``: every partial product is a node that other chains can share."""
    if not factors:
        return None
    product = factors[0]
    for f in factors[1:]:
        product = raw_mul(product, f)
    return product


_MAX_NESTING = 32


_LEAF_TYPES = frozenset({Add, Mul, Pow, Call, Num, Symbol, Constant, int, float, str})


def _flatten(obj: Any, stabilise: Stabiliser, level: int) -> tuple[list[Expr], tuple[int, ...]]:
    """The output expressions in order, and their nesting shape.

    Of the two forms of a ``Derivatives`` result, the one with fewer operations once stabilised.
    """
    if isinstance(obj, Derivatives) and obj.graph is not None:
        readable, shape = _flatten(list(obj), stabilise, level)
        graph, _ = _flatten(obj.graph, stabilise, level)
        readable, graph = stabilise.all(readable), stabilise.all(graph)
        return (graph if count_ops(graph) < count_ops(readable) else readable), shape
    if hasattr(obj, "shape") and hasattr(obj, "tolist"):  # a NumPy array of expressions
        obj = obj.tolist()
    if not isinstance(obj, (list, tuple)):
        return [to_expr(obj)], ()
    if level >= _MAX_NESTING:
        raise ValueError(f"outputs nested more than {_MAX_NESTING} lists deep")
    if all(type(item) in _LEAF_TYPES for item in obj):  # the common case: a row of expressions
        return [item if isinstance(item, Expr) else to_expr(item) for item in obj], (len(obj),)
    parts = [_flatten(item, stabilise, level + 1) for item in obj]
    inner = {shape for _, shape in parts}
    if len(inner) > 1:
        raise ValueError("the nested output lists must be rectangular (all rows of equal length)")
    roots = [r for part, _ in parts for r in part]
    return roots, (len(obj),) + (inner.pop() if inner else ())


# --- printing --------------------------------------------------------------------------------------
SUM, PRODUCT, UNARY, POWER, ATOM = range(5)  # Python precedence of a printed piece
_MAX_INLINE_DEPTH = 6  # deeper nesting is split into assignments, for readability and the compiler
_MAX_INLINE_TEXT = 100
_MAX_OPERANDS = 32  # a wider sum or product is computed in chunks


@dataclass(frozen=True)
class _Piece:
    text: str
    prec: int
    depth: int = 0

    def at_least(self, prec: int) -> str:
        return self.text if self.prec >= prec else f"({self.text})"


_CALL = re.compile(r"[A-Za-z_][\w.]*\(")


def _is_single_call(text: str) -> bool:
    """``np.exp(a)`` is; ``(np.log(a) / np.log(b))`` and ``f(a) + g(b)`` are not."""
    match = _CALL.match(text)
    if not match or not text.endswith(")"):
        return False
    depth = 0
    for i in range(match.end() - 1, len(text)):
        depth += {"(": 1, ")": -1}.get(text[i], 0)
        if depth == 0:
            return i == len(text) - 1
    return False


def _number(value: Union[int, Fraction]) -> _Piece:
    if isinstance(value, int) and abs(value) < 2 ** 53:
        text = str(value)
    else:
        try:
            text = repr(float(value))
        except OverflowError:
            text = "np.inf" if value > 0 else "-np.inf"
    return _Piece(text, UNARY if text.startswith("-") else ATOM)


def _scaled_variable(node: Expr) -> bool:
    """``c*x``: cheaper to recompute at each use than to keep as a temporary array (and ``-x``
    becomes a subtraction in a sum)."""
    return (isinstance(node, Mul) and len(node.args) == 2 and isinstance(node.args[0], Num)
            and isinstance(node.args[1], (Symbol, Constant)))


class _Printer:
    """Turns a Program into the statements of a function body."""

    def __init__(self, prog: Program, parameters: dict[Symbol, str]):
        self.lines: list[str] = []
        self.pieces: dict[Expr, _Piece] = {
            s: _Piece(name, ATOM) for s, name in parameters.items()}
        self.assigned: set[Expr] = set()
        self.uses: dict[Expr, int] = {}
        self._temps = itertools.count()
        for root in prog.roots:
            self.uses[root] = self.uses.get(root, 0) + 1
        self.order = list(postorder(prog.roots))
        for node in self.order:
            for a in node.args:
                self.uses[a] = self.uses.get(a, 0) + 1

    def run(self) -> None:
        for node in self.order:
            if node in self.pieces:
                continue
            piece = self._piece(node)
            shared = self.uses[node] > 1 and not _scaled_variable(node)
            if node.args and (shared or piece.depth > _MAX_INLINE_DEPTH
                              or len(piece.text) > _MAX_INLINE_TEXT):
                piece = self._assign(piece.text)
                self.assigned.add(node)
            self.pieces[node] = piece

    def _assign(self, text: str) -> _Piece:
        name = f"_t{next(self._temps)}"
        self.lines.append(f"{name} = {text}")
        return _Piece(name, ATOM)

    def _piece(self, node: Expr) -> _Piece:
        if isinstance(node, Num):
            return _number(node.value)
        if isinstance(node, Constant):
            return _Piece(f"np.{node.name}", ATOM)
        depth = 1 + max(self.pieces[a].depth for a in node.args)
        if isinstance(node, Add):
            return self._chunked(node.args, self._sum, depth)
        if isinstance(node, Mul):
            return self._chunked(node.args, self._product, depth)
        if isinstance(node, Pow):
            return self._power(self.pieces[node.base], node.exponent, depth)
        text = node.fn.numpy([self.pieces[a].text for a in node.args])
        return _Piece(text if _is_single_call(text) else f"({text})", ATOM, depth)

    def _chunked(self, args: Sequence[Expr], combine, depth: int) -> _Piece:
        if len(args) <= _MAX_OPERANDS:
            return combine(args, depth)
        result = combine(args[:_MAX_OPERANDS], depth)
        for start in range(_MAX_OPERANDS, len(args), _MAX_OPERANDS):
            partial = self._assign(result.text)
            result = combine(args[start:start + _MAX_OPERANDS], depth, partial)
        return result

    def _sum(self, terms: Sequence[Expr], depth: int, first: _Piece | None = None) -> _Piece:
        text = first.text if first else ""
        signed = [self._signed(term) for term in terms]
        signed.sort(key=lambda pair: pair[0])  # positive terms first: y - x^2, not -x^2 + y
        for negative, magnitude in signed:
            if not text:
                text = f"-{magnitude.at_least(PRODUCT)}" if negative else magnitude.text
            elif negative:
                text += f" - {magnitude.at_least(PRODUCT)}"
            else:
                text += f" + {magnitude.text}"
        return _Piece(text, SUM, depth)

    def _signed(self, term: Expr) -> tuple[bool, _Piece]:
        """(is negative, piece of the magnitude) for a term of a sum."""
        if term not in self.assigned:
            if isinstance(term, Num) and term.value < 0:
                return True, _number(-term.value)
            if isinstance(term, Mul) and isinstance(term.args[0], Num) and term.args[0].value < 0:
                return True, self._product(term.args, self.pieces[term].depth, negate_coefficient=True)
        return False, self.pieces[term]

    def _product(self, factors: Sequence[Expr], depth: int, first: _Piece | None = None,
                 negate_coefficient: bool = False) -> _Piece:
        numerator = [first.text] if first else []
        denominator: list[str] = []
        negative = False
        for f in factors:
            if isinstance(f, Num):
                value = -f.value if negate_coefficient else f.value
                negative = value < 0
                value = abs(value)
                if isinstance(value, Fraction) and value.numerator == 1:
                    denominator.append(_number(value.denominator).text)  # x/3, exact division
                elif value != 1:
                    numerator.append(_number(value).text)
            elif (isinstance(f, Pow) and f not in self.assigned and isinstance(f.exponent, Num)
                  and f.exponent.value < 0):
                base = self.pieces[f.base]
                denominator.append(self._power(base, Num(-f.exponent.value), 0).at_least(POWER))
            else:
                # Python's * is left-associative: a leading product needs no parentheses
                lead = not numerator and isinstance(f, Mul)
                numerator.append(self.pieces[f].at_least(PRODUCT if lead else POWER))
        text = " * ".join(numerator) if numerator else "1.0"
        if denominator:
            below = denominator[0] if len(denominator) == 1 else f"({' * '.join(denominator)})"
            text = f"{text} / {below}"
        if negative:
            return _Piece(f"-{text}", UNARY, depth)
        return _Piece(text, PRODUCT, depth)

    def _power(self, base: _Piece, exponent: Expr, depth: int) -> _Piece:
        if isinstance(exponent, Num):
            v = exponent.value
            if v == Fraction(1, 2):
                return _Piece(f"np.sqrt({base.text})", ATOM, depth)
            if v == -1:
                return _Piece(f"1.0 / {base.at_least(POWER)}", PRODUCT, depth)
            if v == Fraction(-1, 2):
                return _Piece(f"1.0 / np.sqrt({base.text})", PRODUCT, depth)
            if v == 1:
                return base
        exponent_piece = self.pieces.get(exponent) or _number(exponent.value)
        return _Piece(f"{base.at_least(ATOM)} ** {exponent_piece.at_least(ATOM)}", POWER, depth)


# --- names -------------------------------------------------------------------------------------------
_RESERVED = {"np"}


def parameter_names(symbols: Sequence[Symbol]) -> dict[Symbol, str]:
    """A valid, distinct Python parameter name for each symbol.

    A plain ASCII name is kept; keywords, names that would shadow ``np`` or the generated
    ``_``-prefixed temporaries, and non-ASCII names (Python folds some Unicode letters together)
    get an ASCII spelling: ``lambda -> lambda_``, ``θ -> theta_``.
    """
    names: dict[Symbol, str] = {}
    for s in symbols:
        if _usable(s.name):
            names[s] = s.name
    taken = set(names.values())
    for s in symbols:
        if s in names:
            continue
        base = _ascii_spelling(s.name)
        name, k = base, 1
        while name in taken:
            name, k = f"{base}{k}", k + 1
        names[s] = name
        taken.add(name)
    return names


def _usable(name: str) -> bool:
    return (name.isascii() and name.isidentifier() and not keyword.iskeyword(name)
            and not name.startswith("_") and name not in _RESERVED)


def _ascii_spelling(name: str) -> str:
    parts = []
    for ch in name:
        if ch.isascii() and (ch.isalnum() or ch == "_"):
            parts.append(ch)
        elif ch.isalpha():  # e.g. GREEK SMALL LETTER THETA -> theta
            parts.append(unicodedata.name(ch, "v").split()[-1].lower())
    text = "".join(parts).lstrip("_")
    if not text or not text[0].isalpha():
        text = "v" + text
    return text + "_"


# --- source and function -------------------------------------------------------------------------
def codegen(exprs: Outputs, variables: Iterable[Symbol | str] | str, name: str = "f") -> str:
    """Readable Python source of a NumPy function computing ``exprs`` from ``variables``.

    ``exprs`` may be an expression, a formula string, a list or a list of lists (for example a
    gradient or a Hessian); each shared node is computed once, numerically stable forms replace
    overflow-prone patterns, and the function is vectorised over broadcasting array arguments.
    """
    if _matrix.is_shaped(exprs):
        return _matrix.codegen(exprs, variables, name=name)
    if not (name.isidentifier() and name.isascii() and not keyword.iskeyword(name)):
        raise ValueError(f"{name!r} is not a valid function name")
    return _source(program(exprs, variables), name)


def _source(prog: Program, name: str) -> str:
    parameters = parameter_names(prog.variables)
    printer = _Printer(prog, parameters)
    printer.run()
    args = ", ".join(parameters[s] for s in prog.variables)
    body = list(printer.lines)
    everything = set(prog.variables)
    if not prog.shape:
        (root,) = prog.roots
        value = printer.pieces[root].text
        covers = root.free_symbols == everything and everything
        body.append(f"return {value}" if covers else f"return _rt.filled(_shape, {value})")
    else:
        has_zeros = ZERO in prog.roots
        body.append(f"_out = np.{'zeros' if has_zeros else 'empty'}({prog.shape!r} + _shape)")
        for index, root in zip(itertools.product(*(range(n) for n in prog.shape)), prog.roots):
            if root is not ZERO:
                body.append(f"_out[{', '.join(map(str, index))}] = {printer.pieces[root].text}")
        body.append("return _out")
    inner = f"_{name}_body"
    lines = ["import numpy as np", "from symcalc import runtime as _rt", "", "",
             f"def {inner}({args}{', ' if args else ''}_shape):"]
    lines += ["    " + line for line in body]
    lines += ["", "", f"def {name}({args}):"]
    lines += [f"    return _rt.evaluate({inner}, {args})" if args else f"    return {inner}(())"]
    return "\n".join(lines) + "\n"


_generated = itertools.count()


def lambdify(exprs: Outputs, variables: Iterable[Symbol | str] | str) -> Callable[..., Any]:
    """A fast NumPy function of ``variables`` (in that order) computing ``exprs``.

    Arguments broadcast against each other; integers are computed as floats; an output that
    is constant or misses a variable is broadcast to the common shape.  A list (or list of lists)
    of expressions gives one ndarray of shape ``nesting + broadcast shape``.  ``Derivatives``
    results (``grad``, ``jacobian``, ``hessian``, ``vjp``, ``hvp``) compile their shared
    reverse-accumulation graph when it is smaller, so a gradient costs a few times the function.
    The generated source is ``f.source`` (also ``symcalc.codegen``).
    """
    if _matrix.is_shaped(exprs):
        return _matrix.lambdify(exprs, variables)
    source = _source(program(exprs, variables), "f")
    filename = f"<symcalc-generated-{next(_generated)}>"
    code = compile(source, filename, "exec")
    namespace: dict[str, Any] = {}
    exec(code, namespace)  # the source was printed from the expression graph, never user text
    function = namespace["f"]
    function.source = source
    function.__doc__ = "Generated by symcalc.lambdify:\n\n" + source
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    weakref.finalize(function, linecache.cache.pop, filename, None)
    return function
