"""The expression graph: immutable, interned nodes and their canonical constructors.

Every node is interned: building a node equal to one that exists returns that very object, so
``==`` is identity, hashing is O(1), and a subexpression that occurs twice is stored once.  Work
done per node (derivatives, printing, code generation) is therefore memoised across a whole
gradient, Hessian or generated function.

The canonical constructors ``add``, ``mul`` and ``power`` keep every expression in one normal
form, the same whether it came from the parser or from Python operators:

* nested sums and products are flattened, numbers are folded exactly (integers of any size and
  rationals), like terms are collected (``2*x + 3*x -> 5*x``), equal bases merged
  (``x*x^2 -> x^3``), and ``x^0``, ``x^1``, ``1*x`` and ``x + 0`` disappear;
* terms and factors are sorted by a fixed structural order, so equal results print equally;
* a number times a single sum is distributed (``-(x - 1) -> 1 - x``);
* a power of numbers is computed only while the result stays small (``9^9^9`` stays as it is).

No algorithm in symcalc recurses over the graph: traversals go through ``postorder``, so a formula
nested ten thousand levels deep is as safe as a flat one.
"""

from __future__ import annotations

import hashlib
import numbers
import threading
import weakref
from fractions import Fraction
from typing import Callable, Iterable, Iterator, Union

from . import bigint
from .errors import DivisionByZeroError, SymcalcError, SymcalcTypeError

Rational = Union[int, Fraction]

_interned: "weakref.WeakValueDictionary[tuple, Expr]" = weakref.WeakValueDictionary()


class Expr:
    """A node of the expression graph.  Build nodes with the operators or ``symcalc.parse``."""

    __slots__ = (
        "args", "_hash", "_depth", "_free", "_skey", "_order", "_text", "_simple", "_raw",
        "__weakref__",
    )

    args: tuple["Expr", ...]

    # --- identity -------------------------------------------------------------------------
    def __setattr__(self, name: str, value: object) -> None:
        if not name.startswith("_"):  # underscored slots are private caches filled lazily
            raise AttributeError(f"expressions are immutable: cannot set {name!r}")
        object.__setattr__(self, name, value)

    def __hash__(self) -> int:
        return self._hash

    def __eq__(self, other: object) -> bool:
        if self is other:
            return True
        if isinstance(other, Expr):
            return False
        if isinstance(other, (numbers.Rational, float)) and not isinstance(other, bool):
            return isinstance(self, Num) and self.value == other
        return NotImplemented

    def __ne__(self, other: object) -> bool:
        result = self.__eq__(other)
        return result if result is NotImplemented else not result

    def __reduce__(self):  # pickling goes through the text form, so interning holds
        from .parser import parse
        from .printing import to_str
        abstract = sorted({node.fn.base for node in postorder([self])
                           if isinstance(node, Call) and getattr(node.fn, "base", "")})
        return (parse, (to_str(self), abstract))

    def __copy__(self) -> "Expr":
        return self

    def __deepcopy__(self, memo) -> "Expr":
        return self

    # --- arithmetic -----------------------------------------------------------------------
    def __add__(self, other):
        return add(self, as_expr(other))

    def __radd__(self, other):
        return add(as_expr(other), self)

    def __sub__(self, other):
        return add(self, negate(as_expr(other)))

    def __rsub__(self, other):
        return add(as_expr(other), negate(self))

    def __mul__(self, other):
        return mul(self, as_expr(other))

    def __rmul__(self, other):
        return mul(as_expr(other), self)

    def __truediv__(self, other):
        return mul(self, power(as_expr(other), MINUS_ONE))

    def __rtruediv__(self, other):
        return mul(as_expr(other), power(self, MINUS_ONE))

    def __pow__(self, other):
        return power(self, as_expr(other))

    def __rpow__(self, other):
        return power(as_expr(other), self)

    def __neg__(self):
        return negate(self)

    def __pos__(self):
        return self

    # --- structure ------------------------------------------------------------------------
    @property
    def free_symbols(self) -> frozenset["Symbol"]:
        """The symbols this expression depends on."""
        if self._free is None:
            for node in postorder([self], done=lambda n: n._free is not None):
                if isinstance(node, Symbol):
                    store(node, "_free", frozenset((node,)))
                elif len(node.args) == 1:
                    store(node, "_free", node.args[0]._free)
                else:
                    store(node, "_free", frozenset().union(*(a._free for a in node.args)))
        return self._free

    @property
    def depth(self) -> int:
        """Length of the longest path from this node to a leaf (a leaf has depth 1)."""
        return self._depth

    def count_ops(self) -> int:
        """Number of operations in the graph, each shared node counted once."""
        return count_ops([self])

    def __str__(self) -> str:
        from .printing import to_str  # the printer builds on this module
        return to_str(self)

    def __repr__(self) -> str:
        return f"Expr('{self}')" if len(str(self)) < 200 else f"Expr('{str(self)[:200]}...')"

    def _repr_latex_(self) -> str:
        from .printing import latex
        return f"$\\displaystyle {latex(self)}$"


# Writes a slot without the immutability guard: for constructors and the private caches.
store = object.__setattr__
_interned_refs = _interned.data  # key -> weak reference; read directly on the hot path


_intern_lock = threading.Lock()


def _new(cls, key: tuple, args: tuple, **fields) -> "Expr":
    """Return the interned node for ``key``, creating it on first use.

    The look-up is lock-free; creation happens under a lock that re-checks the table, so two
    threads building equal nodes always get the same object.
    """
    ref = _interned_refs.get(key)
    if ref is not None:
        node = ref()
        if node is not None:
            return node
    with _intern_lock:
        ref = _interned_refs.get(key)
        if ref is not None:
            node = ref()
            if node is not None:
                return node
        return _create(cls, key, args, fields)


def _create(cls, key: tuple, args: tuple, fields: dict) -> "Expr":
    node = object.__new__(cls)
    store(node, "args", args)
    store(node, "_hash", hash(key))
    store(node, "_depth", 1 + max([a._depth for a in args]) if args else 1)
    store(node, "_free", None)
    store(node, "_skey", None)
    store(node, "_order", None)
    store(node, "_text", None)
    store(node, "_simple", None)
    store(node, "_raw", False)  # True: built by raw_add/raw_mul, maybe not in canonical form
    for name, value in fields.items():
        store(node, name, value)
    _interned[key] = node
    return node


_numbers: dict = {}  # value -> Num, so common numbers skip the interning look-up


class Num(Expr):
    """An exact number: an int of any size or a Fraction."""

    __slots__ = ("value",)

    def __new__(cls, value: Rational) -> "Num":
        node = _numbers.get(value)
        if node is not None and type(node.value) is type(value):
            return node
        if isinstance(value, Fraction) and value.denominator == 1:
            value = value.numerator
        node = _new(cls, (cls, value), (), value=value, _hash=hash(value), _free=frozenset())
        if len(_numbers) > 50_000:  # a bounded cache of the numbers in use
            _numbers.clear()
        _numbers[value] = node
        return node

    @property
    def is_integer(self) -> bool:
        return isinstance(self.value, int)


class Symbol(Expr):
    """A variable, known by its name."""

    __slots__ = ("name",)

    def __new__(cls, name: str) -> "Symbol":
        if not isinstance(name, str) or not name:
            raise SymcalcTypeError(f"a symbol name must be a non-empty string, not {name!r}")
        return _new(cls, (cls, name), (), name=name)


class Constant(Expr):
    """A named mathematical constant: ``pi`` or ``e``."""

    __slots__ = ("name", "value")

    def __new__(cls, name: str, value: float) -> "Constant":
        return _new(cls, (cls, name), (), name=name, value=value, _free=frozenset())


class Add(Expr):
    """A sum of two or more terms."""

    __slots__ = ()


class Mul(Expr):
    """A product of two or more factors; a numeric coefficient, if any, comes first."""

    __slots__ = ()


class Pow(Expr):
    """``base ^ exponent``."""

    __slots__ = ()

    @property
    def base(self) -> Expr:
        return self.args[0]

    @property
    def exponent(self) -> Expr:
        return self.args[1]


class Call(Expr):
    """A registered function applied to its arguments (see ``symcalc.functions``)."""

    __slots__ = ("fn", "_partials")

    @property
    def name(self) -> str:
        return self.fn.name

    def partials(self) -> tuple[Expr, ...]:
        """The local partial derivatives, one per argument (from the registry; cached)."""
        if self._partials is None:
            store(self, "_partials", tuple(self.fn.partials(*self.args)))
        return self._partials


ZERO = Num(0)
ONE = Num(1)
MINUS_ONE = Num(-1)
HALF = Num(Fraction(1, 2))
PI = Constant("pi", 3.141592653589793)
E = Constant("e", 2.718281828459045)


# --- conversion -------------------------------------------------------------------------------
def as_expr(value: object) -> Expr:
    """Turn a Python number (or an Expr) into an Expr.

    Floats are read through their shortest decimal form, so ``0.1`` becomes exactly ``1/10``.
    """
    if isinstance(value, Expr):
        return value
    if isinstance(value, bool):
        return Num(int(value))
    if isinstance(value, numbers.Integral):
        return Num(int(value))
    if isinstance(value, Fraction):
        return Num(value)
    if isinstance(value, numbers.Rational):
        return Num(Fraction(int(value.numerator), int(value.denominator)))
    if isinstance(value, numbers.Real):
        real = float(value)
        if real != real or real in (float("inf"), float("-inf")):
            raise SymcalcError(f"{value!r} is not a finite number")
        return Num(Fraction(repr(real)))
    raise SymcalcTypeError(f"cannot use {type(value).__name__} {value!r} in an expression")


# --- traversal --------------------------------------------------------------------------------
def postorder(roots: Iterable[Expr], done: Callable[[Expr], bool] | None = None) -> Iterator[Expr]:
    """Yield every distinct node reachable from ``roots`` once, children before parents.

    Nodes for which ``done(node)`` is true are neither yielded nor entered.  Iterative, so depth
    is unbounded.
    """
    seen: set[int] = set()
    stack: list[tuple[Expr, bool]] = [(r, False) for r in reversed(list(roots))]
    while stack:
        node, expanded = stack.pop()
        if expanded:
            yield node
            continue
        if id(node) in seen or (done is not None and done(node)):
            continue
        seen.add(id(node))
        stack.append((node, True))
        for child in reversed(node.args):
            if id(child) not in seen:
                stack.append((child, False))


def count_ops(roots: Iterable[Expr]) -> int:
    """Operations needed to evaluate ``roots`` with every shared node computed once.

    An n-ary sum or product counts n - 1 operations, a power or a function call one; symbols and
    numbers are free.  This is the size the benchmarks report.
    """
    total = 0
    for node in postorder(roots):
        if isinstance(node, (Add, Mul)):
            total += len(node.args) - 1
        elif isinstance(node, (Pow, Call)):
            total += 1
    return total


# --- canonical order --------------------------------------------------------------------------
_RANK = {"Num": 0, "Symbol": 1, "Constant": 1, "Call": 2, "Pow": 3, "Mul": 4, "Add": 5}


_KEY_TEXT = 48  # characters of readable structure kept in a sort key


def structural_key(node: Expr) -> str:
    """The node's sort key (cached): a readable prefix of its structure, then a digest of all of it.

    The readable part orders atoms the way a person expects (by name, by function, by argument);
    the digest makes the key injective.  Both have bounded length, so keys stay small even for a
    graph whose tree would be exponentially large.
    """
    if node._skey is None:
        for n in postorder([node], done=lambda m: m._skey is not None):
            if isinstance(n, Num):
                v = n.value
                text = f"{v.numerator:x}/{v.denominator:x}" if isinstance(v, Fraction) else f"{v:x}"
                digest = text
            elif isinstance(n, (Symbol, Constant)):
                text = n.name if isinstance(n, Symbol) else "#" + n.name
                digest = text
            else:
                head = n.fn.name if isinstance(n, Call) else type(n).__name__
                parts = [a._skey.split("\0", 1) for a in n.args]
                text = head + "(" + ",".join(p[0] for p in parts) + ")"
                digest = head + "(" + ",".join(p[-1] for p in parts) + ")"
            digest = hashlib.blake2b(digest.encode(), digest_size=16).hexdigest()
            store(n, "_skey", text[:_KEY_TEXT] + "\0" + digest)
    return node._skey


def _base_exponent(factor: Expr) -> tuple[Expr, Expr]:
    return (factor.args[0], factor.args[1]) if isinstance(factor, Pow) else (factor, ONE)


def _factor_key(factor: Expr) -> tuple:
    base, exp = _base_exponent(factor)
    exp_rank = (0, -exp.value) if isinstance(exp, Num) else (1, structural_key(exp))
    return (_RANK[type(base).__name__], structural_key(base), exp_rank)


def _term_key(rest: Expr) -> tuple:
    """Order of a term (without its coefficient) in a sum: higher degree first, then by factors."""
    if rest._order is None:
        factors = rest.args if isinstance(rest, Mul) else (rest,)
        degree = 0
        for f in factors:
            exp = _base_exponent(f)[1]
            degree += exp.value if isinstance(exp, Num) else 1
        store(rest, "_order", (-degree, tuple(_factor_key(f) for f in factors)))
    return rest._order


# --- canonical constructors ----------------------------------------------------------------------
def split_coefficient(term: Expr) -> tuple[Rational, Expr]:
    """``3*x*y -> (3, x*y)``; ``x -> (1, x)``; ``5 -> (5, 1)``."""
    if isinstance(term, Num):
        return term.value, ONE
    if term._raw and isinstance(term, Mul):
        # a raw product may nest products and numbers anywhere: -1*(-1*x) must give (1, x)
        term = mul(*term.args)
        if isinstance(term, Num):
            return term.value, ONE
    if isinstance(term, Mul) and isinstance(term.args[0], Num):
        rest = term.args[1:]
        return term.args[0].value, rest[0] if len(rest) == 1 else _new(Mul, (Mul, rest), rest)
    return 1, term


def _scaled(coeff: Rational, rest: Expr) -> Expr:
    if coeff == 1:
        return rest
    if isinstance(rest, Mul):
        args = (Num(coeff),) + rest.args
    else:
        args = (Num(coeff), rest)
    return _new(Mul, (Mul, args), args)


def add(*terms: Expr) -> Expr:
    """The canonical sum of ``terms``."""
    constant: Rational = 0
    coeffs: dict[Expr, Rational] = {}
    stack: list[tuple[Rational, Expr]] = [(1, t) for t in reversed(terms)]
    while stack:
        scale, term = stack.pop()
        if isinstance(term, Add):
            stack.extend((scale, t) for t in reversed(term.args))
            continue
        if isinstance(term, Num):
            constant += scale * term.value
            continue
        if term._raw and isinstance(term, Mul):  # -1*(-1*x) or 2*(1/2): canonical first
            canonical = mul(*term.args)
            if canonical is not term:
                stack.append((scale, canonical))
                continue
        coeff, rest = split_coefficient(term)
        if isinstance(rest, Add):  # only from a non-canonical product such as 2*(x + 1)
            stack.append((scale * coeff, rest))
            continue
        coeffs[rest] = coeffs.get(rest, 0) + scale * coeff
    rests = [r for r, c in coeffs.items() if c != 0]
    rests.sort(key=_term_key)
    out = [_scaled(coeffs[r], r) for r in rests]
    if constant != 0:
        out.append(Num(constant))
    if not out:
        return ZERO
    if len(out) == 1:
        return out[0]
    args = tuple(out)
    return _new(Add, (Add, args), args)


def mul(*factors: Expr) -> Expr:
    """The canonical product of ``factors``."""
    coeff: Rational = 1
    exponents: dict[Expr, list[Expr]] = {}
    stack = list(reversed(factors))
    while stack:
        f = stack.pop()
        if isinstance(f, Mul):
            stack.extend(reversed(f.args))
        elif isinstance(f, Num):
            coeff *= f.value
        else:
            base, exp = _base_exponent(f)
            exponents.setdefault(base, []).append(exp)
    if coeff == 0:
        return ZERO
    out: list[Expr] = []
    regroup = False
    for base, exps in exponents.items():
        if len(exps) == 1:
            total = exps[0]
            p = base if total is ONE else _new(Pow, (Pow, (base, total)), (base, total))
        else:
            total = add(*exps)
            p = power(base, total)
        if isinstance(p, Num):
            coeff *= p.value
        elif p is not ONE:
            # a merged power may come out as a product or with another base:
            # sqrt(x*y)^2 -> x*y,  sqrt(sqrt(a))^-2 -> 1/sqrt(a), which may meet a's other powers
            regroup = regroup or isinstance(p, Mul) or _base_exponent(p)[0] is not base
            out.append(p)
    if regroup:
        return mul(Num(coeff), *out)
    if coeff == 0:
        return ZERO
    if not out:
        return Num(coeff)
    if len(out) == 1:
        if coeff == 1:
            return out[0]
        if isinstance(out[0], Add):  # 2*(x + 1) -> 2*x + 2
            return _scaled_sum(coeff, out[0])
    out.sort(key=_factor_key)
    args = tuple(out) if coeff == 1 else (Num(coeff),) + tuple(out)
    return _new(Mul, (Mul, args), args)


def _scaled_sum(coeff: Rational, total: Add) -> Expr:
    """``coeff * total``, distributed.  Scaling keeps the canonical order of the terms."""
    if total._raw:
        return add(*(mul(Num(coeff), t) for t in total.args))
    terms = []
    for t in total.args:
        if isinstance(t, Num):
            terms.append(Num(coeff * t.value))
        else:
            c, rest = split_coefficient(t)
            terms.append(_scaled(coeff * c, rest))
    args = tuple(terms)
    return _new(Add, (Add, args), args)


def negate(e: Expr) -> Expr:
    return mul(MINUS_ONE, e)


def power(base: Expr, exponent: Expr) -> Expr:
    """The canonical ``base ^ exponent``."""
    if isinstance(exponent, Num):
        n = exponent.value
        if n == 0:
            return ONE
        if n == 1:
            return base
        if isinstance(base, Num):
            folded = _numeric_power(base.value, n)
            if folded is not None:
                return folded
        elif isinstance(n, int):
            if isinstance(base, Pow):  # (x^a)^n = x^(a*n) for integer n
                return power(base.args[0], mul(base.args[1], exponent))
            if isinstance(base, Mul):  # (x*y)^n = x^n*y^n for integer n
                return mul(*(power(f, exponent) for f in base.args))
    if isinstance(base, Num):
        if base.value == 1:
            return ONE
    if base is E:  # e^x is exp(x)
        from .functions import exp  # the function registry builds on this module
        return exp(exponent)
    return _new(Pow, (Pow, (base, exponent)), (base, exponent))


def _numeric_power(b: Rational, n: Rational) -> Expr | None:
    """``b^n`` for numbers when it is exact and small enough, else None."""
    if b == 0:
        if n < 0:
            raise DivisionByZeroError("division by zero (0 raised to a negative power)")
        return ZERO
    if isinstance(n, int):
        size = max(Fraction(b).numerator.bit_length(), Fraction(b).denominator.bit_length())
        if not bigint.power_fits(size, n):
            return None
        return Num(Fraction(b) ** n)
    # rational exponent p/q: exact only for perfect q-th powers of a positive base
    if b < 0:
        return None
    fb = Fraction(b)
    root_num = bigint.integer_root(fb.numerator, n.denominator)
    root_den = bigint.integer_root(fb.denominator, n.denominator)
    if root_num is None or root_den is None:
        return None
    return _numeric_power(Fraction(root_num, root_den), n.numerator)


def make_call(fn, args: tuple[Expr, ...]) -> Expr:
    """The canonical application of the registry function ``fn`` (arity already checked)."""
    simpler = fn.evaluate(*args) if fn.evaluate is not None else None
    if simpler is not None:
        return simpler
    return _new(Call, (Call, fn.name, args), args, fn=fn, _partials=None)


def with_args(node: Expr, args: tuple[Expr, ...]) -> Expr:
    """The canonical node of the same kind as ``node`` with new arguments."""
    if isinstance(node, Add):
        return add(*args)
    if isinstance(node, Mul):
        return mul(*args)
    if isinstance(node, Pow):
        return power(*args)
    if isinstance(node, Call):
        return make_call(node.fn, args)
    return node  # leaves have no arguments


def rebuild(root: Expr, leaf: Callable[[Expr], Expr]) -> Expr:
    """Rebuild ``root`` canonically bottom-up, replacing each leaf by ``leaf(node)``."""
    new: dict[Expr, Expr] = {}
    for node in postorder([root]):
        new[node] = with_args(node, tuple(new[a] for a in node.args)) if node.args else leaf(node)
    return new[root]


# --- raw constructors for derivative graphs ----------------------------------------------------
def raw_add(a: Expr, b: Expr) -> Expr:
    """``a + b`` without flattening: keeps a shared sum shared.  Drops zeros, folds numbers."""
    if a is ZERO:
        return b
    if b is ZERO:
        return a
    if isinstance(a, Num) and isinstance(b, Num):
        return Num(a.value + b.value)
    return _new(Add, (Add, (a, b)), (a, b), _raw=True)


def raw_mul(a: Expr, b: Expr) -> Expr:
    """``a * b`` without flattening: keeps a shared product shared.  Drops ones, folds numbers."""
    if a is ZERO or b is ZERO:
        return ZERO
    if a is ONE:
        return b
    if b is ONE:
        return a
    if isinstance(a, Num) and isinstance(b, Num):
        return Num(a.value * b.value)
    if isinstance(b, Num):
        a, b = b, a
    return _new(Mul, (Mul, (a, b)), (a, b), _raw=True)
