"""LaTeX with vectors and matrices -> matrix-layer nodes: ``parse(text, latex=True, shapes=...)``.

The grammar (``grammar/latex.lark``) and the pass after its lexer are those of
``symcalc.language.latex``; this builder makes the nodes with the matrix layer's canonical
constructors (``build``, ``ops``), so ``\\frac{1}{2}\\|A\\mathbf{t} - \\mathbf{b}\\|^2`` is the
node of ``norm(A@t - b)^2/2`` typed in symcalc's language.

Reading rules, as papers write them (scalar parts read as in ``symcalc.language.latex``):

* ``\\mathbf{x}``, ``\\boldsymbol{\\theta}``, ``\\bm{W}``, ``\\vec{x}`` and plain names are the
  names declared in ``shapes=``; a bold name that is not declared is refused.  ``W_{1}`` is
  ``W1`` when ``W1`` is declared and ``W_1`` is not (symcalc prints ``W1`` so).
  ``\\mathbf{1}_{n}``, ``\\mathbf{0}_{m \\times n}`` are ``ones``/``zeros`` and ``I_{n}`` is
  ``eye(n)``; ``\\mathbf{1}^\\top x`` (no size needed) is ``sum(x)``.
* ``x^\\top``, ``x^T``, ``x^{\\mathsf{T}}``, ``x^{\\intercal}``: the transpose; ``A^{-1}`` is
  ``inv(A)``, ``A^{-\\top}`` is ``inv(A).T``.
* Factors side by side are the matrix product, a vector being a column unless written with a
  transpose: ``A x``, ``x^\\top A y``, ``w^\\top x + b``, ``x y^\\top`` (the outer product); a
  scalar beside a vector or matrix scales it.  ``\\odot`` and ``*`` are the entrywise product,
  ``/`` and ``\\frac`` divide entrywise; ``\\cdot`` of two vectors is their dot product and
  scales when one side is a scalar.
* ``\\|x\\|``, ``\\|x\\|_2``: the 2-norm of a vector; ``\\|A\\|_F``: the Frobenius norm.
  ``\\operatorname{tr}``, ``\\mathrm{tr}``, ``\\det``, ``\\log\\det``, ``\\operatorname{diag}``,
  ``\\operatorname{sum}``, ``\\operatorname{softmax}``; every scalar function (``\\sigma``,
  ``\\exp``, ``e^{...}``, ``\\log``, ...) acts entrywise.  ``A^{\\circ 2}`` is the entrywise power.

Refused, naming both readings: a power of a matrix (``A^2``: ``A A`` or ``A^{\\circ 2}``),
``\\|A\\|`` of a matrix (Frobenius or spectral norm), ``|x|`` of a vector (norm or entrywise
absolute value), ``A \\cdot B`` with a matrix (matrix or entrywise product), ``A^T`` when ``T`` is
declared, and the scalar reader's ambiguities (``\\sin x y``, ``a/bc``).  Two column vectors side
by side (``x y``) are refused with the forms to write instead.
"""

from __future__ import annotations

from typing import Callable, Optional

from lark import Lark, Token

from ..language import latex as li
from ..errors import SymcalcError
from ..core.expr import E, PI, Num, Symbol
from ..functions.elementary import REGISTRY, lookup
from ..language.parser import PHRASING, _Fault, _number, canonical_name, grammar_path
from . import build, numpy_ops, ops
from .convert import from_scalar, scalar_form
from .nodes import MatrixExpr
from .operations import AXIS_FUNCTIONS, FUNCTIONS
from .parsing import check_shapes
from .shapes import ShapeError

_ERRORS = (ShapeError, SymcalcError, TypeError, ValueError, ZeroDivisionError)


class _ShapeFault(_Fault):
    """A fault from the matrix layer (a ``ShapeError`` keeps its class), located at a token."""

    def __init__(self, error: Exception, token: Token):
        super().__init__(getattr(error, "reason", None) or str(error), token)
        self.error = error if isinstance(error, ShapeError) else None


class _V:
    """A value while reading: its node, the token it starts at (for carets), whether a vector
    is written as a row (``x^\\top``, ``x^\\top A``), and its form: ``""``, ``"called"`` (a call
    with parentheses), ``"bare"`` (a function without them; ``parts`` = (argument, rebuild)),
    ``"side"`` (factors side by side; ``parts`` = the factors), ``"top"``/``"-top"`` (the
    exponents ``\\top`` and ``-\\top``), ``"ones"``/``"zeros"`` (``\\mathbf{1}`` without a size)."""

    __slots__ = ("expr", "tok", "row", "form", "parts")

    def __init__(self, expr: Optional[MatrixExpr], tok: Token, row: bool = False, form: str = "",
                 parts=None):
        self.expr, self.tok, self.form, self.parts = expr, tok, form, parts
        self.row = row and expr is not None and expr.ndim == 1 or (row and expr is None)


def _fault(error: Exception, tok: Token) -> _Fault:
    return _ShapeFault(error, tok)


def _expr(v: _V) -> MatrixExpr:
    """The node of ``v``; a transpose sign or an unsized ``\\mathbf{1}`` alone is refused."""
    if v.expr is not None:
        return v.expr
    if v.form in ("top", "-top"):
        raise _Fault("\\top marks a transpose: write it as an exponent, x^\\top", v.tok)
    digit = "1" if v.form == "ones" else "0"
    raise _Fault(f"\\mathbf{{{digit}}} needs its size here: \\mathbf{{{digit}}}_{{n}} or "
                 f"\\mathbf{{{digit}}}_{{m \\times n}}"
                 + (" (\\mathbf{1}^\\top x is the sum of x)" if digit == "1" else ""), v.tok)


def _sizes(tok: Token) -> list:
    """The sizes in a subscript: ``_{n}`` -> [n], ``_{m \\times n}``, ``_{m,n}`` -> [m, n]."""
    inner = tok.value[1:].strip()
    if inner.startswith("{"):
        inner = inner[1:-1]
    parts = [p.split() for p in inner.replace("\\times", ",").split(",")]  # m p: a product
    if not parts or len(parts) > 2 or not all(p and all(f.isalnum() for f in p) for p in parts):
        raise _Fault("a size is a name or a positive integer: _{n}, _{m \\times n}", tok)
    return [int(p[0]) if len(p) == 1 and p[0].isdigit() else "*".join(p) for p in parts]


def _is_number(e: MatrixExpr, value) -> bool:
    return e.kind == "number" and e.data == value


def _bold(name: str) -> str:
    return f"\\mathbf{{{name}}}"


class _ShapedBuilder(li.ItemRules):
    """One method per grammar alias of ``grammar/latex.lark``, building matrix-layer nodes."""

    # --- leaves ---------------------------------------------------------------------------------
    def number(self, children: list) -> _V:
        return _V(from_scalar(_number(children[0].value)), children[0])

    def name(self, children: list) -> _V:
        tok, sub = children[0], (children[1] if len(children) > 1 else None)
        shapes = li.SHAPES.get() or {}
        if tok.value == li._TRANSPOSE_MARK:
            return _V(None, tok, form="top")
        bold = tok.value.startswith("bold:")
        raw, typed = tok.value[5:].split("|", 1) if bold else (tok.value, tok.value)
        try:
            if raw in ("0", "1"):
                if sub is None:
                    return _V(None, tok, form="ones" if raw == "1" else "zeros")
                return _V((ops.ones if raw == "1" else ops.zeros)(*_sizes(sub)), tok)
            if raw == "I" and sub is not None and "I" not in shapes \
                    and canonical_name(raw + "_" + li._subscript(sub)) not in shapes:
                return _V(ops.eye(*_sizes(sub)), tok)
            text = canonical_name(raw + ("_" + li._subscript(sub) if sub is not None else ""))
            if text not in shapes and sub is not None and li._subscript(sub).isdigit() \
                    and canonical_name(raw + li._subscript(sub)) in shapes:
                text = canonical_name(raw + li._subscript(sub))  # W1, which prints as W_{1}
            if text in shapes:
                return _V(ops.symbol(text, shapes[text]), tok)
            if bold and sub is not None and canonical_name(raw) in shapes:
                raise _Fault(f"{typed} with an index: {text} is not declared, and the entries "
                             f"of {raw} are not read one by one; write the formula with {raw} "
                             f"whole, or declare {text}", tok)
            if bold:
                raise _Fault(self._undeclared(raw, typed, text, shapes), tok)
            if sub is None and raw in ("e", "pi"):
                return _V(from_scalar(E if raw == "e" else PI), tok)
            return _V(ops.symbol(text), tok)
        except _ERRORS as exc:
            raise _fault(exc, tok) from None

    @staticmethod
    def _undeclared(raw: str, typed: str, name: str, shapes: dict) -> str:
        declare = PHRASING.get().shapes
        if len(raw) > 1 and all(c in shapes for c in raw):
            spelled = " ".join(_bold(c) for c in raw)
            return (f"{typed} has two readings: a name {raw} (not declared) or {spelled}; "
                    f"write {spelled}, or declare {raw}")
        return f"{typed}: {name} is not declared as a vector or matrix; {declare}"

    # --- sums and products ----------------------------------------------------------------------
    def start(self, children: list):
        node = _expr(children[0])
        plain = scalar_form(node)  # a formula of scalars is the scalar engine's expression
        return node if plain is None else plain

    def start_chain(self, children: list) -> list:
        return children

    def extend_chain(self, children: list) -> list:
        chain, op, item = children
        chain.extend((op, item))
        return chain

    def sum(self, children: list) -> _V:
        chain = children[0]
        expr, rows = _expr(chain[0]), [chain[0].row]
        for op, term in zip(chain[1::2], chain[2::2]):
            t = _expr(term)
            try:
                expr = build.add(expr, t if op.value == "+" else build.negate(t))
            except _ERRORS as exc:
                raise _fault(exc, op) from None
            rows.append(term.row)
        return _V(expr, chain[0].tok, row=all(rows))

    def product(self, children: list) -> _V:
        chain = children[0]
        for k in range(1, len(chain), 2):
            right = chain[k + 1]
            if chain[k].value == "/" and right.form == "side":
                left = self.product([chain[:k]]) if k > 1 else chain[0]
                first, *rest = right.parts
                one = self._reading(lambda: self._juxtapose(
                    [_V(build.divide(_expr(left), _expr(first)), left.tok), *rest]))
                two = self._reading(lambda: build.divide(_expr(left), _expr(right)))
                raise _Fault(f"'/' before factors side by side has two readings: {one} or {two}; "
                             f"write \\frac{{...}}{{...}} or parentheses", chain[k])
        acc = chain[0]
        for op, item in zip(chain[1::2], chain[2::2]):
            acc = self._operator(acc, op, item)
        return acc

    @staticmethod
    def _reading(make: Callable) -> str:
        try:
            value = make()
        except (_Fault, *_ERRORS):
            return "(not defined)"
        return str(value.expr if isinstance(value, _V) else value)

    def _operator(self, left: _V, op: Token, right: _V) -> _V:
        a, b = _expr(left), _expr(right)
        sign = op.value
        try:
            if sign in ("*", "\\odot"):
                result = build.mul(a, b)
            elif sign == "\\otimes":
                result = numpy_ops.kron(a, b)
            elif sign == "/":
                result = build.divide(a, b)
            elif not a.shape or not b.shape:
                result = build.mul(a, b)
            elif sign == "\\cdot" and a.ndim == 1 and b.ndim == 1:
                result = build.matmul(a, b)
            elif a.ndim == 1 and b.ndim == 1:
                raise SymcalcError(f"{sign} of two vectors would be the cross product, which "
                                   f"symcalc does not have: write x^\\top y for the dot product "
                                   f"or x \\odot y for the entrywise product")
            else:
                products = self._reading(lambda: build.matmul(a, b))
                entrywise = self._reading(lambda: build.mul(a, b))
                raise SymcalcError(f"{sign} between {build.describe(a)} and {build.describe(b)} "
                                   f"has two readings: the matrix product {products} or the "
                                   f"entrywise product {entrywise}; write the factors side by "
                                   f"side (A B) or with \\odot")
        except _ERRORS as exc:
            raise _fault(exc, op) from None
        row = left.row if a.shape else right.row
        return _V(result, left.tok, row=row and (left.row or not a.shape)
                  and (right.row or not b.shape))

    def signed(self, children: list) -> _V:
        op, operand = children
        if operand.form == "top":
            if op.value == "-":
                return _V(None, op, form="-top")
            return operand
        x = _expr(operand)
        return _V(build.negate(x) if op.value == "-" else x, op, row=operand.row)

    def side_by_side(self, children: list) -> _V:
        items = self.side_by_side_items(children)
        for k, item in enumerate(items[:-1]):
            after = items[k + 1]
            if item.form == "bare" and after.form not in ("bare", "called"):
                rest = items[k + 1:]
                stop = next((j for j, x in enumerate(rest) if x.form in ("bare", "called")),
                            len(rest))
                argument, rebuild = item.parts
                one = self._reading(lambda: self._juxtapose(items))
                two = self._reading(lambda: self._juxtapose(
                    [*items[:k], _V(rebuild(self._juxtapose([argument, *rest[:stop]])), item.tok),
                     *rest[stop:]]))
                if "(not defined)" in (one, two):
                    self._juxtapose(items)  # the factors do not fit: say why
                raise _Fault(f"a function without parentheses before another factor has two "
                             f"readings: {one} or {two}; write the parentheses", item.tok)
        if len(items) == 1:
            only = items[0]
            if only.expr is None or only.form == "paren":
                return only
            return _V(only.expr, only.tok, only.row)
        product = self._juxtapose(items)
        return _V(product.expr, product.tok, product.row, form="side", parts=items)

    def _juxtapose(self, items: list) -> _V:
        """Factors side by side: the scalars scale the product of the others, taken left to
        right (``2 s A B`` is ``2*s*(A@B)``)."""
        scalars = [v for v in items if v.expr is not None and not v.expr.shape]
        others = [v for v in items if v.expr is None or v.expr.shape]
        acc = others[0] if others else scalars.pop(0)
        for item in others[1:]:
            acc = self._beside(acc, item)
        if acc.expr is None:
            _expr(acc)
        if not scalars:
            return acc
        try:
            return _V(build.mul(*(v.expr for v in scalars), acc.expr), items[0].tok, acc.row)
        except _ERRORS as exc:
            raise _fault(exc, scalars[0].tok) from None

    def _beside(self, left: _V, right: _V) -> _V:
        """Two factors side by side, as a paper means them."""
        for v in (left, right):
            if v.form in ("top", "-top", "zeros"):
                _expr(v)
        if left.form == "ones" or right.form == "ones":
            return self._sum_by_ones(left, right)
        a, b = left.expr, right.expr
        try:
            if not a.shape or not b.shape:
                return _V(build.mul(a, b), left.tok, left.row if a.shape else right.row)
            if a.ndim == 2 and b.ndim == 2:
                return _V(build.matmul(a, b), left.tok)
            if a.ndim == 2 and right.row:
                raise SymcalcError(f"a matrix before a row vector ({build.describe(b)} written "
                                   f"with a transpose): write the vector without it, A x")
            if a.ndim == 2:
                return _V(build.matmul(a, b), left.tok)
            if b.ndim == 2 and not left.row:
                raise SymcalcError(f"a column vector before a matrix ({build.describe(a)}): "
                                   f"write its transpose, x^\\top A")
            if b.ndim == 2:
                return _V(build.matmul(a, b), left.tok, row=True)
            if left.row and not right.row:
                return _V(build.matmul(a, b), left.tok)
            if not left.row and right.row:
                return _V(ops.outer(a, b), left.tok)
            kind = "row" if left.row else "column"
            raise SymcalcError(f"two {kind} vectors side by side ({build.describe(a)} and "
                               f"{build.describe(b)}): write x^\\top y for the dot product, "
                               f"x y^\\top for the outer product, or x \\odot y for the entrywise "
                               f"product")
        except _ERRORS as exc:
            raise _fault(exc, right.tok) from None

    @staticmethod
    def _sum_by_ones(left: _V, right: _V) -> _V:
        """``\\mathbf{1}^\\top x`` and ``x^\\top \\mathbf{1}``: the sum of the entries of x."""
        ones, other = (left, right) if left.form == "ones" else (right, left)
        x = other.expr
        fits = x is not None and x.ndim == 1 and (
            (ones is left and left.row and not right.row)
            or (ones is right and left.row and not right.row))
        if not fits:
            _expr(ones)
        return _V(ops.sum_(x), left.tok)

    # --- powers, transposes, roots, fractions ----------------------------------------------------
    def power(self, children: list) -> _V:
        base, op, exponent = children
        shapes = li.SHAPES.get() or {}
        if base.form == "ones" and exponent.form == "top":
            return _V(None, base.tok, row=not base.row, form="ones")
        if exponent.form in ("top", "-top"):
            return self._transpose(base, exponent.form == "-top", op)
        x, k = _expr(base), _expr(exponent)
        entrywise = op.value == "^\\circ"
        try:
            if x is from_scalar(E) and not entrywise:
                return _V(build.apply(REGISTRY["exp"], k), base.tok)
            if x.shape and not entrywise and k.kind == "symbol" and k.data == "T" and not k.shape:
                if "T" not in shapes:
                    return self._transpose(base, False, op)
                raise SymcalcError(f"{x}^T has two readings: the transpose or the power by T "
                                   f"(declared in shapes=); write {x}^\\top for the transpose")
            if x.shape and exponent.form == "paren" and not entrywise:
                raise SymcalcError(f"a superscript in parentheses on {build.describe(x)}: papers "
                                   f"write a layer's index so (W^{{(1)}}); write it as a "
                                   f"subscript, W_1, declared in shapes=")
            if x.ndim == 2 and not entrywise:
                if _is_number(k, -1):
                    return _V(ops.inv(x), base.tok)
                raise SymcalcError(
                    f"a power of a matrix has two readings: the matrix power (the product "
                    f"{x} {x} ...) or the entrywise power ({x}^{k} in symcalc's language); write "
                    f"the factors side by side, or A^{{\\circ {k}}} for the entrywise power")
            result = build.power(x, k)
        except _ERRORS as exc:
            raise _fault(exc, op) from None
        return _V(result, base.tok, row=base.row, form="called" if base.form == "called" else "")

    @staticmethod
    def _transpose(base: _V, inverse: bool, op: Token) -> _V:
        x = _expr(base)
        try:
            if inverse:
                if x.ndim != 2:
                    raise SymcalcError(f"^{{-\\top}} needs a square matrix, not "
                                       f"{build.describe(x)}")
                return _V(build.transpose(ops.inv(x)), base.tok)
            if x.ndim == 2:
                return _V(build.transpose(x), base.tok)
        except _ERRORS as exc:
            raise _fault(exc, op) from None
        return _V(x, base.tok, row=not base.row)

    def root(self, children: list) -> _V:
        tok, *rest = children
        try:
            if len(rest) == 1:
                return _V(build.apply(REGISTRY["sqrt"], _expr(rest[0])), tok)
            index, radicand = (_expr(r) for r in rest)
            return _V(build.power(radicand, build.power(index, from_scalar(Num(-1)))), tok)
        except _ERRORS as exc:
            raise _fault(exc, tok) from None

    def fraction(self, children: list) -> _V:
        tok, num, den = children
        scalar_factors = den.form == "side" and all(not p.expr.shape for p in den.parts
                                                   if p.expr is not None)
        result = _expr(num)
        try:  # \frac{1}{2(b + c)}: divided factor by factor, as a/(b + c)/2 is
            for factor in (den.parts if scalar_factors else [den]):
                result = build.divide(result, _expr(factor))
        except _ERRORS as exc:
            raise _fault(exc, tok) from None
        return _V(result, tok)

    def braced(self, children: list) -> _V:
        return children[1]

    def brace(self, children: list) -> _V:
        inner = children[1]
        if inner.form == "side":
            raise _Fault("braces do not show in print, so {...} does not group factors side by "
                         "side: write \\left( ... \\right)", children[0])
        return inner

    def group(self, children: list) -> _V:
        inner = children[-2] if len(children) > 1 else children[0]
        return inner if inner.expr is None else _V(inner.expr, inner.tok, inner.row, "paren")

    def absolute(self, children: list) -> _V:
        tok, inner = children[0], children[1]
        x = _expr(inner)
        if x.shape:
            raise _Fault(f"|...| of {build.describe(x)} has two readings: the norm \\|...\\| or "
                         f"the entrywise absolute value \\operatorname{{abs}}(...); write one of "
                         f"them", tok)
        return _V(build.apply(REGISTRY["abs"], x), tok)

    def norm(self, children: list) -> _V:
        tok, inner = children[0], children[1]
        x = _expr(inner)
        sub = li._subscript(children[3]) if len(children) > 3 else None
        if x.ndim == 2 and sub is None:
            raise _Fault("\\|...\\| of a matrix has two readings: the Frobenius norm \\|A\\|_F or "
                         "the spectral norm \\|A\\|_2; write \\|A\\|_F for the Frobenius norm", tok)
        if x.ndim == 2 and sub != "F":
            raise _Fault(f"\\|A\\|_{sub} is not available: \\|A\\|_F is the Frobenius norm", tok)
        if x.ndim < 2 and sub not in (None, "2"):
            raise _Fault(f"\\|x\\|_{sub} is not available: \\|x\\| and \\|x\\|_2 are the 2-norm",
                         tok)
        return _V(ops.norm(x), tok)

    # --- functions -----------------------------------------------------------------------------
    def head(self, children: list) -> tuple:
        tok, base, exponent = children[0], None, None
        try:
            if len(children) == 2:  # \log_2, \log_b
                sub = li._subscript(children[1])
                base = from_scalar(Num(int(sub)) if sub.isdigit() else Symbol(canonical_name(sub)))
            elif len(children) == 5:  # \log_{1 + b}
                base = _expr(children[3])
            elif len(children) == 3:
                exponent = _expr(children[2])
        except _ERRORS as exc:
            raise _fault(exc, tok) from None
        if exponent is not None and exponent.kind == "number" and exponent.data < 0:
            raise li.inverse_or_reciprocal(tok, str(exponent), -exponent.data)
        li.only_log_has_a_base(tok, base)
        return tok, base, exponent

    def _apply(self, head: tuple, args: list) -> MatrixExpr:
        tok, base, exponent = head
        keywords = [a for a in args if isinstance(a, tuple)]
        if keywords or tok.value == "max" and len(args) == 1 and _expr(args[0]).shape:
            result = self._along_an_axis(tok, [a for a in args if not isinstance(a, tuple)],
                                         keywords)
            return result if exponent is None else build.power(result, exponent)
        name, xs = tok.value, [_expr(a) for a in args]
        try:
            if base is not None:
                if _is_number(base, 2) or _is_number(base, 10):
                    name = f"log{base.data}"
                else:
                    xs.append(base)
            if name in FUNCTIONS:
                arity = 2 if name in ("outer", "dot") else 1
                if len(xs) != arity:
                    raise SymcalcError(f"{name} takes {arity} argument"
                                       f"{'s' if arity > 1 else ''}, got {len(xs)}")
                result = FUNCTIONS[name](*xs)
            else:
                fn = lookup(name.rstrip("'"))
                if fn is None:
                    raise SymcalcError(f"{name}: abstract functions (functions=) read scalar "
                                       f"formulas only, not formulas with shapes=")
                result = build.apply(fn, *xs)
            return result if exponent is None else build.power(result, exponent)
        except _ERRORS as exc:
            raise _fault(exc, tok) from None

    def call(self, children: list) -> _V:
        head, args = children
        return _V(self._apply(head, args), head[0], form="called")

    def bare_call(self, children: list) -> _V:
        head, argument = children
        return _V(self._apply(head, [argument]), head[0], form="bare",
                  parts=(argument, lambda a: self._apply(head, [_V(a.expr, a.tok)])))

    def _along_an_axis(self, tok: Token, args: list, keywords: list) -> MatrixExpr:
        """``\\operatorname{sum}(X, \\mathrm{axis}=0)``, ``\\max(X)``: one operand and at most
        the keyword ``axis``, an integer."""
        name = tok.value
        if name not in AXIS_FUNCTIONS:
            raise _Fault(f"{name} takes no keyword arguments; \\mathrm{{axis}}= is for "
                         f"{', '.join(sorted(AXIS_FUNCTIONS))}", keywords[0][0])
        if len(args) != 1 or len(keywords) > 1 or keywords and keywords[0][0].value != "axis":
            raise _Fault(f"{name} takes one operand and \\mathrm{{axis}}=: "
                         f"\\operatorname{{{name}}}(X, \\mathrm{{axis}}=0)",
                         keywords[-1][0] if keywords else tok)
        axis = _expr(keywords[0][1]) if keywords else None
        where = keywords[0][0] if keywords else tok
        if axis is not None and not (axis.kind == "number" and isinstance(axis.data, int)):
            raise _fault(ShapeError(f"the axis of {name} must be an integer, not {axis}"), where)
        try:
            return AXIS_FUNCTIONS[name](_expr(args[0]), None if axis is None else axis.data)
        except _ERRORS as exc:
            raise _fault(exc, where) from None

    def first_argument(self, children: list) -> list:
        return [children[0]]

    def keyword_argument(self, children: list) -> list:
        args, name, value = children
        args.append((name, value))
        return args

    def next_argument(self, children: list) -> list:
        args, arg = children
        args.append(arg)
        return args

    def big_sum(self, children: list) -> _V:
        tok, sub, powop, upper, body = children
        plain_body, plain_upper = scalar_form(_expr(body)), scalar_form(_expr(upper))
        if plain_body is None or plain_upper is None:
            raise _Fault("\\sum over an index adds scalar terms: for the entries of a vector write "
                         "\\mathbf{1}^\\top x or \\operatorname{sum}(x)", tok)
        expanded = li._LatexBuilder().big_sum([tok, sub, powop, plain_upper, plain_body])
        shapes = li.SHAPES.get() or {}
        table = {Symbol(n): ops.symbol(n, s) for n, s in shapes.items()}
        try:
            return _V(from_scalar(expanded, table), tok)
        except _ERRORS as exc:
            raise _fault(exc, tok) from None


def _transformer() -> object:
    """The builder as a Lark transformer (one callback per rule alias)."""
    from lark import Transformer

    class _Callbacks(_ShapedBuilder, Transformer):
        pass

    return _Callbacks()


_parser: Optional[Lark] = None


def _get_parser() -> Lark:
    global _parser
    if _parser is None:
        _parser = Lark(grammar_path("latex.lark").read_text(encoding="utf-8"), parser="lalr",
                       lexer="basic", postlex=li._Commands(), transformer=_transformer(),
                       propagate_positions=False, maybe_placeholders=False)
    return _parser


def shaped_parser(shapes) -> tuple[Callable[[], Lark], dict]:
    """The parser of LaTeX with shapes, and ``shapes`` checked (names -> shape tuples)."""
    return _get_parser, check_shapes(shapes)


li.SHAPED.bind(shaped_parser=shaped_parser)  # parse(text, latex=True, shapes=...)
