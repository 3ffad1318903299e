"""Naming and generating: a ``Program`` -> Python source -> a compiled function.

``codegen`` gives standalone source: NumPy imports, then the helpers of
``symcalc.compiler.runtime`` that the function calls (their source copied from that module, so each
is written once, here without annotations), then the function as a person writes it
(``numpy_printer.readable_body``); with
``planned=True``, the source of ``lambdify``'s function instead.
``lambdify`` prints the pure body (``function_body(..., plan=False)``) and hands it to the backend
named, with the means to print the rest (the planned body and ``f``) at the first call on arrays:
``symcalc.compiler.generated`` compiles them (never any user text: the source was
printed from the expression graph) against the shared runtime helpers, so tracebacks show the
generated lines, and returns a picklable function.  ``BACKENDS`` lists the backends.
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
import keyword
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Mapping, Sequence

import numpy as np

from . import runtime
from ..errors import SymcalcError, SymcalcTypeError
from ..core.expr import Symbol
from .generated import GeneratedFunction, Packed, check_dtype, generated_function
from .helper_source import _HELPER_CALL, _without_annotations, helper_source, parameter_names
from ..matrix import api as _matrix, runtime as _matrix_runtime
from ..matrix.operations import RUNTIME_HELPERS
from .numpy_printer import fills_output, function_body, output_allocation, readable_body, wrapped
from ..language.parser import parse
from .point_source import has_fractional_power
from .program import Outputs, Program, program, variable_symbols

# --- source and function -------------------------------------------------------------------------
@dataclass(frozen=True)
class _Generated:
    """The functions' source (helpers called by bare name) and the runtime helpers it calls."""

    text: str
    helpers: tuple[str, ...]
    plain: bool = False  # the helpers without annotations

    @property
    def source(self) -> str:
        """Standalone source: imports and helpers, then the functions."""
        return helper_source(self.helpers, self.plain) + "\n\n" + self.text


def _check_name(name: str) -> None:
    if not (isinstance(name, str) and name.isidentifier() and name.isascii()
            and not keyword.iskeyword(name)):
        raise SymcalcError(f"{name!r} is not a valid function name")
    if name == "np" or name in vars(runtime):
        raise SymcalcError(f"{name!r} is the name of a helper of the generated code; "
                           "choose another function name")


def _body(prog: Program, plan: bool) -> list[str]:
    """The statements of a body of ``prog`` (the printer's pieces are shared by both bodies)."""
    return function_body(prog, parameter_names(prog.variables), plan=plan)


def _generate(programs: Mapping[str, Program]) -> _Generated:
    pieces = []
    for name, prog in programs.items():
        parameters = parameter_names(prog.variables)
        args = ", ".join(parameters[s] for s in prog.variables)
        inner, arrays = f"_{name}_body", f"_{name}_arrays"
        head = f"({args}{', ' if args else ''}_shape):"
        pure = _body(prog, plan=False)
        lines = [f"def {inner}{head}"] + ["    " + line for line in pure]
        if args:  # the memory-planned body, for array arguments
            lines += ["", "", f"def {arrays}({args}, _shape, _out=None):"]
            lines += ["    " + line for line in _body(prog, plan=True)]
        lines += ["", "", f"def {name}({args}):"]
        if args:
            lines += _wrapper(inner, arrays, [parameters[s] for s in prog.variables],
                              has_fractional_power("\n".join(pure)))
        else:
            lines += [f"    return {inner}(())"]
        pieces.append("\n".join(lines) + "\n")
    text = "\n\n".join(pieces)
    helpers = tuple(sorted(set(_HELPER_CALL.findall(text))))
    return _Generated(_HELPER_CALL.sub(r"\1", text), helpers)


def _wrapper(inner: str, arrays: str, names: list[str], fractional: bool = False) -> list[str]:
    """The body of the public function: Python floats straight to the pure body (the cheapest
    single-point call), anything else, and a point where floats fail, through ``evaluate``.
    A body with a fractional power (``fractional``) always goes through ``evaluate``: a negative
    Python float to such a power is a complex number, which ``abs`` or a comparison could turn
    into a wrong real one."""
    args = ", ".join(names)
    if fractional:
        return [f"    return _rt.evaluate({inner}, {arrays}, {args})"]
    checks = [f"type({n})" for n in names] + ["float"]
    lines, line = [], "    if "
    for k, check in enumerate(checks):  # type(x) is type(y) is float, wrapped near 100 columns
        piece = check + ("" if k + 1 == len(checks) else " is ")
        if len(line) + len(piece) > 96 and line.strip() not in ("if", "if ("):
            lines.append(line.rstrip())
            line = "            "
        line += piece
    if lines:
        lines[0] = lines[0].replace("if ", "if (", 1)
        line += ")"
    return lines + [line + ":",
            "        try:",
            f"            _value = {inner}({args}, ())",  # a parameter may be named value
            "            if not isinstance(_value, complex):",
            "                return _value",
            "        except _rt.FLOAT_FAULTS:",
            "            pass",
            f"    return _rt.evaluate({inner}, {arrays}, {args})"]


def _shaped_or_scalar(text: str, shapes) -> Any:
    return parse(text, shapes=shapes)


def codegen(exprs: Outputs, variables: Iterable[Symbol | str] | str, name: str = "f",
            backend: str = "numpy", *, planned: bool = False, shapes=None) -> str:
    """Readable, standalone Python source of a NumPy function computing ``exprs`` from ``variables``.

    ``exprs`` may be an expression, a formula string, a list or a list of lists (for example a
    gradient or a Hessian).  The function is written as a person would write it: the arguments
    as NumPy floats or float arrays, one assignment ``_tN = ...`` per shared node, numerically
    stable forms in place of overflow-prone patterns, and the result broadcast to the arguments'
    shape (a list: one array of shape ``nesting + broadcast shape``), with the values
    ``lambdify`` gives.  The source needs only NumPy: the stable helpers it calls (``sigmoid``,
    ``logsumexp``, ...) are written out above the function.  For example
    ``codegen("x*y", ["x", "y"])`` is::

        import numpy as np


        def f(x, y):
            x = np.asarray(x, dtype=float)[()]  # a NumPy float, or an array of floats
            y = np.asarray(y, dtype=float)[()]
            return x * y

    ``planned=True``: the source of ``lambdify``'s function instead, whose body for arrays is
    planned for memory and computes long calls block by block, with the helpers that call
    machinery needs (a formula of vectors and matrices has one form, printed either way).
    ``backend="numexpr"``: the source of ``lambdify``'s numexpr function (needs numexpr too).

    A shaped formula (vectors and matrices) is printed as NumPy source with ``@``, ``.T`` and
    ``np.linalg``, its size check (``bind``, raising ``ShapeError`` naming the size) and the
    stable helpers it calls written out above it; it has one form, printed either way.  A formula
    given as text is read with ``shapes=`` as ``symcalc.parse`` reads it.
    """
    if shapes is not None and isinstance(exprs, str):
        exprs = _shaped_or_scalar(exprs, shapes)
    if _matrix.is_shaped(exprs):
        _check_name(name)
        if name in _MATRIX_HELPERS or name == "ShapeError":
            raise SymcalcError(f"{name!r} is the name of a helper of the generated code; "
                               "choose another function name")
        if backend != "numpy":
            raise SymcalcError("codegen of shaped formulas (vectors and matrices) prints NumPy "
                               "source: backend='numpy'")
        return shaped_source(_matrix.shaped_code(exprs, variables, shapes, name=name))
    if backend == "numexpr":
        _check_name(name)
        from .backends import numexpr_backend  # imports numexpr: only when asked for
        return numexpr_backend.codegen(exprs, variables, name)
    if backend != "numpy":
        raise SymcalcError(f"unknown backend {backend!r} for codegen: it prints 'numpy' and 'numexpr'")
    return codegen_module({name: exprs}, variables, planned=planned)


# The error standalone shaped code raises, and the helpers of symcalc.matrix.runtime in the
# order they are written out, each with the helpers it calls.
_SHAPE_ERROR = ('''class ShapeError(ValueError):
    """The arrays' sizes disagree with the formula's shapes or with each other."""''')
_MATRIX_HELPERS = {"check_sizes": (), "bind": ("check_sizes",),
                   **{name: () for name in RUNTIME_HELPERS}}  # the operations' NumPy forms


def shaped_source(code: Any) -> str:
    """Standalone source of the printed function of shaped formulas (``matrix.ShapedCode``):
    NumPy imported, then the helpers it calls, from ``symcalc.compiler.runtime`` and
    ``symcalc.matrix.runtime`` (the size check, stable softmax and log-sum-exp), without
    annotations, then the function."""
    wanted = set(code.matrix_helpers)
    for name in code.matrix_helpers:
        wanted.update(_MATRIX_HELPERS[name])
    head = helper_source(code.helpers, plain=True).rstrip("\n")
    pieces = ([_SHAPE_ERROR] if "check_sizes" in wanted else []) + [
        _without_annotations(inspect.getsource(getattr(_matrix_runtime, name))).rstrip("\n")
        for name in _MATRIX_HELPERS if name in wanted]
    if pieces:
        comment = "# Helpers from symcalc.matrix.runtime" + (
            "." if code.helpers else ": this file needs only NumPy.")
        head += "\n\n\n" + comment + "\n" + "\n\n\n".join(pieces)
    return head + "\n\n\n" + code.text


def codegen_module(functions: Mapping[str, Outputs], variables: Iterable[Symbol | str] | str, *,
                   planned: bool = False, shapes=None) -> str:
    """Standalone source of several functions of the same ``variables`` (name -> outputs), with
    the imports and helpers written once; ``planned`` as for ``codegen``.  Functions of shaped
    formulas (``shapes=`` as for ``codegen``) are printed as ``codegen`` prints one."""
    if not isinstance(functions, Mapping):
        raise SymcalcTypeError(f"the functions must be a mapping of names to outputs, "
                               f"not {type(functions).__name__}")
    if functions and all(_matrix.is_shaped(exprs) for exprs in functions.values()):
        codes = []
        for name, exprs in functions.items():
            _check_name(name)
            codes.append(_matrix.shaped_code(exprs, variables, shapes, name=name))
        union = lambda field: tuple(sorted(set().union(*(getattr(c, field) for c in codes))))
        text = "\n\n\n".join(c.text.rstrip("\n") for c in codes) + "\n"
        merged = dataclasses.replace(codes[0], text=text, helpers=union("helpers"),
                                     matrix_helpers=union("matrix_helpers"))
        return shaped_source(merged)
    symbols = variable_symbols(variables)
    for name in functions:
        _check_name(name)
        for inner in (f"_{name}_body", f"_{name}_arrays"):
            if planned and inner in functions:
                raise SymcalcError(f"the function names {name!r} and {inner!r} collide")
    programs = {name: program(exprs, symbols) for name, exprs in functions.items()}
    return (_generate(programs) if planned else _readable(programs)).source


def _readable(programs: Mapping[str, Program]) -> _Generated:
    """The functions as ``readable_body`` writes them, each calling the helpers it needs."""
    pieces = []
    for name, prog in programs.items():
        parameters = parameter_names(prog.variables)
        lines = wrapped(f"def {name}(", [parameters[s] for s in prog.variables], "):")
        lines += ["    " + line for line in readable_body(prog, parameters)]
        pieces.append("\n".join(lines) + "\n")
    text = "\n\n".join(pieces)
    helpers = tuple(sorted(set(_HELPER_CALL.findall(text))))
    return _Generated(_HELPER_CALL.sub(r"\1", text), helpers, plain=True)


def _pure_body(prog: Program) -> tuple[str, tuple[str, ...]]:
    """``def _f_pure(...)``: the pure body (no writes), and the runtime helpers it calls."""
    parameters = parameter_names(prog.variables)
    args = "".join(f"{parameters[s]}, " for s in prog.variables)
    lines = [f"def _f_pure({args}_shape):"]
    lines += ["    " + line for line in _body(prog, plan=False)]
    text = "\n".join(lines) + "\n"
    return _HELPER_CALL.sub(r"\1", text), tuple(sorted(set(_HELPER_CALL.findall(text))))


def _numpy_function(prog: Program, dtype: Any, backend: str = "numpy") -> GeneratedFunction:
    pure, pure_helpers = _pure_body(prog)
    arity = len(prog.variables)
    if not arity:  # no planned body: the whole source now
        generated = _generate({"f": prog})
        return generated_function(backend, generated.source, generated.text, pure,
                                  generated.helpers, pure_helpers, arity, prog.shape, dtype)
    # The source up to the pure body now; the planned body and f (which only calls on arrays
    # need) at the first such call, by ``_complete``.  The helpers written above the pure body
    # are those of the whole source, so its lines are where the whole source has them.
    text = pure.replace("def _f_pure(", "def _f_body(", 1)
    parameters = parameter_names(prog.variables)
    wrapper = "\n".join(_wrapper("_f_body", "_f_arrays", [parameters[s] for s in prog.variables],
                                  has_fractional_power(pure)))
    calls = set(pure_helpers) | set(_HELPER_CALL.findall(wrapper))
    if fills_output(prog):
        calls.add("filled")
    if prog.shape and output_allocation(prog) == "_rt.sparse_zeros":
        calls.add("sparse_zeros")
    helpers = tuple(sorted(calls))
    return generated_function(backend, helper_source(helpers) + "\n\n" + text, text, pure, helpers,
                              pure_helpers, arity, prog.shape, dtype,
                              complete=functools.partial(_complete, prog))


def _complete(prog: Program) -> tuple[str, str, tuple[str, ...]]:
    """The whole source of lambdify's function ``f`` of ``prog``: (source, text, helpers)."""
    generated = _generate({"f": prog})
    return generated.source, generated.text, generated.helpers


def _jax_function(prog: Program, dtype: Any) -> GeneratedFunction:
    try:
        from .backends import jax_runtime
    except ImportError:
        raise SymcalcError('backend="jax" needs JAX, which is not installed: '
                           'pip install "symcalc[jax]"') from None
    jax_runtime.require()
    return _numpy_function(prog, dtype, backend="jax")


def _numexpr_function(prog: Program, dtype: Any) -> Callable[..., Any]:
    if dtype is None or np.dtype(dtype) != np.float64:
        raise SymcalcError('backend="numexpr" computes in float64: leave dtype at its default')
    from .backends import numexpr_backend  # imports numexpr: only when asked for
    return numexpr_backend.function(prog, _numpy_function(prog, dtype))


def _numexpr_kernel(e: Any, placeholders: Sequence[Symbol]) -> Callable[..., Any]:
    """A fused entrywise part of a shaped formula, compiled by the numexpr backend."""
    return lambdify(e, list(placeholders), backend="numexpr")


# The backends of lambdify: name -> a function building the callable from a Program and a dtype.
BACKENDS: dict[str, Callable[[Program, Any], Callable[..., Any]]] = {
    "numpy": _numpy_function,
    "numexpr": _numexpr_function,
    "jax": _jax_function,
}


def lambdify(exprs: Outputs, variables: Iterable[Symbol | str] | str, backend: str = "numpy", *,
             dtype: Any = float, packed: bool = False, shapes=None) -> Callable[..., Any]:
    """A fast function of ``variables`` (in that order) computing ``exprs``.

    Arguments broadcast against each other; integers are computed as floats; an output that
    is constant or misses a variable is broadcast to the common shape.  A list (or list of lists)
    of expressions gives one array of shape ``nesting + broadcast shape``.  ``Derivatives``
    results (``grad``, ``jacobian``, ``hessian``, ``vjp``, ``hvp``) compile their shared
    reverse-accumulation graph when it is smaller, so a gradient costs a few times the function.
    Its standalone NumPy source is ``f.source`` (also ``symcalc.compiler(..., planned=True)``).
    The function pickles (its source is sent and compiled again), so it runs on
    ``dask.distributed`` workers.

    ``backend``: ``"numpy"`` (the default); ``"numexpr"``: the same values computed by fused,
    multi-threaded numexpr kernels (extra ``symcalc[numexpr]``), much faster on large arrays; or
    ``"jax"``: ``jax.numpy`` under ``jax.jit`` (GPU where JAX has one); it composes with
    ``jax.grad`` and ``jax.vmap``.  Asking for it turns on
    JAX's float64 mode (``jax.config.update("jax_enable_x64", True)``), process-wide.  The NumPy
    backend's function also takes JAX arrays (computed by ``jax.numpy`` in their own precision,
    under ``jax.jit``), Dask arrays (giving a lazy Dask array), pandas Series (giving a Series with
    the same index; a DataFrame for a flat list of outputs) and CuPy arrays.

    A sparse result (``hessian(..., sparse=True)``, ``jacobian(..., sparse=True)``,
    ``hessian_diag``) gives a function returning ``scipy.sparse`` arrays of its fixed pattern
    (see ``symcalc.calculus.sparse.SparseDerivatives``), or the dense diagonal.

    ``dtype``: the float type of the results, ``float`` (float64) by default; ``None`` keeps the
    inputs' float type (float32 in, float32 out).  ``packed=True`` gives ``f(v)``, taking the
    variables in order along the last axis of one array, shape ``(d,)`` or ``(N, d)``: what
    ``scipy.optimize.minimize(f, x0, jac=g)`` calls.  A batch gives shape ``(N,) + nesting``.

    Shaped formulas (vectors and matrices) take arrays and give arrays, on every backend (numexpr:
    matrix products by NumPy, entrywise parts by fused kernels; jax: composes with ``jax.jit``,
    ``jax.grad``, ``jax.vmap``), with the same ``dtype``; arrays whose sizes disagree raise
    ``ShapeError`` naming the size.  Packed, ``v`` holds the variables raveled and concatenated,
    a list of outputs comes back as one flat array (a gradient in several variables is SciPy's
    ``jac``), and the sizes come from ``d`` when it fixes them, else from
    ``packed={"m": 100, ...}`` (see ``symcalc.matrix.backends.PackedShaped``).  ``shapes=``
    reads a formula given as text as ``symcalc.parse`` does, and gives the shapes of variables
    the formula does not mention.
    """
    dtype = check_dtype(dtype)
    if shapes is not None and isinstance(exprs, str):
        exprs = _shaped_or_scalar(exprs, shapes)
    sparse = getattr(exprs, "_symcalc_lambdify", None)  # a sparse result (symcalc.calculus.sparse)
    if sparse is not None:
        return sparse(variables, backend, dtype, packed)
    if _matrix.is_shaped(exprs):
        if backend == "numexpr":  # a clear message without numexpr, kernels or not
            from .backends import numexpr_backend
            numexpr_backend.import_numexpr()
        return _matrix.lambdify(exprs, variables, shapes, backend=backend, dtype=dtype,
                                packed=packed, compile_kernel=_numexpr_kernel,
                                source_of=shaped_source)
    build = BACKENDS.get(backend) if isinstance(backend, str) else None
    if build is None:
        raise SymcalcError(f"unknown backend {backend!r}; the backends are "
                           f"{', '.join(map(repr, BACKENDS))}")
    prog = program(exprs, variables)
    function = build(prog, dtype)
    return Packed(function, len(prog.variables), prog.shape) if packed else function
