"""The functions ``lambdify`` returns: compiled from their printed source, picklable, and
dispatching on the kind of array they are given.

A ``GeneratedFunction`` keeps the source it was compiled from, so ``pickle`` (and cloudpickle,
which Dask uses) sends that text and the receiving process compiles it again: a generated function
runs on the workers of a ``dask.distributed`` cluster.

It holds two bodies printed from the same ``Program``: the planned NumPy body (fast, writes its
outputs into one new array) and the pure body (``function_body(..., plan=False)``: no writes,
outputs stacked by the runtime's ``assemble``).  NumPy input takes the planned body; other arrays
take the pure one, compiled on first use (``symcalc.compiler.array_types`` for Dask, pandas, CuPy
and float32, ``symcalc.compiler.backends.jax_runtime`` for JAX).  A point of Python floats takes
the pure body too, run by the call method itself after one type check (a short body's statements
are written into it), with the printed ``f``'s fallback to NumPy scalars on 1/0, overflow or a
complex result.  The planned body, and ``f``, which calls it, are printed and compiled at the first
call on NumPy arrays or when the source is asked for (``_Compiled``): a function only called at
points never prints them.
``Packed`` turns ``f(x, y, ...)`` into ``f(v)``.
"""

from __future__ import annotations

import importlib
import itertools
import linecache
import math
import re
import threading
import types
import weakref
from typing import Any, Callable

import numpy as np

from . import runtime
from ..errors import ShapeError, SymcalcError, SymcalcTypeError
from .point_source import MATH_NAMES, float_arithmetic, inlined_statements, math_calls, real_powers

_generated = itertools.count()

# Argument types the planned NumPy body takes as they are (float64 results).
_NUMPY_TYPES = frozenset({float, int, bool, np.float64, np.ndarray, list, tuple})
_SCALAR_TYPES = frozenset({float, int, bool, np.float64})


def compile_source(text: str, source: str, helpers: dict[str, Any],
                   kind: str = "generated") -> dict[str, Any]:
    """Run ``text`` (the function definitions at the end of ``source``) in a new namespace holding
    ``helpers``; ``source`` goes into ``linecache`` so that tracebacks show the generated lines."""
    offset = source.count("\n") - text.count("\n")
    filename = f"<symcalc-{kind}-{next(_generated)}>"
    code = compile("\n" * offset + text, filename, "exec")
    namespace = dict(helpers)
    exec(code, namespace)  # printed from the expression graph, never user text
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    namespace["__file__"] = filename
    return namespace


def _helper_namespace(module_name: str, helpers: tuple[str, ...], text: str) -> dict[str, Any]:
    """``np`` and the helpers as the runtime module ``module_name`` defines them, for ``text``."""
    module = importlib.import_module(module_name)
    namespace = {name: getattr(module, name) for name in helpers}
    return {"np": _numpy_names(module.np, text), **namespace}


_NUMPY_NAME = re.compile(  # the literal first: the engine skips to each "np."
    r"np\.(?<![\w.]np\.)([A-Za-z_]\w*)")


def _numpy_names(numpy: Any, text: str) -> types.ModuleType:
    """A module holding the names ``np.NAME`` of ``text``, the same objects as ``numpy``'s, to be
    ``np`` there: NumPy defines a module ``__getattr__``, which keeps Python from caching the
    look-up of ``np.NAME`` (at a single point, a third of the cost of ``np.sin``)."""
    names = types.ModuleType(numpy.__name__)
    for name in set(_NUMPY_NAME.findall(text)):
        if hasattr(numpy, name):
            setattr(names, name, getattr(numpy, name))
    return names


class _Compiled:
    """The namespace of a generated function's compiled source (``source`` ends with ``text``).

    ``complete`` (or None): gives the whole source, of which ``source`` is the beginning, up to the
    pure body ``_f_body``; the rest (the planned body ``_f_arrays`` and ``f``) is compiled into the
    same namespace when first needed: at the first call on arrays, or when the source is asked for.
    A function only ever called at points never prints its planned body.
    """

    def __init__(self, source: str, text: str, helpers: tuple[str, ...],
                 complete: Callable[[], tuple[str, str, tuple[str, ...]]] | None = None):
        self.source, self.text, self.helpers = source, text, helpers
        values = _helper_namespace("symcalc.compiler.runtime", helpers, text)
        self.namespace = compile_source(text, source, values)
        self._complete = complete
        self._lock = threading.Lock()
        self._rebinds: list[tuple[dict[str, Any], dict[str, str]]] = []

    def function(self, name: str) -> Callable[..., Any]:
        """The compiled function ``name`` of the whole source."""
        if self._complete is not None:
            self.finish()
        return self.namespace[name]

    def stand_in(self, name: str) -> Callable[..., Any]:
        """``name`` if it is compiled, else a function that compiles the rest and calls it."""
        return self.namespace.get(name) or (lambda *args: self.function(name)(*args))

    def rebind(self, namespace: dict[str, Any], names: dict[str, str]) -> None:
        """Once the rest is compiled, ``namespace[key]`` is the function ``names[key]`` (in place
        of its stand-in)."""
        with self._lock:
            if self._complete is not None:
                self._rebinds.append((namespace, names))
                return
        namespace.update({key: self.namespace[name] for key, name in names.items()})

    def finish(self) -> None:
        """Print and compile the rest of the source, where it is not done yet."""
        with self._lock:
            if self._complete is None:
                return
            source, text, helpers = self._complete()
            start = source.index("\ndef _f_arrays(") + 1
            rest, first = source[start:], source.count("\n", 0, start)
            namespace, filename = self.namespace, self.namespace["__file__"]
            lines = source[:start].count("\n") - self.source.count("\n") - 2
            if lines:  # other helpers than foreseen above the pure body: its lines move
                body = namespace["_f_body"]
                body.__code__ = body.__code__.replace(
                    co_firstlineno=body.__code__.co_firstlineno + lines)
            for name in helpers:
                namespace.setdefault(name, getattr(runtime, name))
            numpy = namespace["np"]
            for name in set(_NUMPY_NAME.findall(rest)):
                if hasattr(np, name):
                    setattr(numpy, name, getattr(np, name))
            code = compile("\n" * first + rest, filename, "exec")
            exec(code, namespace)  # printed from the expression graph, never user text
            linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
            self.source, self.text, self.helpers = source, text, helpers
            for other, names in self._rebinds:
                other.update({key: namespace[name] for key, name in names.items()})
            self._complete, self._rebinds = None, []


class _Documentation:
    """A class's docstring, and for an instance of it the functions it was generated as."""

    def __init__(self, doc: str):
        self.doc = doc

    def __get__(self, instance: Any, owner: type) -> str:
        if instance is None:
            return self.doc
        text = instance._whole().text
        return "Generated by symcalc.lambdify (helpers: symcalc.compiler.runtime):\n\n" + text


class GeneratedFunction:
    """A function generated by ``symcalc.lambdify``; call it like the function it prints.

    ``source`` is the standalone source (NumPy only), ``arity`` the number of variables and
    ``nesting`` the shape of the list of outputs (``()`` for one output); ``numpy_function`` is
    the function ``f`` of that source, compiled.
    """

    __doc__ = _Documentation(__doc__)

    def __init__(self, backend: str, source: str, text: str, pure: str,
                 helpers: tuple[str, ...], pure_helpers: tuple[str, ...], arity: int,
                 nesting: tuple[int, ...], dtype: Any = float,
                 complete: Callable[[], tuple[str, str, tuple[str, ...]]] | None = None):
        self.backend, self.arity, self.nesting, self._dtype = backend, arity, nesting, dtype
        self.dtype = None if dtype is None else np.dtype(dtype)
        self._pure_text, self._pure_helpers = pure, pure_helpers
        self._pure_bodies: dict[str, Callable[..., Any]] = {}
        self._jitted: dict[Any, Callable[..., Any]] = {}
        # ``complete``: the rest of the source (see _Compiled), printed when first needed
        self._compiled = _Compiled(source, text, helpers, complete)
        weakref.finalize(self, linecache.cache.pop, self._compiled.namespace["__file__"], None)
        if self.dtype == np.float64:
            self._plain = _NUMPY_TYPES
        else:  # float32 input may stay float32: only Python numbers take the planned body
            self._plain = _SCALAR_TYPES if dtype is None else frozenset()
        self._fast_call = None
        if backend == "numpy" and arity:
            self._fast_call = self._call_method()

    @property
    def source(self) -> str:
        """The standalone source (NumPy only)."""
        return self._whole().source

    @property
    def numpy_function(self) -> Callable[..., Any]:
        """The function ``f`` of the printed source, compiled (the call method skips it for
        floats)."""
        return self._compiled.function("f")

    _planned = numpy_function

    @property
    def _state(self) -> tuple:
        whole = self._whole()
        return (self.backend, whole.source, whole.text, self._pure_text, whole.helpers,
                self._pure_helpers, self.arity, self.nesting, self._dtype)

    def _whole(self) -> _Compiled:
        self._compiled.finish()
        return self._compiled

    def _call_method(self) -> Callable[..., Any]:
        """``__call__`` written with the function's own parameters (a static method: Python
        then passes the arguments on as they are): no ``*args`` to pack, and one type check for
        a point of Python floats, which goes straight to the pure body (as the printed ``f``
        does, so it is not checked twice); plain arithmetic runs before any check."""
        compiled = self._compiled
        names = compiled.namespace["_f_body"].__code__.co_varnames[:self.arity]
        listed = ", ".join(names)
        plain = " and ".join(f"type({n}) in _plain" for n in names)
        text = f"def f({listed}):\n"
        constants: dict[str, np.ndarray] = {}
        if float in self._plain:  # not for dtype=np.float32, whose floats give float32 results
            floats = " is ".join([f"type({n})" for n in names] + ["float"])
            inlined = inlined_statements(self._pure_text, constants=constants)
            arithmetic = inlined and float_arithmetic(inlined, names)
            if arithmetic:  # (arrays take the usual path, unless the checked ones are floats)
                checked, lines = arithmetic
                text += (f"    if {' is '.join(f'type({n})' for n in checked)} is float:\n"
                         f"        try:\n"
                         + "".join(f"            {line}\n" for line in lines) +
                         "            if type(_value) is float:\n"
                         "                return _value\n"
                         "        except FLOAT_FAULTS:\n"
                         "            pass\n")
            if inlined is None:
                # a long body runs as a function of its own, its outputs put together as above
                statements = inlined_statements(self._pure_text, None, constants)
                if statements is not None:
                    # a long body: its functions of floats through math (see math_calls)
                    statements = math_calls(real_powers(statements)[0])
                    text = (f"def _point({listed}):\n"
                            + "".join(f"    {line}\n" for line in statements)
                            + "    return _value\n\n\n" + text)
                    inlined = [f"_value = _point({listed})"]
            else:
                inlined = real_powers(inlined)[0]
            text += f"    if {floats}:\n"
            if inlined is not None:  # (real_powers: no complex number arises at a point)
                text += ("        try:\n"
                         + "".join(f"            {line}\n" for line in inlined) +
                         "            if not isinstance(_value, complex):\n"
                         "                return _value\n"
                         "        except FLOAT_FAULTS:\n"
                         "            pass\n")
            text += f"        return evaluate(_body, _arrays, {listed})\n"
        if np.ndarray in self._plain:
            # float64 arrays of one shape, the usual input of many points, go straight to the
            # planned body (the checks evaluate makes first, in C)
            packed = f"({listed}{',' if self.arity == 1 else ''})"
            text += (f"    if type({names[0]}) is _ndarray:\n"
                     f"        _args = {packed}\n"
                     f"        if _one_layout(_args):\n"
                     f"            return _planned(_arrays, _args, {names[0]}.shape)\n")
        text += (f"    if {plain}:\n"
                 f"        return _f({listed})\n"
                 f"    return _self.on_arrays(({listed}{',' if self.arity == 1 else ''}))\n")
        namespace = compiled.namespace
        helpers = {**namespace, "_f": compiled.stand_in("f"), "_body": namespace["_f_body"],
                   "_arrays": compiled.stand_in("_f_arrays"), "_plain": self._plain,
                   "FLOAT_FAULTS": runtime.FLOAT_FAULTS, "evaluate": runtime.evaluate,
                   "_pow": math.pow,
                   **MATH_NAMES,
                   "_fromiter": np.fromiter, "_FLOAT64": np.dtype(float), **constants,
                   "_ndarray": np.ndarray, "_one_layout": runtime._one_layout,
                   "_planned": runtime._planned,
                   "_self": weakref.proxy(self)}  # weak: the class holds the call method
        namespace = compile_source(text, text, helpers, "call")
        compiled.rebind(namespace, {"_f": "f", "_arrays": "_f_arrays"})
        weakref.finalize(self, linecache.cache.pop, namespace["__file__"], None)
        return namespace["f"]

    def __call__(self, *args: Any) -> Any:
        if len(args) != self.arity:
            names = ", ".join(self._compiled.namespace["_f_body"].__code__.co_varnames[:self.arity])
            raise SymcalcTypeError(f"the function takes {self.arity} arguments ({names}), "
                                   f"not {len(args)}")
        if self.backend == "jax":
            return self.jax(args, self.dtype)
        if self._plain.issuperset(map(type, args)):
            return self._planned(*args)
        return self.on_arrays(args)

    def on_arrays(self, args: tuple) -> Any:
        """The function on arguments that are not all plain NumPy input."""
        from .array_types import evaluate_arrays
        return evaluate_arrays(self, args)

    def __reduce__(self) -> tuple:
        return (generated_function, self._state)

    def __repr__(self) -> str:
        return f"<symcalc generated function, {self.backend} backend, {self.arity} variables>"

    def planned(self, *args: Any) -> Any:
        """The planned NumPy body on (NumPy) arguments: float64 results."""
        return self._planned(*args)

    def pure_body(self, runtime_module: str) -> Callable[..., Any]:
        """The pure body compiled against ``runtime_module`` (``symcalc.compiler.runtime`` or
        ``symcalc.compiler.backends.jax_runtime``): ``body(*args, shape)``."""
        body = self._pure_bodies.get(runtime_module)
        if body is None:
            namespace = compile_source(self._pure_text, self._pure_text,
                                       _helper_namespace(runtime_module, self._pure_helpers,
                                                         self._pure_text), "pure")
            weakref.finalize(self, linecache.cache.pop, namespace["__file__"], None)
            body = self._pure_bodies[runtime_module] = namespace["_f_pure"]
        return body

    def jax(self, args: tuple, dtype: Any) -> Any:
        """The pure body run by ``jax.numpy`` under ``jax.jit`` (one compiled version per dtype)."""
        jitted = self._jitted.get(dtype)
        if jitted is None:
            from .backends import jax_runtime
            body = self.pure_body("symcalc.compiler.backends.jax_runtime")
            jitted = self._jitted[dtype] = jax_runtime.jit(body, dtype)
        return jitted(*args)


def generated_function(*state: Any, complete: Any = None) -> GeneratedFunction:
    """A ``GeneratedFunction``, for the NumPy backend with a call method generated with the
    function's own parameters: a call at one point costs little more than the bare function
    (a generic ``__call__(self, *args)`` would add several times its overhead).  ``complete``:
    see ``_Compiled``."""
    function = GeneratedFunction(*state, complete=complete)
    if function._fast_call is not None:
        function.__class__ = type("GeneratedFunction", (GeneratedFunction,),
                                  {"__call__": staticmethod(function._fast_call),
                                   "__module__": __name__,
                                   "__doc__": GeneratedFunction.__dict__["__doc__"]})
    return function


class Packed:
    """``f(v)`` for a generated ``f(x, y, ...)``: ``v`` holds the variables in order along its
    last axis, shape ``(d,)`` for one point or ``(N, d)`` (any batch shape) for many.

    One point gives what ``f`` gives (a float, or an array of the output nesting), so
    ``scipy.optimize.minimize(f, x0, jac=g)`` takes packed functions directly; a batch gives the
    batch axes first: shape ``(N,) + nesting``.
    """

    def __init__(self, function: Callable[..., Any], arity: int, nesting: tuple[int, ...]):
        self.function, self.arity, self.nesting = function, arity, nesting
        self.source = getattr(function, "source", None)

    def __call__(self, v: Any) -> Any:
        if type(v) is np.ndarray and v.shape == (self.arity,) and v.dtype == np.float64:
            return self.function(*v.tolist())  # one point, as an optimiser asks: Python floats
        kind = type(v).__module__.partition(".")[0]
        if kind not in ("jax", "jaxlib") and not hasattr(v, "__array_function__"):
            v = np.asarray(v, dtype=float)  # lists, data frames
        shape = getattr(v, "shape", None)
        if not shape or shape[-1] != self.arity:
            raise ShapeError(f"a packed function of {self.arity} variables needs an array whose "
                             f"last axis has length {self.arity}, not shape {shape}")
        result = self.function(*(v[..., k] for k in range(self.arity)))
        if len(shape) == 1 or not self.nesting:
            return result
        xp = np
        if kind in ("jax", "jaxlib"):
            import jax.numpy as xp
        count = len(self.nesting)
        return xp.moveaxis(result, tuple(range(count)), tuple(range(-count, 0)))

    def __repr__(self) -> str:
        return f"<symcalc packed function of {self.arity} variables>"


def check_dtype(dtype: Any) -> Any:
    """``dtype`` if it is None or a floating dtype, else a SymcalcError."""
    if dtype is None:
        return None
    try:
        kind = np.dtype(dtype).kind
    except TypeError:
        kind = None
    if kind != "f":
        raise SymcalcError(f"dtype must be None (keep the input's float type) or a float type "
                           f"such as float or numpy.float32, not {dtype!r}")
    return dtype
