"""The matrix-layer expression graph: immutable, interned nodes, each with a ``shape``.

One node class, ``MatrixExpr``, whose ``kind`` names the operation:

==============  ==========================================================
values          ``symbol`` ``number`` ``constant``
entrywise       ``add`` ``mul`` ``pow`` ``apply`` (a scalar registry function)
operations      one record each in ``symcalc.matrix.operations.OPERATIONS``:
                ``matmul`` (a chain ``F1@F2@...``), ``transpose``, ``sum``,
                ``inv``, ``diag``, ..., and the leaves ``eye``, ``ones``, ``zeros``
==============  ==========================================================

Nodes are built only by the canonical constructors of ``symcalc.matrix.build`` and
``symcalc.matrix.ops``, which check shapes and keep one normal form, so equal formulas are the
same object.  Traversals are iterative (``postorder``).
"""

from __future__ import annotations

import hashlib
import numbers
import threading
import weakref
from fractions import Fraction
from typing import Optional

from ..errors import SymcalcError, SymcalcTypeError
from ..core.hooks import Hooks
from ..core.nodes import Expr, Immutable, postorder  # one walk for every node with .args
from .shapes import Shape

# the functions of higher modules that a node's operators and methods are, bound when they load
_BUILD = "symcalc.matrix.build"
METHODS = Hooks(add=_BUILD, negate=_BUILD, mul=_BUILD, divide=_BUILD, power=_BUILD,
                matmul=_BUILD, transpose=_BUILD, apply=_BUILD, call="symcalc.matrix.numpy_ops",
                from_scalar="symcalc.matrix.convert", to_str="symcalc.matrix.printing",
                latex="symcalc.matrix.printing", parse_shaped="symcalc.matrix.parsing",
                diff="symcalc.api", subs="symcalc.api", count_ops="symcalc.api")

_interned: "weakref.WeakValueDictionary[tuple, MatrixExpr]" = weakref.WeakValueDictionary()
_intern_lock = threading.Lock()

# sort rank of each kind: numbers first, then names, then calls, then compound nodes
_RANK = {"number": 0, "constant": 1, "symbol": 2, "transpose": 2, "eye": 3, "ones": 3,
         "zeros": 3, "apply": 4, "pow": 6, "mul": 7, "matmul": 8, "add": 9}
_KEY_TEXT = 48


class MatrixExpr(Immutable):
    """A node of a shaped formula: a scalar, a vector or a matrix, with sizes as names.

    Build with ``symcalc.vector``, ``symcalc.matrix``, the operators ``+ - * / ** @``, ``.T``
    and the functions (``symcalc.norm``, ``symcalc.sin``, ...), or with ``symcalc.parse(text,
    shapes=...)``.  ``shape`` is ``()``, ``(n,)`` or ``(m, n)`` (up to 4 sizes for a derivative
    whose value is a tensor, ``symcalc.matrix.tensor``).
    """

    # ``_lifted``: the scalar engine's expression of an entrywise part (symcalc.matrix.entrywise)
    __slots__ = ("kind", "args", "data", "shape", "structure", "_hash", "_key", "_free",
                 "_text", "_lifted", "__weakref__")
    __array_ufunc__ = None  # NumPy defers to our operators

    kind: str
    args: tuple["MatrixExpr", ...]
    shape: Shape
    structure: Optional[str]  # a declared symbol's "symmetric" or "diagonal", else None

    def __hash__(self) -> int:
        return self._hash

    def __eq__(self, other: object) -> bool:
        if self is other:
            return True
        if isinstance(other, (numbers.Rational, float)) and not isinstance(other, bool):
            return self.kind == "number" and self.data == other
        return False if isinstance(other, MatrixExpr) else NotImplemented

    @property
    def ndim(self) -> int:
        return len(self.shape)

    @property
    def name(self) -> str:
        """The name of a symbol (or function)."""
        return self.data if isinstance(self.data, str) else getattr(self.data, "name", "")

    @property
    def free_symbols(self) -> frozenset["MatrixExpr"]:
        """The symbol nodes (scalars, vectors and matrices) this expression depends on."""
        if self._free is None:
            for node in postorder([self], done=lambda n: n._free is not None):
                if node.kind == "symbol":
                    node._free = frozenset((node,))
                else:
                    node._free = frozenset().union(*(a._free for a in node.args))
        return self._free

    # --- operators --------------------------------------------------------------------------
    def __add__(self, other):
        return METHODS.add(self, as_node(other))

    def __radd__(self, other):
        return METHODS.add(as_node(other), self)

    def __sub__(self, other):
        return METHODS.add(self, METHODS.negate(as_node(other)))

    def __rsub__(self, other):
        return METHODS.add(as_node(other), METHODS.negate(self))

    def __mul__(self, other):
        return METHODS.mul(self, as_node(other))

    def __rmul__(self, other):
        return METHODS.mul(as_node(other), self)

    def __truediv__(self, other):
        return METHODS.divide(self, as_node(other))

    def __rtruediv__(self, other):
        return METHODS.divide(as_node(other), self)

    def __pow__(self, other):
        return METHODS.power(self, as_node(other))

    def __rpow__(self, other):
        return METHODS.power(as_node(other), self)

    def __matmul__(self, other):
        return METHODS.matmul(self, as_node(other))

    def __rmatmul__(self, other):
        return METHODS.matmul(as_node(other), self)

    def __neg__(self):
        return METHODS.negate(self)

    def __pos__(self):
        return self

    @property
    def T(self) -> "MatrixExpr":
        """The transpose (a vector or scalar is its own transpose, as in NumPy)."""
        return METHODS.transpose(self)

    def __symcalc_apply__(self, fn, args: tuple, **options) -> "MatrixExpr":
        """A scalar registry function called with a shaped argument acts entrywise; ``max`` and
        ``logsumexp`` of one vector or matrix reduce it (``max(X, axis=0)``)."""
        return METHODS.call(fn, args, options)

    # --- the API as methods, as on scalar expressions (symcalc.api binds them) -----------
    def diff(self, *spec: object) -> "MatrixExpr":
        """``symcalc.diff(self, *spec)``: the derivative by scalar parameters, shaped like self."""
        return METHODS.diff(self, *spec)

    def subs(self, mapping, shapes=None) -> "MatrixExpr":
        """``symcalc.subs(self, mapping, shapes=shapes)``: ``f.subs({"t": "2*t"})``; names the
        formula does not mention are scalars unless ``shapes`` declares them."""
        return METHODS.subs(self, mapping, shapes=shapes)

    def count_ops(self) -> int:
        """Number of operations, each shared node counted once (see ``symcalc.count_ops``)."""
        return METHODS.count_ops(self)

    # --- display ----------------------------------------------------------------------------
    def __str__(self) -> str:
        return METHODS.to_str(self)

    def __repr__(self) -> str:
        text = str(self)
        return f"MatrixExpr('{text if len(text) < 200 else text[:200] + '...'}', shape={self.shape})"

    def _repr_latex_(self) -> str:
        return f"$\\displaystyle {METHODS.latex(self)}$"

    def __reduce__(self):
        shapes = {s.data: declared(s) for s in self.free_symbols}
        return (METHODS.parse_shaped, (str(self), shapes))


def make(kind: str, args: tuple, shape: Shape, data: object = None,
         structure: Optional[str] = None) -> MatrixExpr:
    """The interned node ``(kind, data, shape, args)``; constructors call this after checks.
    A declared structure (a symbol's ``"symmetric"``) is part of the node's identity."""
    key = (kind, data, shape, args) if structure is None else (kind, data, shape, args, structure)
    node = _interned.get(key)
    if node is not None:
        return node
    with _intern_lock:  # re-checked under the lock: two threads always get the same node
        node = _interned.get(key)
        if node is not None:
            return node
        node = object.__new__(MatrixExpr)
        for slot, value in (("kind", kind), ("args", args), ("data", data), ("shape", shape),
                            ("structure", structure), ("_hash", hash(key)), ("_key", None),
                            ("_free", frozenset() if not args and kind != "symbol" else None),
                            ("_text", None), ("_lifted", None)):
            object.__setattr__(node, slot, value)
        _interned[key] = node
        return node


def number(value: numbers.Rational) -> MatrixExpr:
    """An exact number (int or Fraction)."""
    if isinstance(value, Fraction) and value.denominator == 1:
        value = value.numerator
    return make("number", (), (), value)


ZERO = number(0)
ONE = number(1)
MINUS_ONE = number(-1)


def sort_key(node: MatrixExpr) -> tuple:
    """A fixed structural order: by kind, then a readable prefix, then a digest (cached)."""
    if node._key is None:
        for n in postorder([node], done=lambda m: m._key is not None):
            if n.kind == "number":
                text = digest = f"{Fraction(n.data)}"
            elif n.kind in ("symbol", "constant"):
                text = digest = n.data + ("'" * len(n.shape))
                digest += n.structure or ""
            elif n.kind == "transpose":
                child = n.args[0]._key[1]
                text, digest = child + "'", n.args[0]._key[2] + "'"
            else:
                head = n.kind if n.kind != "apply" else n.data.name
                if n.kind != "apply" and n.data is not None:  # subscripts, an axis or an exponent
                    head += f"[{n.data}]"
                text = head + "(" + ",".join(a._key[1] for a in n.args) + ")"
                digest = f"{head}{n.shape}(" + ",".join(a._key[2] for a in n.args) + ")"
            digest = hashlib.blake2b(digest.encode(), digest_size=12).hexdigest()
            n._key = (_RANK.get(n.kind, 5), text[:_KEY_TEXT], digest)
    return node._key


def declared(symbol: MatrixExpr) -> tuple:
    """A symbol's shape as ``shapes=`` declares it, with its structure word if it has one:
    ``("n", "n", "symmetric")``."""
    return symbol.shape + ((symbol.structure,) if symbol.structure else ())


def as_node(value: object) -> MatrixExpr:
    """A node from a node, a Python number or a scalar ``symcalc.Expr``."""
    if isinstance(value, MatrixExpr):
        return value
    if isinstance(value, Expr):
        return METHODS.from_scalar(value)
    if isinstance(value, bool) or isinstance(value, numbers.Integral):
        return number(int(value))
    if isinstance(value, numbers.Rational):
        return number(Fraction(int(value.numerator), int(value.denominator)))
    if isinstance(value, numbers.Real):
        real = float(value)
        if real != real or real in (float("inf"), float("-inf")):
            raise SymcalcError(f"{value!r} is not a finite number")
        return number(Fraction(repr(real)))
    raise SymcalcTypeError(f"cannot use {type(value).__name__} {value!r} in a matrix expression")

