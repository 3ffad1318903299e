"""Shaped formulas -> readable NumPy source (``ShapedCode``), which ``symcalc.matrix.backends``
runs with NumPy, numexpr or JAX.

The source uses ``@``, ``.T`` and ``np.linalg`` (``solve`` for ``inv(A)@b``, ``slogdet`` for
``logdet``) and stable softmax/logsumexp; the formulas are first put in their numerically
stable forms (``symcalc.matrix.stability``); sizes are read from the arrays passed in and checked
against each other.  A node used more than once is computed once (nodes are interned, so
common subexpressions are found by construction), and so is a chain another chain ends in.
Products are evaluated right to left, so matrix-vector products stay matrix-vector products; a
diagonal matrix that multiplies is never built (``diag(v)@A`` is ``v[:, None] * A``), and a
product through ``diag(p) - outer(p, p)`` is applied term by term.  Only source printed here is
compiled.
"""

from __future__ import annotations

import itertools
import keyword
import re
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Callable, Mapping, Optional

from ..errors import SymcalcError, SymcalcTypeError
from ..compiler import runtime as scalar_runtime
from . import backends, build, ops, runtime
from .fusion import Kernel, fused
from .calculus import AMBIGUOUS, remembered_shapes, to_node, to_variables
from .parsing import check_shapes
from .nodes import MatrixExpr, make, postorder
from .operations import (ATOM, LEAVES, OPERATIONS, POWER, PRODUCT, SUM, UNARY, Form, InProduct,
                         with_args)
from .shapes import ShapeError, dim_factors
from .stability import stable

def _in_product(f: MatrixExpr) -> Optional[InProduct]:
    """How the code applies the matrix ``f`` in a product without building it (its record's
    ``in_product``), else None."""
    op = OPERATIONS.get(f.kind) if f.ndim == 2 else None
    return op.in_product if op is not None else None


def _applied_first(f: MatrixExpr, column: bool) -> Optional[tuple[tuple, Form]]:
    """The operands the code reads and the form for a product that starts with ``f``
    (``column``: the rest of it is a vector), when ``f`` is not built: ``diag(u)``, ``inv(X)``,
    ``inv(X).T``; else None."""
    form = _in_product(f)
    if form is not None:
        return f.args, form.left_of_vector if column else form.left
    if f.kind == "transpose":
        inner = _in_product(f.args[0])
        if inner is not None and inner.transposed is not None:
            return f.args[0].args, inner.transposed
    return None


def _structured_terms(f: MatrixExpr) -> Optional[tuple]:
    """The terms of a sum of matrices that a product applies without building them (diagonal
    matrices, outer products, multiples of ``eye``: the operations marked ``applied``), else
    None."""
    if f.kind != "add" or f.ndim != 2:
        return None
    for t in f.args:
        op = OPERATIONS.get(build.pull_scalars(t)[1].kind)
        if op is None or not op.applied:
            return None
    return f.args


_EXPAND_DEPTH = 4  # nested products of such sums expanded, at most 2**4 terms each


def _applied(roots: list[MatrixExpr], depth: int = 0) -> list[MatrixExpr]:
    """``roots`` with each product through a sum of diagonal matrices and outer products
    written term by term: ``C.T@(diag(p) - outer(p, p))@C -> C.T@diag(p)@C - outer(C.T@p,
    C.T@p)``, so that code scales rows and multiplies by vectors instead of building an
    m x m matrix."""
    new: dict[MatrixExpr, MatrixExpr] = {}
    for node in postorder(roots):
        rebuilt = with_args(node, tuple(new[a] for a in node.args))
        if rebuilt.kind == "matmul" and depth < _EXPAND_DEPTH:
            factors = rebuilt.args
            for k, f in enumerate(factors):
                terms = _structured_terms(f)
                if terms is not None:
                    expanded = build.add(*(build.chain(factors[:k] + (t,) + factors[k + 1:])
                                           for t in terms))
                    rebuilt = _applied([expanded], depth + 1)[0]
                    break
        new[node] = rebuilt
    return [new[r] for r in roots]


_SHAREABLE = frozenset({"apply", "add", "mul", "pow", "matmul"})


def _shared_transposes(roots: list[MatrixExpr]) -> list[MatrixExpr]:
    """``roots`` where a matrix whose transpose the code also computes is read as that one's
    ``.T``: the normal form pushes transposes inside, so ``tanh(X@W).T`` is ``tanh(W.T@X.T)``,
    which would compute the hidden layer of a network twice.  Of the two, the one written with
    fewer transposes is computed.  One pass: each node's transpose is built from its children's."""
    order = list(postorder(roots))
    present = set(order)
    transposes: dict[MatrixExpr, int] = {}  # transposes written in a node, each shared one once per use
    for node in order:
        own = node.kind == "transpose"
        transposes[node] = min(_MANY, own + sum(transposes[a] for a in node.args))
    transposed: dict[MatrixExpr, MatrixExpr] = {}
    computed: dict[MatrixExpr, MatrixExpr] = {}  # node -> the transpose whose .T it becomes
    for node in order:
        if node.ndim != 2 or node.kind not in _SHAREABLE:
            continue
        flipped = build.transpose_node(node, lambda c: transposed.get(c) or build.transpose(c))
        transposed[node] = flipped
        if flipped is not node and flipped in present and flipped not in computed:
            keep, drop = sorted((node, flipped),
                                key=lambda n: (transposes[n], build.sort_key(n)))
            computed[drop] = keep
    if not computed:
        return roots
    rebuilt: dict[MatrixExpr, MatrixExpr] = {}
    stack = [(r, False) for r in roots]
    while stack:  # children first, without recursion; a dropped node's child is its transpose
        node, expanded = stack.pop()
        if node in rebuilt:
            continue
        children = (computed[node],) if node in computed else node.args
        if not expanded:
            stack.append((node, True))
            stack.extend((c, False) for c in children if c not in rebuilt)
        elif node in computed:
            rebuilt[node] = make("transpose", (rebuilt[computed[node]],), node.shape)
        else:
            args = tuple(rebuilt[a] for a in node.args)
            rebuilt[node] = node if args == node.args else make(node.kind, args, node.shape, node.data)
    return [rebuilt[r] for r in roots]


_MANY = 1 << 30  # counts of transposes are capped: a tree count of a DAG can grow exponentially


def _factors(node: MatrixExpr, shared: Mapping[MatrixExpr, tuple]) -> tuple:
    """The factors code multiplies for a chain: its own, or those before a suffix chain that
    the code computes anyway (``x@A.T@A@x`` reads ``A.T@(A@x)`` when that is computed too)."""
    return shared.get(node, node.args)


def _code_args(node: MatrixExpr, shared: Mapping[MatrixExpr, tuple] = {}) -> tuple:
    """The nodes the generated code for ``node`` reads (a solve reads X, not inv(X))."""
    if node.kind != "matmul":
        return node.args
    factors = _factors(node, shared)
    out = []
    for k, f in enumerate(factors):
        applied = _applied_first(f, False) if k < len(factors) - 1 else None
        out.extend(applied[0] if applied else (f,))
    return tuple(out)


def _code_order(roots: list[MatrixExpr],
                shared: Mapping[MatrixExpr, tuple] = {}) -> list[MatrixExpr]:
    order, seen = [], set()
    stack = [(r, False) for r in reversed(roots)]
    while stack:
        node, expanded = stack.pop()
        if expanded:
            order.append(node)
        elif node not in seen:
            seen.add(node)
            stack.append((node, True))
            stack.extend((c, False) for c in reversed(_code_args(node, shared)) if c not in seen)
    return order


def _shared_suffixes(order: list[MatrixExpr]) -> dict[MatrixExpr, tuple]:
    """For each chain whose right part is another chain of the code, the factors before it and
    that chain, so that the product is computed once."""
    chains = {n.args: n for n in order if n.kind == "matmul"}
    shared = {}
    for node in chains.values():
        for k in range(1, len(node.args) - 1):
            suffix = chains.get(node.args[k:])
            if suffix is not None:
                shared[node] = node.args[:k] + (suffix,)
                break
    return shared


_TEMP = re.compile(r"_\d+")  # a value the code computed once, by name


class _Printer:
    def __init__(self, params: Mapping[MatrixExpr, str], vector_first: bool = False):
        self.params = params
        self.vector_first = vector_first  # M.T@v printed v@M
        self.src: dict[MatrixExpr, tuple[str, int]] = {}
        self.factors: Mapping[MatrixExpr, tuple] = {}

    def get(self, node: MatrixExpr, least: int) -> str:
        text, prec = self.src[node]
        return f"({text})" if prec < least else text

    @staticmethod
    def size(dim) -> str:
        if isinstance(dim, int):
            return str(dim)
        factors = [str(f) if isinstance(f, int) else f"_size[{f!r}]" for f in dim_factors(dim)]
        return factors[0] if len(factors) == 1 else "(" + " * ".join(factors) + ")"

    @staticmethod
    def number(value) -> tuple[str, int]:
        value = Fraction(value)
        text = str(value.numerator) if value.denominator == 1 else repr(float(value))
        return text, (UNARY if value < 0 else ATOM)

    def term(self, node: MatrixExpr) -> tuple[str, int, bool]:
        """Source of a product without its sign, and whether it was negative."""
        factors = node.args if node.kind == "mul" else (node,)
        coeff = Fraction(factors[0].data) if factors[0].kind == "number" else Fraction(1)
        rest = factors[1:] if factors[0].kind == "number" else factors
        parts = [self.number(abs(coeff))[0]] if abs(coeff) != 1 or not rest else []
        parts += [self.get(f, POWER) if parts or len(rest) > 1 else self.src[f][0] for f in rest]
        return " * ".join(parts), (PRODUCT if len(parts) > 1 else self.src[rest[0]][1]
                                   if rest else ATOM), coeff < 0

    def visit(self, node: MatrixExpr) -> tuple[str, int]:
        kind, args = node.kind, node.args
        if kind == "symbol":
            return self.params[node], ATOM
        if kind == "number":
            return self.number(node.data)
        if kind == "constant":
            return f"np.{node.data}", ATOM
        if kind in LEAVES:
            return OPERATIONS[kind].numpy.leaf([self.size(d) for d in node.shape])
        if kind == "add":
            pieces = []
            for i, t in enumerate(args):
                text, prec, negative = self.term(t)
                text = f"({text})" if prec < PRODUCT else text
                pieces.append((" - " if negative else " + ") + text if i else
                              ("-" if negative else "") + text)
            return "".join(pieces), SUM
        if kind == "mul":
            text, prec, negative = self.term(node)
            return ("-" + text, UNARY) if negative else (text, prec)
        if kind == "pow":
            return f"{self.get(args[0], ATOM)} ** {self.get(args[1], ATOM)}", POWER
        if kind == "matmul":
            return self.chain(_factors(node, self.factors)), PRODUCT
        if kind == "apply":
            return node.data.numpy([self.src[a][0] for a in args]), ATOM
        if kind == "trace" and args[0].kind == "matmul" and len(args[0].args) == 2:
            p, q = args[0].args  # trace(P@Q) = sum(P*Q.T): no product of matrices
            if not _TEMP.fullmatch(self.src[args[0]][0]) and _in_product(p) is None:
                q_t = (self.get(q.args[0], ATOM) if q.kind == "transpose"
                       else self.get(q, ATOM) + ".T")
                return f"np.sum({self.get(p, POWER)} * {q_t})", ATOM
        if kind == "sum" and args[0].kind == "ones":  # a count of entries (a mean's gradient)
            return " * ".join(self.size(d) for d in args[0].shape), PRODUCT
        if kind == "kernel":  # a fused entrywise part (symcalc.matrix.fusion)
            return f"{node.data}({', '.join(self.src[a][0] for a in args)})", ATOM
        texts = [self.src[a] for a in args]
        if kind == "einsum" and self.vector_first:  # JAX's einsum orders it when it traces
            text, prec = OPERATIONS[kind].jax.write(texts, lambda t: f"({t})", node)
            return "np." + text[len("jnp."):], prec  # the printed source calls jax.numpy np
        return OPERATIONS[kind].numpy.write(texts, lambda t: f"({t})", node)

    def chain(self, factors: tuple) -> str:
        """Right to left, so that matrix-vector products stay matrix-vector products; a diagonal
        matrix scales rows or columns and is never built."""
        column = factors[-1].ndim == 1  # everything right of a factor is then a vector
        last = factors[-1]
        paren = lambda t: f"({t})"  # noqa: E731
        ending = _in_product(last)
        # M@diag(u) = M * u (not when M is applied itself: inv(X)@diag(u) is a solve)
        if ending is not None and ending.right is not None \
                and _applied_first(factors[-2], False) is None:
            factors = factors[:-1]
            acc, prec = ending.right.write([self.src[last.args[0]], self.src[factors[-1]]], paren)
        else:
            acc, prec = self.src[last]
        for f in reversed(factors[:-1]):
            wrapped = acc if prec > PRODUCT else f"({acc})"
            applied = _applied_first(f, column)
            if applied is not None:  # diag(u)@M = u[:, None] * M, inv(X)@M = solve(X, M)
                operands, form = applied
                acc, prec = form.write([self.src[a] for a in operands] + [(acc, prec)], paren)
            elif self.vector_first and column and f.kind == "transpose" and f.args[0].ndim == 2:
                # M.T@v as v@M: XLA copies a transposed matrix that multiplies a vector
                left = acc if prec >= PRODUCT else f"({acc})"
                acc, prec = f"{left} @ {self.get(f.args[0], POWER)}", PRODUCT
            else:
                acc, prec = f"{self.get(f, POWER)} @ {wrapped}", PRODUCT
        return acc


# Names the printed function refers to (NumPy, the helpers it may call, the error the
# standalone size check raises): a parameter must not shadow them.
_RESERVED = frozenset({"np", "ShapeError"} | {
    name for module in (scalar_runtime, runtime) for name, value in vars(module).items()
    if callable(value) and not name.startswith("_")})


def parameter_names(symbols: list[MatrixExpr]) -> dict[MatrixExpr, str]:
    """A valid, distinct Python parameter name for each symbol (``lambda -> lambda_``)."""
    names, taken = {}, set()
    for s in symbols:
        name = s.data
        if not (name.isascii() and name.isidentifier()) or keyword.iskeyword(name) or \
                name.startswith("_") or name in _RESERVED:
            name = "".join(ch if ch.isascii() and (ch.isalnum() or ch == "_") else "v"
                           for ch in name).lstrip("_") + "_"
        base, k = name, 1
        while name in taken:
            name, k = f"{base}{k}", k + 1
        taken.add(name)
        names[s] = name
    return names


def _flatten(obj: Any, shapes) -> tuple[list[MatrixExpr], Any]:
    """Roots in order and the nesting to rebuild (an index for each root)."""
    roots: list[MatrixExpr] = []

    def walk(o):
        if isinstance(o, (list, tuple)):
            return [walk(x) for x in o]
        roots.append(to_node(o, shapes))
        return len(roots) - 1

    return roots, walk(obj)


def _remembered(roots: list[MatrixExpr]) -> dict[str, object]:
    """The shapes of names the roots were derived with but do not mention, as one table."""
    table: dict[str, object] = {}
    for r in roots:
        for name, shape in remembered_shapes(r).items():
            table[name] = shape if table.get(name, shape) == shape else AMBIGUOUS
    return table


def _nested_source(layout, names: list[str]) -> str:
    if isinstance(layout, int):
        return names[layout]
    return "[" + ", ".join(_nested_source(x, names) for x in layout) + "]"


@dataclass(frozen=True)
class ShapedCode:
    """The printed function of shaped formulas, before a backend runs it.

    ``text`` is ``def name(...): ...`` calling NumPy as ``np`` and its helpers by name: those of
    ``symcalc.compiler.runtime`` (``helpers``), of ``symcalc.matrix.runtime`` (``matrix_helpers``)
    and the fused kernels (``kernels``, only when asked for).  ``names`` and ``shapes`` are the
    variables' names and shapes (None for a variable whose shape is not known and not used).
    """

    name: str
    text: str
    helpers: tuple[str, ...]
    matrix_helpers: tuple[str, ...]
    kernels: tuple[Kernel, ...]
    names: tuple[str, ...]
    shapes: tuple[Optional[tuple], ...]


_HELPER = re.compile(r"(?<![\w.])(_m?rt)\.([A-Za-z]\w*)")


def shaped_code(exprs: Any, variables: Any, shapes: Optional[Mapping] = None, name: str = "f",
                fuse: bool = False, vector_first: bool = False) -> ShapedCode:
    """The function computing the shaped ``exprs`` from ``variables``; ``fuse``: with each
    entrywise part worth fusing a kernel (``symcalc.matrix.fusion``, for numexpr);
    ``vector_first``: a transposed matrix times a vector printed as the vector times the matrix
    (``A.T@v`` as ``v@A``), which XLA computes without copying ``A.T``."""
    roots, layout = _flatten(exprs, shapes)
    free = set().union(*(r.free_symbols for r in roots))
    probe = roots[0]
    for r in roots[1:]:
        probe = probe if len(probe.free_symbols) >= len(r.free_symbols) else r
    symbols = []
    by_name = {}
    for s in free:
        by_name.setdefault(s.data, s)
    declared = set(check_shapes(shapes or {}))
    remembered = _remembered(roots)
    unchecked = set()  # variables the formula does not use and whose shape is not known
    for v in (variables.replace(",", " ").split() if isinstance(variables, str) else variables):
        key = v.data if isinstance(v, MatrixExpr) else str(v).strip()
        if key in by_name:
            symbol = by_name[key]
        elif key in declared or isinstance(v, MatrixExpr) or key not in remembered:
            symbol = to_variables(probe, [v], shapes)[0]
            if key not in declared and not isinstance(v, MatrixExpr):
                unchecked.add(symbol)
        elif remembered[key] == AMBIGUOUS:
            raise ShapeError(f"{key} does not occur in the formula, and the formulas it was "
                             f"derived from gave {key} different shapes: pass shapes={{{key!r}: ...}}")
        else:  # a variable the result no longer mentions (the Hessian of 0.5*t@t is eye(n))
            symbol = ops.symbol(key, remembered[key])
        symbols.append(symbol)
    if len(set(symbols)) != len(symbols):
        raise SymcalcError(f"a variable is listed twice in {[s.data for s in symbols]}")
    missing = sorted(s.data for s in free if s not in symbols)
    if missing:
        raise SymcalcError(f"the formula uses {', '.join(missing)}, which the variables "
                         f"{[s.data for s in symbols]} do not include")
    # the sizes the arrays give: plain names (a product m*p is checked, not read)
    bound = {d for s in symbols for d in s.shape if isinstance(d, str) and "*" not in d}
    for node in postorder(roots):
        for d in node.shape:
            missing = [f for f in dim_factors(d) if isinstance(f, str) and f not in bound]
            if node.kind in LEAVES and missing:
                d = missing[0]
                raise SymcalcError(f"size {d} is not the size of any variable, so the generated "
                                 "code cannot know it")
    roots = _shared_transposes(_applied(stable(roots)))
    kernels: list[Kernel] = []
    if fuse:
        roots, kernels = fused(roots)
    params = parameter_names(symbols)
    printer = _Printer(params, vector_first)
    shared = _shared_suffixes(_code_order(roots))
    printer.factors = shared
    order = _code_order(roots, shared)
    uses: dict[MatrixExpr, int] = {}
    for node in order:
        for c in set(_code_args(node, shared)):
            uses[c] = uses.get(c, 0) + 1
    for r in roots:
        uses[r] = uses.get(r, 0) + 1
    body, counter = [], itertools.count(1)
    for node in order:
        printer.src[node] = printer.visit(node)
        if uses.get(node, 0) > 1 and node.args and printer.src[node][1] < ATOM or (
                uses.get(node, 0) > 1 and (node.kind in ("apply", "kernel") or
                                           node.kind in OPERATIONS and OPERATIONS[node.kind].reuse)):
            temp = f"_{next(counter)}"
            body.append(f"{temp} = {printer.src[node][0]}")
            printer.src[node] = (temp, ATOM)
    args = ", ".join(params[s] for s in symbols)
    one = "," if len(symbols) == 1 else ""
    names = tuple(s.data for s in symbols)
    dims = tuple(None if s in unchecked else tuple(s.shape) for s in symbols)
    lines = [f"def {name}({args}):"]
    if symbols:
        lines.append(f"    ({args}{one}), _size = _mrt.bind(({args}{one}), "
                     f"({', '.join(map(repr, names))}{one}), "
                     f"({', '.join(map(repr, dims))}{one}))")
    lines += [f"    {line}" for line in body]
    lines.append(f"    return {_nested_source(layout, [printer.src[r][0] for r in roots])}")
    text = "\n".join(lines) + "\n"
    called = {"_rt": set(), "_mrt": set()}
    for module, helper in _HELPER.findall(text):
        called[module].add(helper)
    return ShapedCode(name, _HELPER.sub(r"\2", text), tuple(sorted(called["_rt"])),
                      tuple(sorted(called["_mrt"])), tuple(kernels), names, dims)


def imported_source(code: ShapedCode) -> str:
    """``code`` as a module that imports its helpers from symcalc (``symcalc.compiler`` writes
    them out instead)."""
    imports = ["import numpy as np"]
    if code.helpers:
        imports.append(f"from symcalc.compiler.runtime import {', '.join(code.helpers)}")
    if code.matrix_helpers:
        imports.append(f"from symcalc.matrix.runtime import {', '.join(code.matrix_helpers)}")
    return "\n".join(imports) + "\n\n\n" + code.text


def codegen(exprs: Any, variables: Any, shapes: Optional[Mapping] = None, name: str = "f") -> str:
    """The Python source of a NumPy function computing the shaped ``exprs``, importing its
    helpers from symcalc (``symcalc.compiler`` gives standalone source)."""
    return imported_source(shaped_code(exprs, variables, shapes, name))


def lambdify(exprs: Any, variables: Any, shapes: Optional[Mapping] = None,
             backend: str = "numpy", *, dtype: Any = float, packed: Any = False,
             compile_kernel: Optional[Callable] = None,
             source_of: Optional[Callable[[ShapedCode], str]] = None) -> Callable[..., Any]:
    """A function of the arrays ``variables`` (in that order) computing ``exprs``.

    Sizes are read from the arrays; an array with the wrong number of axes, or whose sizes
    disagree with another's, raises a ``ShapeError`` naming the size.  A variable the result no
    longer mentions (the Hessian of ``0.5*t@t`` is ``eye(n)``) is checked with the shape it had
    in the formula the result was derived from.  A list of expressions gives a list of arrays.
    ``f.source`` is the source (of the NumPy function, on every backend; ``f.code.text`` is
    what the backend runs).  ``backend``, ``dtype`` and ``packed`` as for
    ``symcalc.lambdify`` (see ``symcalc.matrix.backends``); ``compile_kernel(expr, symbols)``
    compiles a fused entrywise part for ``backend="numexpr"``; ``source_of`` gives the source
    shown (by default the function importing its helpers from symcalc).
    """
    if not isinstance(variables, (str, list, tuple)):
        raise SymcalcTypeError(f"variables must be a list of names, not {type(variables).__name__}")
    if backend not in backends.BACKENDS:
        raise SymcalcError(f"unknown backend {backend!r}; the backends are "
                           f"{', '.join(map(repr, backends.BACKENDS))}")
    if backend == "numexpr" and compile_kernel is None:
        raise SymcalcError('backend="numexpr" for shaped formulas: call symcalc.lambdify')
    code = shaped_code(exprs, variables, shapes, fuse=backend == "numexpr",
                       vector_first=backend == "jax")
    # the source shown is the NumPy function's, which the other backends' compute the same as
    plain = code if backend == "numpy" else shaped_code(exprs, variables, shapes)
    source = (source_of or imported_source)(plain)
    return backends.function(code, source, backend, dtype, packed, compile_kernel)
