"""A local web page for symcalc: ``symcalc serve`` (or ``symcalc.web.serve()``).

``api`` computes the answers (JSON in, JSON out), ``mathml`` and ``plot`` draw them, ``server``
serves the page in ``static/`` and the API on 127.0.0.1 with the standard library alone.
"""

from .server import make_server, serve  # noqa: F401

__all__ = ["make_server", "serve"]
