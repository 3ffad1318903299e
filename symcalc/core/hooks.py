"""Late binding between layers: a module calls a function that a module of a higher layer
provides, and that module binds it when it loads.

The modules form layers without an import circle (``tests/test_layers.py``), yet a few methods
of a lower layer are functions of a higher one: ``Expr.diff`` is ``symcalc.diff``, ``str(e)`` is
the printer's, a shaped formula's operators are the matrix layer's canonical constructors.  The
lower module declares ``Hooks`` naming the functions it calls and the module that provides each;
that module calls ``bind`` when it loads, and importing ``symcalc`` loads them all.
"""

from __future__ import annotations

from typing import Callable

from ..errors import SymcalcError


class Hooks:
    """Functions that higher modules bind by name (``hooks.bind(to_str=to_str)``) and lower
    ones call as attributes (``hooks.to_str(e)``); one not bound yet names its provider."""

    def __init__(self, **providers: str) -> None:
        object.__setattr__(self, "_providers", dict(providers))

    def bind(self, **functions: Callable) -> None:
        """Bind each name declared at construction to its function."""
        for name, fn in functions.items():
            if name not in self._providers:
                raise AttributeError(f"no hook named {name!r}")
            object.__setattr__(self, name, fn)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("bind hooks with Hooks.bind")

    def __getattr__(self, name: str):  # only for a name without a bound function
        providers = object.__getattribute__(self, "_providers")
        if name in providers:
            raise SymcalcError(f"{name} is provided by {providers[name]}, which is not "
                               "loaded: import symcalc")
        raise AttributeError(name)

    def provider(self, name: str) -> str:
        """The module that binds ``name``."""
        return self._providers[name]

    def unbound(self) -> list[str]:
        """The declared names no module has bound."""
        return sorted(n for n in self._providers if n not in vars(self))
