"""The gradient of a shaped formula as backpropagation is taught: a forward pass that names the
intermediate nodes ``v1, v2, ...``, then one adjoint step per operation in reverse order.

>>> import symcalc as sc
>>> shapes = {"A": ("m", "n"), "t": ("n",), "b": ("m",)}
>>> d = sc.explain("0.5*norm(A@t - b)^2", "t", shapes=shapes)
>>> d.result is sc.grad("0.5*norm(A@t - b)^2", "t", shapes=shapes)
True
>>> [s.rule for s in d.steps]
['product', 'power', 'norm', 'sum of terms', 'matrix product']
>>> d.steps[-1].substeps[0].note
'bar(t) += A.T@bar(v1)'

Each step is a ``Step`` whose ``expr`` is the operation's node, ``result`` its adjoint (the
gradient of the output with respect to that node, in the original variables) and ``substeps`` the
contributions it sends, one per operand: ``expr`` the operand, ``result`` the contribution, and
``note`` the textbook form ``bar(operand) += ...`` in the names of the forward pass.  The rules
are those of ``symcalc.matrix.adjoint``; the sum of the contributions is ``sc.grad``'s node.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..matrix.adjoint import contributions, gradients
from ..matrix.nodes import MatrixExpr, postorder
from ..matrix.operations import OPERATIONS
from ..matrix.ops import symbol
from ..matrix.printing import latex, to_str
from ..matrix.structure import within
from ..printing.infix import latex_name
from .render import _latex_text
from .step import Step

def rule_name(node: MatrixExpr) -> str:
    """The name of the adjoint rule of an operation, e.g. ``"entrywise sigmoid"``."""
    if node.kind == "apply":
        return f"entrywise {node.data.name}" if node.shape else node.data.name
    if node.kind == "mul":
        return "entrywise product" if node.shape else "product"
    if node.kind in OPERATIONS:
        return OPERATIONS[node.kind].step
    return {"add": "sum of terms", "pow": "power"}.get(node.kind, node.kind)


def shape_text(shape: tuple) -> str:
    """``"scalar"`` or the sizes joined by `` x ``."""
    return "scalar" if not shape else " x ".join(map(str, shape))


@dataclass(frozen=True, eq=False)
class Sweep:
    """A derivation over a shaped formula's nodes, named ``v1, v2, ...`` in ``forward`` (name,
    node), with one step per operation and the result the API returns."""

    expr: MatrixExpr
    var: MatrixExpr
    forward: list[tuple[str, MatrixExpr]]
    steps: list[Step]
    result: MatrixExpr

    def _names(self) -> dict[MatrixExpr, str]:
        return {node: name for name, node in self.forward}

    def _latex_names(self) -> dict[MatrixExpr, str]:
        return {node: f"v_{{{name[1:]}}}" for name, node in self.forward}

    def _forward_latex(self) -> list[str]:
        """The forward pass as rows of an ``align*`` environment."""
        names = self._latex_names()
        return [f"{names[node]} &= {latex(node, {c: names[c] for c in node.args if c in names})}"
                f" && \\text{{{shape_text(node.shape)}}}" for _, node in self.forward]

    def _forward_lines(self) -> list[str]:
        """The forward pass as text: each named node over the names of its operands, with its
        shape, in aligned columns."""
        names = self._names()
        width = max((len(n) for n, _ in self.forward), default=0)
        bodies = [to_str(node, {c: names[c] for c in node.args if c in names})
                  for _, node in self.forward]
        span = max(map(len, bodies), default=0)
        return ["forward pass:"] + [
            f"  {name.ljust(width)} = {body.ljust(span)}   {shape_text(node.shape)}"
            for (name, node), body in zip(self.forward, bodies)]


@dataclass(frozen=True, eq=False)
class Backprop(Sweep):
    """The gradient of the scalar ``expr`` by ``var`` by reverse accumulation, step by step.

    ``forward`` lists the intermediate nodes in evaluation order as (name, node); the last is
    ``expr``.  ``steps`` has one step per operation, in reverse order; ``result`` is the very
    node ``sc.grad(expr, var)`` returns.
    """

    def __str__(self) -> str:
        var = self.var.data
        out = [f"grad_{var} {to_str(self.expr)} = {to_str(self.result)}", *self._forward_lines()]
        top = self.forward[-1][0] if self.forward else var
        out.append(f"reverse pass, from bar({top}) = 1:")
        digits = len(str(len(self.steps)))
        for i, step in enumerate(self.steps, 1):
            out.append(f"{str(i).rjust(digits)}. {step.rule}: {step.note}")
            out.extend(f"{' ' * (digits + 5)}{part.note}" for part in step.substeps)
        out.append(f"bar({var}) = {to_str(self.result)}")
        return "\n".join(out)

    def latex(self) -> str:
        """An ``align*`` environment: the forward pass, then one line per contribution."""
        rows = self._forward_latex()
        for i, step in enumerate(self.steps, 1):
            label = f"\\text{{{i}. {_latex_text(step.rule)}}}"
            for part in step.substeps:
                rows.append(f"{part.latex_note} && {label}")
                label = ""
        rows.append(f"\\bar{{{latex_name(self.var.data)}}} &= {latex(self.result)}")
        return "\\begin{align*}\n" + " \\\\\n".join(rows) + "\n\\end{align*}"

    def to_dict(self) -> dict:
        """JSON-ready: formulas as strings that ``symcalc.parse`` reads back with the shapes."""
        names = self._names()
        return {"variable": self.var.data, "expr": to_str(self.expr), "result": to_str(self.result),
                "latex": self.latex(),
                "forward": [{"name": n, "expr": to_str(node), "shape": list(node.shape)}
                            for n, node in self.forward],
                "steps": [{"number": i, "rule": s.rule, "node": names.get(s.expr, to_str(s.expr)),
                           "expr": to_str(s.expr), "adjoint": to_str(s.result),
                           "contributions": [{"to": names.get(p.expr, to_str(p.expr)),
                                              "value": to_str(p.result), "note": p.note}
                                             for p in s.substeps]}
                          for i, s in enumerate(self.steps, 1)]}

    def _repr_latex_(self) -> str:
        return self.latex()

    def __repr__(self) -> str:
        return f"Backprop(grad_{self.var.data} {self.expr} = {self.result}, {len(self.steps)} steps)"


def backprop(f: MatrixExpr, x: MatrixExpr) -> Backprop:
    """The reverse-accumulation steps of ``gradients(f, [x])``, recorded as they are summed."""
    recorded: dict[MatrixExpr, list] = {}
    result = gradients(f, [x], lambda node, bar, child, part: recorded.setdefault(
        node, [bar, []])[1].append((child, part)))[0]
    ops = [n for n in postorder([f]) if n in recorded]
    forward = [(f"v{i}", node) for i, node in enumerate(ops, 1)]
    names = {node: name for name, node in forward}
    text_names, latex_names = dict(names), {n: f"v_{{{s[1:]}}}" for n, s in names.items()}
    steps = []
    for node in reversed(ops):
        bar, parts = recorded[node]
        name = names[node]
        # the same rule again, with the adjoint as a named placeholder, for the textbook form
        placeholder = symbol(f"bar_{name}", node.shape)
        text_names[placeholder] = f"bar({name})"
        latex_names[placeholder] = f"\\bar{{v}}_{{{name[1:]}}}"
        wanted = {child for child, _ in parts}.__contains__
        shown = list(contributions(node, placeholder, wanted))
        substeps = tuple(_contribution(child, part, shown_part, text_names, latex_names)
                         for (child, part), (_, shown_part) in zip(parts, shown))
        args = {c: text_names[c] for c in node.args if c in text_names}
        steps.append(Step(rule_name(node), node, bar, substeps,
                          note=f"{name} = {to_str(node, args)}, receives bar({name})"))
    projected = within(result, x)
    if projected is not result:  # a symmetric (or diagonal) variable: the gradient within it
        steps.append(_structure_step(x, result, projected))
    return Backprop(f, x, forward, steps, projected)


# each structure's projection of the summed adjoint G: as text, and as LaTeX of G's LaTeX {0}
_PROJECTIONS = {
    "symmetric": ("(G + G.T)/2", "\\tfrac{{1}}{{2}}\\left({0} + {0}^{{\\top}}\\right)"),
    "diagonal": ("diag(diag(G))",
                 "\\operatorname{{diag}}\\left(\\operatorname{{diag}}\\left({0}\\right)\\right)"),
}


def _structure_step(x: MatrixExpr, summed: MatrixExpr, projected: MatrixExpr) -> Step:
    """The last step for a variable declared symmetric or diagonal: the sum ``G`` of the
    contributions (every entry independent) projected onto the structure."""
    text, tex = _PROJECTIONS[x.structure]
    bar = f"\\bar{{{latex_name(x.data)}}}"
    part = Step("projection", x, projected,
                note=f"bar({x.data}) = {text.replace('G', f'bar({x.data})')} = {to_str(projected)}",
                make_latex_note=lambda: f"{bar} &= {tex.format(bar)} = {latex(projected)}")
    return Step(f"{x.structure} matrix", x, projected, (part,),
                note=f"{x.data} is {x.structure}, G = {to_str(summed)} treats its entries as "
                     f"independent; the gradient is {text}", before=summed)


def _contribution(child: MatrixExpr, part: MatrixExpr, shown: MatrixExpr, text_names: dict,
                  latex_names: dict) -> Step:
    target = text_names.get(child, to_str(child))
    if child in latex_names:
        latex_target = latex_names[child].replace("v_", "\\bar{v}_", 1)
    else:
        latex_target = "\\bar{%s}" % (latex_name(child.data) if child.kind == "symbol"
                                      else latex(child))
    body_latex = latex(shown, latex_names)
    return Step("contribution", child, part,
                note=f"bar({target}) += {to_str(shown, text_names)}",
                make_latex_note=lambda: f"{latex_target} &\\mathrel{{+}}= {body_latex}")
