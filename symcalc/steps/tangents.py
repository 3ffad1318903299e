"""The Jacobian of a vector-valued shaped formula as forward accumulation is taught: a forward
pass that names the intermediate nodes ``v1, v2, ...``, then one step per operation in the same
order, each carrying the Jacobian of its node, ``J(v_k) = dv_k/dx``, from its operands'.

>>> import symcalc as sc
>>> shapes = {"W": ("m", "n"), "x": ("n",)}
>>> d = sc.explain("sigmoid(W@x)", "x", shapes=shapes)
>>> d.result is sc.jacobian("sigmoid(W@x)", "x", shapes=shapes)
True
>>> [s.rule for s in d.steps]
['matrix product', 'entrywise sigmoid']
>>> d.steps[-1].note
'J(v2) = diag(v2*(1 - v2))@J(v1)'

Each step is a ``Step`` whose ``expr`` is the operation's node and ``result`` its Jacobian by the
variable, of shape ``node.shape + x.shape``, in the original variables; ``note`` is the rule in
the names of the forward pass, ``J(x)`` being the identity.  A matrix-valued node that depends on
the variable would carry a 3-index Jacobian: it carries none, and is differentiated through where
a later operation uses it (``F@s``, ``diag(F)``, ``trace(F)``).  The rules are those of
``symcalc.matrix.forward``; ``result`` is ``sc.jacobian``'s node.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..matrix.forward import (derivative_scalar, jacobian_vector, operation_jacobian,
                              operation_tangent)
from ..matrix.nodes import ONE, MatrixExpr, postorder
from ..matrix.ops import eye, symbol, zeros
from ..matrix.printing import latex, to_str
from ..printing.infix import latex_name
from .backprop import Sweep, rule_name, shape_text
from .render import _latex_text
from .step import Step


@dataclass(frozen=True, eq=False)
class ForwardSweep(Sweep):
    """The Jacobian of ``expr`` (a scalar or a vector) by the vector ``var``, by forward
    accumulation, step by step.

    ``forward`` lists the intermediate nodes that depend on ``var`` in evaluation order as
    (name, node); the last is ``expr``.  ``steps`` has one step per operation on a scalar or a
    vector, in the same order; ``result`` is the very node ``sc.jacobian(expr, var)`` returns.
    """

    def _top(self) -> str:
        return self.forward[-1][0] if self.forward else self.var.data

    def __str__(self) -> str:
        var = self.var.data
        mark = self._mark()
        head = f"d/d{var}" if not self.var.shape else f"J_{var}"
        out = [f"{head} {to_str(self.expr)} = {to_str(self.result)}", *self._forward_lines()]
        seed = to_str(eye(self.var.shape[0])) if self.var.shape else "1"
        out.append(f"tangent pass, from {mark}({var}) = {seed}:")
        digits = len(str(len(self.steps)))
        for i, step in enumerate(self.steps, 1):
            out.append(f"{str(i).rjust(digits)}. {step.rule}: {step.note}")
            out.append(f"{' ' * (digits + 5)}= {to_str(step.result)}   "
                       f"({shape_text(step.result.shape)})")
        out.append(f"{mark}({self._top()}) = {to_str(self.result)}")
        return "\n".join(out)

    def _mark(self) -> str:
        return "J" if self.var.shape else "d"

    def latex(self) -> str:
        """An ``align*`` environment: the forward pass, then two lines per step (the rule in
        the names of the forward pass, then its value)."""
        names = self._latex_names()
        rows = self._forward_latex()
        for i, step in enumerate(self.steps, 1):
            rows.append(f"{step.latex_note} && \\text{{{i}. {_latex_text(step.rule)}}}")
            rows.append(f"&= {latex(step.result)}")
        top = names.get(self.expr, latex_name(self.var.data))
        rows.append((f"J_{{{top}}}" if self.var.shape else f"\\dot{{{top}}}")
                    + f" &= {latex(self.result)}")
        return "\\begin{align*}\n" + " \\\\\n".join(rows) + "\n\\end{align*}"

    def to_dict(self) -> dict:
        """JSON-ready: formulas as strings that ``symcalc.parse`` reads back with the shapes."""
        names = self._names()
        return {"variable": self.var.data, "expr": to_str(self.expr), "result": to_str(self.result),
                "mode": "forward", "latex": self.latex(),
                "forward": [{"name": n, "expr": to_str(node), "shape": list(node.shape)}
                            for n, node in self.forward],
                "steps": [{"number": i, "rule": s.rule, "node": names[s.expr],
                           "expr": to_str(s.expr), "jacobian": to_str(s.result),
                           "shape": list(s.result.shape), "note": s.note}
                          for i, s in enumerate(self.steps, 1)]}

    def _repr_latex_(self) -> str:
        return self.latex()

    def __repr__(self) -> str:
        head = f"J_{self.var.data}" if self.var.shape else f"d/d{self.var.data}"
        return f"ForwardSweep({head} {self.expr} = {self.result}, {len(self.steps)} steps)"


def forward_sweep(g: MatrixExpr, x: MatrixExpr) -> ForwardSweep:
    """The forward-accumulation steps of the Jacobian of ``g`` by the symbol ``x``: each
    operation's Jacobian from its operands', once with the operands' Jacobians as named
    placeholders (the rule as a textbook writes it) and once with their values (the step's
    result).  For a vector ``x``, ``g`` is a scalar or a vector and ``J(v) = dv/dx``; for a
    scalar ``x`` (tangent mode), ``g`` has any shape and ``d(v) = dv/dx`` is shaped like ``v``."""
    tangent = not x.shape
    mark = "d" if tangent else "J"
    extra = () if tangent else (x.shape[0],)
    ops = [node for node in postorder([g]) if node.args and x in node.free_symbols]
    forward = [(f"v{i}", node) for i, node in enumerate(ops, 1)]
    text_names: dict[MatrixExpr, str] = {}  # the names defined so far, and the placeholders
    latex_names: dict[MatrixExpr, str] = {}
    held: dict[MatrixExpr, MatrixExpr] = {}  # node -> the placeholder of its Jacobian

    def placeholder(node: MatrixExpr, name: str, latex_text: str) -> MatrixExpr:
        p = symbol(f"{mark}_{name}", node.shape + extra)
        text_names[p] = f"{mark}({name})"
        latex_names[p] = f"\\dot{{{latex_text}}}" if tangent else f"J_{{{latex_text}}}"
        held[node] = p
        return p

    def rule(node: MatrixExpr, known: dict) -> MatrixExpr:
        return (operation_tangent(node, x, known) if tangent
                else operation_jacobian(node, x, known))

    placeholder(x, x.data, latex_name(x.data))
    values: dict[MatrixExpr, MatrixExpr] = {x: ONE if tangent else eye(x.shape[0])}
    steps = []
    for name, node in forward:
        # a note names only the nodes computed by then (a later node may equal a partial)
        text_names[node], latex_names[node] = name, f"v_{{{name[1:]}}}"
        if node.ndim == 2 and not tangent:  # a 3-index Jacobian: taken through where used
            continue
        shown, value = rule(node, dict(held)), rule(node, values)
        if value is None:  # the rules' zero
            value = zeros(*(node.shape + extra))
        values[node] = value
        target = placeholder(node, name, latex_names[node])
        shown_text = "0" if shown is None else to_str(shown, text_names)
        shown_latex = "0" if shown is None else latex(shown, latex_names)
        note_latex = f"{latex_names[target]} &= {shown_latex}"
        steps.append(Step(rule_name(node), node, value,
                          note=f"{mark}({name}) = {shown_text}",
                          make_latex_note=lambda text=note_latex: text))
    result = derivative_scalar(g, x) if tangent else jacobian_vector(g, x)
    return ForwardSweep(g, x, forward, steps, result)
