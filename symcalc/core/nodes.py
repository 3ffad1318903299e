"""The nodes of the expression graph: immutable, interned, each built once.

Every node is interned: building a node equal to one that exists returns that very object, so
``==`` is identity, hashing is O(1), and a subexpression that occurs twice is stored once.  Work
done per node (derivatives, printing, code generation) is therefore memoised across a whole
gradient, Hessian or generated function.  Creating a node is atomic under threads.

The arithmetic operators of ``Expr`` are the canonical constructors of ``symcalc.core.expr``, which
builds on the classes here and binds them when it loads (``bind_arithmetic``); the two modules
are one layer, split for size.  No algorithm recurses over the graph: traversals go through
``postorder``, so a formula nested ten thousand levels deep is as safe as a flat one.
"""

from __future__ import annotations

import functools
import numbers
import operator
import threading
import types
import weakref
from _weakref import _remove_dead_weakref
from fractions import Fraction
from typing import Callable, Iterable, Iterator, Union

from ..errors import SymcalcError, SymcalcTypeError
from .hooks import Hooks

Rational = Union[int, Fraction]

_interned: "weakref.WeakValueDictionary[tuple, Expr]" = weakref.WeakValueDictionary()

# the functions of higher layers that Expr's methods are, bound when those modules load
API = Hooks(diff="symcalc.api", subs="symcalc.api", evalf="symcalc.api", to_float="symcalc.api",
            to_str="symcalc.printing.infix", latex="symcalc.printing.infix",
            parse="symcalc.language.parser", exp="symcalc.functions.elementary")


class Immutable:
    """What every interned node shares, scalar (``Expr``) or shaped (``symcalc.matrix``): public
    attributes cannot be set (underscored slots are private caches filled lazily), copies are the
    node itself, and ``!=`` is the negation of ``==``."""

    __slots__ = ()

    def __setattr__(self, name: str, value: object) -> None:
        if not name.startswith("_"):
            raise AttributeError(f"expressions are immutable: cannot set {name!r}")
        object.__setattr__(self, name, value)

    def __ne__(self, other: object) -> bool:
        result = self.__eq__(other)
        return result if result is NotImplemented else not result

    def __copy__(self):
        return self

    def __deepcopy__(self, memo):
        return self


class Expr(Immutable):
    """A node of the expression graph.  Build nodes with the operators or ``symcalc.parse``."""

    __slots__ = (
        "args", "_hash", "_depth", "_free", "_skey", "_order", "_fkey", "_text", "_simple", "_raw",
        "_expansions",  # left unset until simplify stores products multiplied out over this sum
        "_memo",  # left unset until ``memoised`` stores a value derived from this node alone
        "__weakref__",
    )

    args: tuple["Expr", ...]

    # --- identity -------------------------------------------------------------------------
    def __eq__(self, other: object) -> bool:
        if self is other:
            return True
        if isinstance(other, Expr):
            return False
        if isinstance(other, (numbers.Rational, float)) and not isinstance(other, bool):
            return isinstance(self, Num) and self.value == other
        return NotImplemented

    # Nodes are interned, so equal means identical and the identity hash (computed in C, with no
    # Python call on every dict and set look-up) is consistent with ==.  Num, which also equals
    # the plain number, hashes as its value instead.
    __hash__ = object.__hash__

    def __reduce__(self):  # pickling goes through the text form, so interning holds
        abstract = sorted({node.fn.base for node in postorder([self])
                           if isinstance(node, Call) and getattr(node.fn, "base", "")})
        return (API.parse, (API.to_str(self), abstract))


    # --- arithmetic: the canonical constructors, bound by symcalc.core.expr
    # ------------------------
    def __add__(self, other):
        other = _operand(other)
        return NotImplemented if other is None else _arithmetic.add(self, other)

    def __radd__(self, other):
        other = _operand(other)
        return NotImplemented if other is None else _arithmetic.add(other, self)

    def __sub__(self, other):
        other = _operand(other)
        return NotImplemented if other is None else _arithmetic.add(self, _arithmetic.negate(other))

    def __rsub__(self, other):
        other = _operand(other)
        return NotImplemented if other is None else _arithmetic.add(other, _arithmetic.negate(self))

    def __mul__(self, other):
        other = _operand(other)
        return NotImplemented if other is None else _arithmetic.mul(self, other)

    def __rmul__(self, other):
        other = _operand(other)
        return NotImplemented if other is None else _arithmetic.mul(other, self)

    def __truediv__(self, other):
        other = _operand(other)
        return (NotImplemented if other is None
                else _arithmetic.mul(self, _arithmetic.power(other, MINUS_ONE)))

    def __rtruediv__(self, other):
        other = _operand(other)
        return (NotImplemented if other is None
                else _arithmetic.mul(other, _arithmetic.power(self, MINUS_ONE)))

    def __pow__(self, other):
        other = _operand(other)
        return NotImplemented if other is None else _arithmetic.power(self, other)

    def __rpow__(self, other):
        other = _operand(other)
        return NotImplemented if other is None else _arithmetic.power(other, self)

    def __neg__(self):
        return _arithmetic.negate(self)

    def __pos__(self):
        return self

    # --- structure ------------------------------------------------------------------------
    @property
    def free_symbols(self) -> frozenset["Symbol"]:
        """The symbols this expression depends on."""
        if self._free is None:
            if None not in map(_free_of, self.args):  # the common case: no walk needed
                _store_free(self)
            else:
                for node in postorder([self], done=lambda n: n._free is not None):
                    _store_free(node)
        return self._free

    @property
    def depth(self) -> int:
        """Length of the longest path from this node to a leaf (a leaf has depth 1)."""
        return self._depth

    def count_ops(self) -> int:
        """Number of operations in the graph, each shared node counted once."""
        return count_ops([self])

    # --- the API as methods (symcalc.api builds on this module and binds them: API) ------
    def diff(self, *spec: object) -> "Expr":
        """``symcalc.diff(self, *spec)``: ``e.diff("x")``, ``e.diff("x", 2)``, ``e.diff("x", "y")``."""
        return API.diff(self, *spec)

    def subs(self, mapping) -> "Expr":
        """``symcalc.subs(self, mapping)``: ``e.subs({"y": 3})``, ``e.subs({"sin(x)": "s"})``."""
        return API.subs(self, mapping)

    def evalf(self, digits: int = 15):
        """The value to ``digits`` significant digits as a ``decimal.Decimal`` (see symcalc.evalf)."""
        return API.evalf(self, digits)

    def __float__(self) -> float:
        """The correctly rounded value; a TypeError when the expression has variables."""
        return API.to_float(self)

    def __str__(self) -> str:
        return API.to_str(self)  # the printer builds on this module

    def __repr__(self) -> str:
        return f"Expr('{self}')" if len(str(self)) < 200 else f"Expr('{str(self)[:200]}...')"

    def _repr_latex_(self) -> str:
        return f"$\\displaystyle {API.latex(self)}$"


# Writes a slot without the immutability guard: for constructors and the private caches.
store = object.__setattr__


def memoised(node: Expr, name: str, compute: Callable[[Expr], object]) -> object:
    """``compute(node)``, computed once per node and name: for values that depend on the node
    alone (its negation, the content of a sum), which large graphs would otherwise recompute
    at every use, at a cost of the node's size each time."""
    try:
        memo = node._memo
    except AttributeError:
        memo = {}
        store(node, "_memo", memo)
    try:
        return memo[name]
    except KeyError:
        value = memo[name] = compute(node)
        return value
_interned_refs = _interned.data  # key -> weak reference; read directly on the hot path
_weak, _partial = weakref.ref, functools.partial


def _dropped(key: tuple, reference: weakref.ref) -> None:
    """A node died: drop its entry, unless the key already names a new node."""
    _remove_dead_weakref(_interned_refs, key)


_intern_lock = threading.Lock()
_depth_of = operator.attrgetter("_depth")
_free_of = operator.attrgetter("_free")


class _HashedKey(tuple):
    """A long key that is hashed once: a tuple does not keep its hash, and a node's key is hashed
    by the look-up, again under the lock and again when stored, O(arguments) each time."""

    def __hash__(self) -> int:
        try:
            return self.__dict__["hash"]
        except KeyError:
            value = self.__dict__["hash"] = tuple.__hash__(self)
            return value


_LONG_KEY = 64  # arguments from which a node's key is hashed once (_HashedKey)


def _new(cls, key: tuple, args: tuple, **fields) -> "Expr":
    """Return the interned node for ``key``, creating it on first use.

    The look-up is lock-free; creation happens under a lock that re-checks the table, so two
    threads building equal nodes always get the same object.
    """
    if len(args) >= _LONG_KEY:
        key = _HashedKey(key)
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
    _set_args(node, args)
    depth = fields.pop("_depth", None)  # given by a constructor that knows it (expr._grown_sum)
    _set_depth(node, depth if depth is not None else 1 + max(map(_depth_of, args)) if args else 1)
    _set_free(node, None)
    _set_skey(node, None)
    _set_order(node, None)
    _set_fkey(node, None)
    _set_text(node, None)
    _set_simple(node, None)
    _set_raw(node, False)  # True: built by raw_add/raw_mul, maybe not in canonical form
    for name, value in fields.items():
        store(node, name, value)
    # what ``_interned[key] = node`` stores, without the Python frames of WeakValueDictionary's
    # __setitem__ and of KeyedRef: a plain weak reference whose callback (a C partial) knows the key
    _interned_refs[key] = _weak(node, _partial(_dropped, key))
    return node


# The slots' own setters: what ``store`` does, without looking the name up on every call.
_set_args, _set_depth, _set_raw = Expr.args.__set__, Expr._depth.__set__, Expr._raw.__set__
_set_free, _set_skey, _set_order = Expr._free.__set__, Expr._skey.__set__, Expr._order.__set__
_set_fkey, _set_text, _set_simple = Expr._fkey.__set__, Expr._text.__set__, Expr._simple.__set__


_numbers: dict = {}  # value -> Num, so common numbers skip the interning look-up


class Num(Expr):
    """An exact number: an int of any size or a Fraction."""

    __slots__ = ("value",)

    def __new__(cls, value: Rational) -> "Num":
        if type(value) is Fraction:  # cached by (numerator, denominator): hashing a Fraction is slow
            key = (value.numerator, value.denominator)
            node = _numbers.get(key)
            if node is not None:
                return node
            if value.denominator == 1:
                value = value.numerator
        else:
            key = value
            node = _numbers.get(key)
            if node is not None and type(node.value) is type(value):
                return node
        node = _new(cls, (cls, value), (), value=value, _hash=hash(value), _free=frozenset())
        if len(_numbers) > 50_000:  # a bounded cache of the numbers in use
            _numbers.clear()
        _numbers[key] = node
        return node

    def __hash__(self) -> int:
        return self._hash

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
    """A registered function applied to its arguments (see ``symcalc.functions.elementary``)."""

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


def _store_free(node: Expr) -> None:
    """Set ``node._free`` from its arguments' symbol sets, which are already set."""
    if isinstance(node, Symbol):
        store(node, "_free", frozenset((node,)))
    elif len(node.args) == 1:
        store(node, "_free", node.args[0]._free)
    else:
        store(node, "_free", frozenset().union(*map(_free_of, node.args)))


# --- traversal --------------------------------------------------------------------------------
def postorder(roots: Iterable[Expr], done: Callable[[Expr], bool] | None = None) -> Iterator[Expr]:
    """Yield every distinct node reachable from ``roots`` once, children before parents.

    Nodes for which ``done(node)`` is true are neither yielded nor entered; ``done`` is asked
    about a node only after the nodes before it (its elder siblings' subgraphs) were yielded.
    Iterative, so depth is unbounded.
    """
    seen: set[int] = set()
    mark = seen.add
    for root in roots:
        if id(root) in seen or (done is not None and done(root)):
            continue
        mark(id(root))
        stack = [(root, iter(root.args))]
        push, pop = stack.append, stack.pop
        while stack:
            node, children = stack[-1]
            for child in children:
                if id(child) not in seen and (done is None or not done(child)):
                    mark(id(child))
                    push((child, iter(child.args)))
                    break
            else:
                pop()
                yield node


def count_ops(roots: Iterable[Expr]) -> int:
    """Operations needed to evaluate ``roots`` with every shared node computed once.

    An n-ary sum or product counts n - 1 operations, a power or a function call one; symbols and
    numbers are free.  This is the size the benchmarks report.
    """
    total = 0
    seen: set[int] = set()
    stack = list(roots)  # the order of the visit does not matter: no postorder needed
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        kind = type(node)  # the node classes have no subclasses: this is isinstance, faster
        if kind is Add or kind is Mul:
            total += len(node.args) - 1
        elif kind is Pow or kind is Call:
            total += 1
        stack.extend(node.args)
    return total


# --- the operators' constructors ---------------------------------------------------------------
_arithmetic = types.SimpleNamespace()  # add, mul, power, negate: see bind_arithmetic


def bind_arithmetic(**constructors: Callable[..., "Expr"]) -> None:
    """Make ``constructors`` (add, mul, power, negate) the meaning of Expr's operators."""
    vars(_arithmetic).update(constructors)


def _operand(value: object) -> "Expr | None":
    """The other operand of an operator as an Expr; None (the operator gives NotImplemented)
    for an object that is neither a number nor an expression, so that its own reflected
    operator can answer (a shaped formula of symcalc.matrix does)."""
    if isinstance(value, Expr):
        return value
    if type(value) is int:  # e^2, 2*x: what as_expr gives, without its checks of abstract types
        return Num(value)
    if isinstance(value, numbers.Number):
        return as_expr(value)
    if hasattr(value, "__symcalc_apply__") or hasattr(value, "__array_ufunc__"):
        return None
    return as_expr(value)  # raises the library's TypeError naming the object
