"""The numexpr backend: a ``Program`` -> fused numexpr kernels, run by a generated function.

``lambdify(e, vars, backend="numexpr")`` compiles the same stabilised ``Program`` as the NumPy
backend, but evaluates it as a few large numexpr expressions (kernels) rather than one NumPy call
per operation: numexpr runs a kernel block by block, in cache and on several threads, so the
intermediate values inside a kernel never become arrays.

A node is computed into an array of its own (a kernel's result or a NumPy call's) only where it
must be: an output; a call of a function whose registry entry has no numexpr form (``logsumexp``,
``erf``: computed with NumPy and ``symcalc.compiler.runtime``), and each argument of one; a node
that more than one kernel uses, so that it is computed once; and where a kernel would pass
numexpr's limits (inputs per expression, 255 registers) or grow too long to compile, the largest
parts are split off and wide sums and products are computed in chunks.  A node used more than once
inside one kernel is written at each use: numexpr's compiler computes equal subexpressions once.

Each kernel is compiled once, when the function is made (``numexpr.NumExpr``); a call only runs
them.  At a single point the NumPy backend's function is called, which is faster there.
numexpr is imported only when this backend is asked for.
"""

from __future__ import annotations

import itertools
import linecache
import math
import re
import weakref
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Optional, Sequence

import numpy as np

from .. import runtime
from ..helper_source import _HELPER_CALL, helper_source, parameter_names
from ...errors import SymcalcError
from ..generated import compile_source
from ...core.expr import Add, Call, Constant, Expr, Mul, Num, Pow, Symbol, postorder
from ...matrix import api as _matrix
from ..numpy_printer import numeric_power
from ..program import Outputs, Program, program

SUM, PRODUCT, UNARY, POWER, ATOM = range(5)  # Python precedence, which numexpr's parser shares
_MAX_REGISTERS = 240  # numexpr has 255: the output, inputs, constants and temporaries
_MAX_TEXT = 6000  # characters of a kernel: compiling longer ones costs more than an array
_MAX_DEPTH = 60  # nesting of a kernel (Python's parser allows 200 parentheses)
_MAX_REPEATED = 8  # a node used twice is computed at each use only when cheaper (see _cost)


def import_numexpr() -> Any:
    """The numexpr module, or a SymcalcError saying how to install it."""
    try:
        import numexpr
    except ImportError:
        raise SymcalcError('backend="numexpr" needs the numexpr package: '
                           'pip install "symcalc[numexpr]"') from None
    return numexpr


def max_inputs() -> int:
    """Arrays one numexpr expression may read: NumPy's iterator takes 32 operands (64 since
    NumPy 2), one of them the output."""
    return (64 if int(np.__version__.split(".")[0]) >= 2 else 32) - 1


@dataclass(frozen=True)
class _Piece:
    """A node as numexpr source, with what compiling it takes: the arrays it reads, its distinct
    constants and operations (each one register at most), and its nesting."""

    text: str
    prec: int
    inputs: frozenset[str] = frozenset()
    constants: frozenset[float] = frozenset()
    operations: frozenset[Any] = frozenset()  # inlined nodes, and (node, k) for a form's extras
    depth: int = 0

    def at_least(self, prec: int) -> str:
        return self.text if self.prec >= prec else f"({self.text})"

    @property
    def is_name(self) -> bool:
        return not self.operations and not self.constants and self.prec == ATOM

    def registers(self) -> int:
        return 1 + len(self.inputs) + len(self.constants) + len(self.operations)


def _joined(text: str, prec: int, parts: Sequence[_Piece], own: Iterable[Any],
            depth: int = 1) -> _Piece:
    """The piece ``text`` built from ``parts`` with the operations ``own``."""
    return _Piece(text, prec, frozenset().union(*(p.inputs for p in parts)),
                  frozenset().union(*(p.constants for p in parts)),
                  frozenset(own).union(*(p.operations for p in parts)),
                  depth + max((p.depth for p in parts), default=0))


_EVERYWHERE = object()  # the owner of a cheap node that several kernels compute


def _cheap(node: Expr) -> bool:
    """One operation with a number (``-t``, ``2*t``, ``t + 1``, ``t**2``): cheaper to compute in
    each kernel that uses it than to store as an array."""
    return (isinstance(node, (Add, Mul, Pow)) and len(node.args) == 2
            and any(constant_value(a) is not None for a in node.args))


def _cost(node: Expr) -> int:
    """About how many multiplications one operation costs."""
    if isinstance(node, Call) or (isinstance(node, Pow) and constant_value(node.exponent) is None):
        return 10
    return 1


def constant_value(node: Expr) -> Optional[float]:
    """The float value of a number, a named constant or a power of two numbers, else None."""
    if isinstance(node, Num):
        try:
            return float(node.value)
        except OverflowError:
            return math.inf if node.value > 0 else -math.inf
    if isinstance(node, Constant):
        return float(node.value)
    if isinstance(node, Pow) and isinstance(node.base, Num) and isinstance(node.exponent, Num):
        return numeric_power(node.base.value, node.exponent.value)
    return None


@dataclass
class _Step:
    """One statement: ``target = kernel(inputs)`` or ``target = numpy source``."""

    target: str
    inputs: tuple[str, ...]  # Python names read
    kernel: Optional[tuple[str, str, tuple[str, ...]]] = None  # (name, numexpr source, signature)
    numpy: str = ""
    out: str = ""  # the slice of the result array a kernel writes into


class _Planner:
    """Splits a Program into kernels and NumPy calls (``steps``)."""

    def __init__(self, prog: Program, parameters: dict[Symbol, str], numexpr: Any):
        self.prog, self.numexpr, self.limit = prog, numexpr, max_inputs()
        self.supported = _supported_forms(numexpr)
        self.steps: list[_Step] = []
        self.python: dict[str, str] = {}  # a name in numexpr source -> its Python name
        self.pieces: dict[Expr, _Piece] = {}
        reserved = _numexpr_reserved()
        for k, (symbol, name) in enumerate(parameters.items()):
            alias = f"_p{k}" if name in reserved else name
            self.python[alias] = name
            self.pieces[symbol] = _Piece(alias, ATOM, frozenset({alias}))
        self.order = list(postorder(prog.roots))
        self.uses: dict[Expr, int] = {}
        for node in list(prog.roots) + [a for n in self.order for a in n.args]:
            self.uses[node] = self.uses.get(node, 0) + 1
        self.temps, self.kernels = itertools.count(), itertools.count()
        self.arrays = self._arrays()
        self.outputs: dict[Expr, list[int]] = {}
        for k, root in enumerate(prog.roots):
            self.outputs.setdefault(root, []).append(k)

    def _fusable(self, node: Expr) -> bool:
        return not isinstance(node, Call) or self.supported(node.fn, len(node.args))

    def _arrays(self) -> set[Expr]:
        """The nodes that must be arrays: outputs, NumPy calls and their arguments, nodes used
        more than once that are not small, and nodes that more than one kernel uses (found from
        the outputs down: a node's users all come before it)."""
        arrays = set(self.prog.roots)
        for node in self.order:
            if not self._fusable(node):
                arrays.add(node)
                arrays.update(a for a in node.args if constant_value(a) is None and a.args)
        weight: dict[Expr, int] = {}  # the cost of computing an inlined node at each use
        for node in self.order:
            if not node.args or node in arrays or constant_value(node) is not None:
                weight[node] = 0
                continue
            weight[node] = _cost(node) + sum(weight[a] for a in node.args)
            if self.uses[node] > 1 and weight[node] > _MAX_REPEATED and not _cheap(node):
                arrays.add(node)
                weight[node] = 0
        owner: dict[Expr, object] = {}
        for node in reversed(self.order):
            if not node.args or constant_value(node) is not None:
                continue
            kernel = node if node in arrays else owner[node]
            for a in node.args:
                if not a.args or a in arrays or constant_value(a) is not None:
                    continue
                if owner.setdefault(a, kernel) is kernel and kernel is not _EVERYWHERE:
                    continue
                if _cheap(a):  # recomputed in each kernel that uses it, not an array
                    owner[a] = _EVERYWHERE
                else:
                    arrays.add(a)
        return arrays

    # --- the pieces ------------------------------------------------------------------------
    def run(self) -> None:
        for node in self.order:
            if node not in self.pieces:
                self.pieces[node] = self._piece(node)
            if node in self.outputs:
                self._write(node)

    def _piece(self, node: Expr) -> _Piece:
        value = constant_value(node)
        if value is not None:
            return self._number(value)
        if not self._fusable(node):
            return self._numpy_call(node, [self.pieces[a] for a in node.args])
        piece = self._fused(node)
        if not piece.inputs:  # a constant such as sin(2): computed once, now
            return self._number(float(self.numexpr.evaluate(piece.text, local_dict={})))
        if node in self.outputs:  # written straight into the result array
            return self._kernel(piece, self._place(self.outputs[node][0]))
        if node in self.arrays:
            return self._kernel(piece)
        return piece

    def _write(self, node: Expr) -> None:
        """Copy an output into its places in the result array (the kernel computing an output
        writes its first place itself)."""
        piece, places = self.pieces[node], self.outputs[node]
        last = self.steps[-1] if self.steps else None
        if last is not None and last.out and last.target == piece.text:
            places = places[1:]
        name = self.python.get(piece.text)
        for k in places:
            self.steps.append(_Step(self._place(k), (name,) if name else (),
                                    numpy=name or piece.text))

    def _place(self, k: int) -> str:
        """The result array's slice for output ``k``."""
        if not self.prog.shape:
            return "_out[...]"
        index = np.unravel_index(k, self.prog.shape)
        return f"_out[{', '.join(map(str, index))}, ...]"

    def _number(self, value: float) -> _Piece:
        if not math.isfinite(value):  # numexpr has no literal for these
            text = "np.nan" if math.isnan(value) else "np.inf" if value > 0 else "-np.inf"
            return self._assign(_Step(self._temp(), (), numpy=text))
        text = repr(value)
        return _Piece(text, UNARY if value < 0 else ATOM, constants=frozenset({value}))

    def _temp(self) -> str:
        name = f"_t{next(self.temps)}"
        self.python[name] = name
        return name

    def _assign(self, step: _Step) -> _Piece:
        self.steps.append(step)
        return _Piece(step.target, ATOM, frozenset({step.target}))

    def _kernel(self, piece: _Piece, out: str = "") -> _Piece:
        if piece.is_name and not out:
            return piece
        signature = tuple(sorted(piece.inputs))
        kernel = (f"_k{next(self.kernels)}", piece.text, signature)
        inputs = tuple(self.python[name] for name in signature)
        return self._assign(_Step(self._temp(), inputs, kernel=kernel, out=out))

    def _numpy_call(self, node: Call, args: list[_Piece]) -> _Piece:
        args = [a if a.is_name or not a.inputs else self._kernel(a) for a in args]
        texts = [self.python.get(a.text, a.text) for a in args]
        inputs = tuple(self.python[a.text] for a in args if a.inputs)
        return self._assign(_Step(self._temp(), inputs, numpy=node.fn.numpy(texts)))

    def _fits(self, piece: _Piece) -> bool:
        return (len(piece.inputs) <= self.limit and piece.registers() <= _MAX_REGISTERS
                and piece.depth <= _MAX_DEPTH and len(piece.text) <= _MAX_TEXT)

    def _fused(self, node: Expr) -> _Piece:
        args = [self.pieces[a] for a in node.args]
        if isinstance(node, (Add, Mul)):
            return self._chunked(node, args)
        while True:
            piece = self._combine(node, args)
            if self._fits(piece):
                return piece
            inlined = [k for k, a in enumerate(args) if not a.is_name and a.inputs]
            if not inlined:  # e.g. max of more arrays than numexpr reads at once
                return self._numpy_call(node, args)
            k = max(inlined, key=lambda k: (args[k].registers(), len(args[k].text)))
            args[k] = self._kernel(args[k])

    def _chunked(self, node: Expr, args: list[_Piece]) -> _Piece:
        """A sum or product; where it does not fit in one kernel, its largest terms are split
        off, and then its leading terms are summed (or multiplied) into an array of their own."""
        group: list[_Piece] = []
        for arg in args:
            trial = self._combine(node, group + [arg])
            if not self._fits(trial) and not arg.is_name and arg.inputs:
                arg = self._kernel(arg)
                trial = self._combine(node, group + [arg])
            if not self._fits(trial):
                group = [self._kernel(self._combine(node, group))]
                trial = self._combine(node, group + [arg])
            group.append(arg)
        return self._combine(node, group)

    def _combine(self, node: Expr, args: list[_Piece]) -> _Piece:
        if len(args) == 1 and isinstance(node, (Add, Mul)):
            return args[0]
        if isinstance(node, Add):
            return self._sum(node, args)
        if isinstance(node, Mul):
            return self._product(node, args)
        if isinstance(node, Pow):
            return self._power(node, *args)
        form = node.fn.numexpr
        extra = _form_operations(form, len(args))
        text = form([a.text for a in args])
        return _joined(text, ATOM, args, [node] + [(node, k) for k in range(extra)], 3)

    def _sum(self, node: Expr, terms: list[_Piece]) -> _Piece:
        text = ""
        for term in sorted(terms, key=lambda t: t.prec == UNARY):  # y - x, not -x + y
            if not text:
                text = term.text
            elif term.prec == UNARY:  # "-2.0 * x": subtracted
                text += f" - {term.text[1:]}"
            else:
                text += f" + {term.text}"
        return _joined(text, SUM, terms, [(node, len(terms))])

    def _product(self, node: Expr, factors: list[_Piece]) -> _Piece:
        numerator, denominator = [], []
        negative = False
        for f in factors:
            if f.prec == UNARY and f.constants and not f.operations:  # a negative number
                negative = not negative
                if f.text != "-1.0":
                    numerator.append(f.text[1:])
            elif f.text.startswith("1.0 / ") and f.prec == PRODUCT:
                denominator.append(f.text[len("1.0 / "):])
            else:
                numerator.append(f.at_least(POWER if numerator else PRODUCT))
        text = " * ".join(numerator) or "1.0"
        if denominator:
            text += " / " + (denominator[0] if len(denominator) == 1
                             else "(" + " * ".join(denominator) + ")")
        piece = _joined(text, PRODUCT, factors, [(node, len(factors))])
        if negative:
            piece = _Piece("-" + piece.at_least(PRODUCT), UNARY, piece.inputs, piece.constants,
                           piece.operations, piece.depth)
        return piece

    def _power(self, node: Pow, base: _Piece, exponent: _Piece) -> _Piece:
        value = constant_value(node.exponent)
        if value == 0.5:
            return _joined(f"sqrt({base.text})", ATOM, [base], [node])
        if value is not None and value < 0 and value in (-1.0, -0.5):
            inner = base.at_least(POWER) if value == -1.0 else f"sqrt({base.text})"
            return _joined(f"1.0 / {inner}", PRODUCT, [base], [node, (node, 1)])
        text = f"{base.at_least(ATOM)} ** {exponent.at_least(ATOM)}"
        return _joined(text, POWER, [base, exponent], [node])


_PLACEHOLDER = "_a{}_"


def _form_operations(form: Callable, count: int) -> int:
    """Operations of a numexpr form beyond one (``1.0 / cos(x)`` has two), an upper bound."""
    text = form([_PLACEHOLDER.format(k) for k in range(count)])
    for k in range(count):
        text = text.replace(_PLACEHOLDER.format(k), "")
    return len(re.findall(r"[-+*/<>=]=?|\w+\(", text))


def _numexpr_reserved() -> frozenset[str]:
    """Names numexpr's parser takes as its functions or constants, not as variables."""
    from numexpr import expressions
    return frozenset(expressions.functions) | {"None", "True", "False"}


def _supported_forms(numexpr: Any) -> Callable[[Any, int], bool]:
    """Whether a function with ``count`` arguments has a numexpr form that this numexpr
    compiles (older versions lack ``maximum``, ``log2``, ...)."""
    known: dict[tuple[str, int], bool] = {}

    def supported(fn: Any, count: int) -> bool:
        key = (fn.name, count)
        if key not in known:
            ok = fn.numexpr is not None
            if ok:
                names = [f"a{k}" for k in range(count)]
                try:
                    numexpr.NumExpr(fn.numexpr(names), [(n, np.float64) for n in names])
                except Exception:  # noqa: BLE001 - any failure means: compute it with NumPy
                    ok = False
            known[key] = ok
        return known[key]
    return supported


# --- source --------------------------------------------------------------------------------
def _body(planner: _Planner) -> tuple[list[str], list[str]]:
    """The kernels' definitions and the body's statements; a temporary is deleted after its
    last use, so a call holds only the arrays still needed."""
    last: dict[str, int] = {}
    for k, step in enumerate(planner.steps):
        for name in step.inputs:
            last[name] = k
    kernels = []
    lines = [f"_out = np.empty({planner.prog.shape!r} + _shape)"]
    for k, step in enumerate(planner.steps):
        if step.kernel:
            name, text, signature = step.kernel
            typed = ", ".join(f"({n!r}, np.float64)" for n in signature)
            kernels.append(f"{name} = _ne.NumExpr({text!r}, [{typed}])")
            arguments = list(step.inputs) + ([f"out={step.out}"] if step.out else [])
            value = f"{name}({', '.join(arguments + ['ex_uses_vml=False'])})"
        else:
            value = step.numpy
        needed = step.target in last or not step.out
        lines.append(f"{step.target} = {value}" if needed else value)
        lines += [f"del {n}" for n in dict.fromkeys(step.inputs)
                  if last[n] == k and n.startswith("_t")]
    lines.append("return _out[()]")
    return kernels, lines


def _generate(prog: Program, numexpr: Any, name: str) -> tuple[str, str, tuple[str, ...]]:
    """The kernels' definitions, the functions' source (helpers called as ``_rt.NAME``), and the
    runtime helpers it calls."""
    parameters = parameter_names(prog.variables)
    planner = _Planner(prog, parameters, numexpr)
    planner.run()
    kernels, lines = _body(planner)
    args = ", ".join(parameters[s] for s in prog.variables)
    inner = f"_{name}_body"
    text = "\n".join([f"def {inner}({args}{', ' if args else ''}_shape):"]
                     + ["    " + line for line in lines]) + "\n"
    helpers = tuple(sorted(set(_HELPER_CALL.findall(text))))
    return "\n".join(kernels), text, helpers


def _numexpr_program(exprs: Outputs, variables: Any) -> tuple[Any, Program]:
    if _matrix.is_shaped(exprs):
        raise SymcalcError('numexpr source is printed for scalar formulas and lists of them; '
                           'symcalc.lambdify(..., backend="numexpr") compiles shaped ones')
    return import_numexpr(), program(exprs, variables)


def codegen(exprs: Outputs, variables: Any, name: str = "f") -> str:
    """Standalone source of a function evaluating ``exprs`` with numexpr kernels: NumPy,
    numexpr and the ``symcalc.compiler.runtime`` helpers it calls, then the kernels, then the
    function."""
    numexpr, prog = _numexpr_program(exprs, variables)
    kernels, text, helpers = _generate(prog, numexpr, name)
    args = ", ".join(parameter_names(prog.variables)[s] for s in prog.variables)
    call = f"evaluate(_{name}_body, _{name}_body, {args})" if args else f"_{name}_body(())"
    wrapper = f"def {name}({args}):\n    return {call}\n"
    head = helper_source(tuple(sorted(set(helpers) | {"evaluate"})))
    return (f"{head}\nimport numexpr as _ne\n\n{kernels}\n\n\n"
            + _HELPER_CALL.sub(r"\1", text) + "\n\n" + wrapper)


_PLAIN = frozenset({np.ndarray, float, int})  # other arrays (Dask, pandas, JAX) go to NumPy's


def function(prog: Program, at_a_point: Callable[..., Any]) -> "NumexprFunction":
    """``symcalc.lambdify(exprs, variables, backend="numexpr")`` for the stabilised ``prog``: the
    same values, shapes and broadcasting as the NumPy backend's ``at_a_point`` (which computes
    single points and reports bad arguments), computed by fused, multi-threaded numexpr kernels."""
    kernels, text, _ = _generate(prog, import_numexpr(), "f")
    return NumexprFunction(kernels, text, len(prog.variables), at_a_point)


class NumexprFunction:
    """A function generated by ``symcalc.lambdify(..., backend="numexpr")``.

    It keeps the source of its kernels and body, so ``pickle`` (and cloudpickle) sends that text
    with the NumPy backend's function for single points, and the receiving process compiles the
    kernels again (a ``numexpr.NumExpr`` itself does not pickle).  ``source`` is that text.
    """

    def __init__(self, kernels: str, text: str, arity: int, at_a_point: Callable[..., Any]):
        numexpr = import_numexpr()
        self._kernels, self._text, self.arity, self._at_a_point = kernels, text, arity, at_a_point
        source = kernels + "\n" + text
        namespace = compile_source(source, source, {"np": np, "_ne": numexpr, "_rt": runtime},
                                   "numexpr")
        self._run = _runner(namespace["_f_body"], arity, at_a_point)
        self.source = kernels + "\n\n" + text
        self.__doc__ = "Generated by symcalc.lambdify(backend='numexpr'):\n\n" + self.source
        weakref.finalize(self, linecache.cache.pop, namespace["__file__"], None)

    def __call__(self, *args: Any) -> Any:
        return self._run(*args)

    def __reduce__(self) -> tuple:
        return (NumexprFunction, (self._kernels, self._text, self.arity, self._at_a_point))

    def __repr__(self) -> str:
        return f"<symcalc generated function, numexpr backend, {self.arity} variables>"


def _runner(body: Callable[..., Any], arity: int,
            at_a_point: Callable[..., Any]) -> Callable[..., Any]:
    """The call: the kernels on arrays, ``at_a_point`` (NumPy's function) for the rest."""
    def run(*args: Any) -> Any:
        if len(args) == arity and runtime._one_layout(args):  # as prepare would keep them
            return body(*args, args[0].shape)
        if len(args) != arity or not all(type(a) in _PLAIN for a in args):
            return at_a_point(*args)  # points, other arrays, errors: as the NumPy backend
        try:
            values, shape = runtime.prepare(*args)
        except runtime.ArgumentError:
            shape = ()  # the NumPy function reports it, naming the argument
        if not shape:
            return at_a_point(*args)
        return body(*values, shape)
    return run
