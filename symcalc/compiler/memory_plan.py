"""Memory planning: the printed assignments of a function body -> a body for array arguments
whose memory is the live set, not every intermediate.

The printer (``symcalc.compiler.numpy_printer``) gives the temporaries ``_tN = text`` in order and
the text of each output.  Here, where the last operation of a text is an arithmetic operator or a
NumPy ufunc (``a * b + c`` is ``np.add(a * b, c)``):

- a temporary read once and computed from the parameters alone is written into the statement
  that reads it, so a statement gathering many is not preceded by all of them at once;
- each output row is computed as soon as its operands are (rather than all at the end), straight
  into ``_out[i]`` (``np.add(a * b, c, out=_out[i])``), or else assigned into the row;
- a temporary whose last use is an output row is computed in that row, and the row's own
  operation then runs in place there;
- an operation that is the last use of a temporary of the same variables writes into that
  temporary's buffer (``_t3 *= x``, ``np.sin(_t3, out=_t3)``): the planned body runs only when
  every argument is an array, so the same variables mean the same shape;
- every other temporary is deleted after its last use.

Parameters are never written: only buffers that a ufunc of this body allocated are reused.  All
of this works on the printed text, so what runs is exactly what is shown.
"""

from __future__ import annotations

import ast
import functools
import re
from dataclasses import dataclass
from typing import Optional, Sequence

import numpy as np

_TEMP = re.compile(r"\b_t\d+\b")
_IDENTIFIER = re.compile(r"(?<![\w.])[A-Za-z_]\w*")

_OPERATORS = {ast.Add: ("add", "+"), ast.Sub: ("subtract", "-"), ast.Mult: ("multiply", "*"),
              ast.Div: ("divide", "/"), ast.Pow: ("power", "**")}
_COMMUTATIVE = {"*", "+"}


@dataclass(frozen=True)
class _Ufunc:
    """The last operation of a statement, a NumPy ufunc: ``np.<name>(*operands)``."""

    name: str
    operands: tuple[str, ...]
    operator: Optional[str] = None  # "*" for a product, which has an augmented form "t *= b"

    def into(self, out: str, texts: Sequence[str]) -> str:
        return f"np.{self.name}({', '.join(texts)}, out={out})"

    def in_place(self, buffer: str, texts: Sequence[str], position: int) -> str:
        """The statement computing this into ``buffer``, which is operand ``position``."""
        if self.operator and (position == 0 or self.operator in _COMMUTATIVE):
            return f"{buffer} {self.operator}= {texts[1 - position]}"
        return self.into(buffer, texts)


@functools.lru_cache(maxsize=256)  # _ufunc and then _fresh read the same statement
def _expression(text: str) -> ast.expr:
    """The parsed expression ``text`` (not to be changed)."""
    return ast.parse(text, mode="eval").body


def _ufunc(text: str) -> Optional[_Ufunc]:
    """The last operation of ``text`` as a ufunc of the texts of its operands, when it is an
    arithmetic operator or a NumPy ufunc (``a * b + c`` is ``np.add(a * b, c)``)."""
    node = _expression(text)

    one_line = text.isascii() and "\n" not in text  # then offsets are indices into text

    def segment(part: ast.expr) -> str:
        if one_line:  # what get_source_segment gives, without splitting text into lines again
            return text[part.col_offset:part.end_col_offset]
        return ast.get_source_segment(text, part)

    if isinstance(node, ast.BinOp) and type(node.op) in _OPERATORS:
        name, symbol = _OPERATORS[type(node.op)]
        return _Ufunc(name, (segment(node.left), segment(node.right)), symbol)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        return _Ufunc("negative", (segment(node.operand),))
    if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and not node.keywords
            and isinstance(node.func.value, ast.Name) and node.func.value.id == "np"):
        function = getattr(np, node.func.attr, None)
        if (isinstance(function, np.ufunc) and function.nin == len(node.args)
                and function.nout == 1 and not any(isinstance(a, ast.Starred) for a in node.args)):
            return _Ufunc(node.func.attr, tuple(segment(a) for a in node.args))
    return None


@dataclass
class _Statement:
    target: str  # a temporary "_tN", an output row "_out[i]", or "return"
    text: str
    reads: tuple[str, ...]  # the temporaries the text reads


def planned_body(assignments: Sequence[tuple[str, str]], outputs: Sequence[tuple[str, str]],
                 parameters: Sequence[str]) -> list[str]:
    """The planned statements for the temporaries ``assignments`` (name, text) and the outputs
    (target, text): targets are output rows ``_out[i, j]``, or one ``"return"`` (whose text is
    the whole return expression).  The caller allocates ``_out`` first and returns it after."""
    assignments, outputs = _inline_single_use(assignments, outputs)
    sequence = _schedule(assignments, outputs)
    last = {}
    for k, statement in enumerate(sequence):
        for name in statement.reads:
            last[name] = k
    own = _free_names(assignments, set(parameters), set())
    constant = {name for name, names in own.items() if not names}
    placed = _placements(sequence, last, constant)
    # a temporary computed in an output row has the row's full shape, whatever it depends on
    free = _free_names(assignments, set(parameters), set(placed))
    names = {temp: row for temp, row in placed.items()}  # a temporary's current spelling
    owned: set[str] = set()  # temporaries holding a buffer this body allocated
    lines: list[str] = []
    for k, statement in enumerate(sequence):
        text = _TEMP.sub(lambda m: names.get(m.group(), m.group()), statement.text)
        op = _ufunc(text)
        target = statement.target
        consumed = None
        if target == "return":
            lines.append(f"return {text}")
            continue
        if target.startswith("_out"):
            if text != target:  # a row already computed where its temporary was
                varying = set(_IDENTIFIER.findall(statement.text)) & set(parameters) or any(
                    t not in constant for t in statement.reads)
                # a constant row is computed once, as a number, then broadcast into the row
                lines.append(f"{target} = {text}" if op is None or not varying
                             else op.into(target, op.operands))
        elif target in placed:
            row = placed[target]
            lines.append(f"{row} = {text}" if op is None else op.into(row, op.operands))
        else:
            consumed = _reusable(op, statement, k, names, owned, last, free) if op else None
            if consumed is None:
                lines.append(f"{target} = {text}")
                if free[target] and _fresh(text):
                    owned.add(target)
            else:
                buffer = names.get(consumed, consumed)
                lines.append(op.in_place(buffer, op.operands, op.operands.index(buffer)))
                names[target] = buffer
                owned.add(target)
        if k + 1 < len(sequence):
            dead = [names.get(t, t) for t in statement.reads
                    if last[t] == k and t != consumed and t not in placed]
            if dead:
                lines.append(f"del {', '.join(dict.fromkeys(dead))}")
    return lines


def _inline_single_use(assignments: Sequence[tuple[str, str]],
                       outputs: Sequence[tuple[str, str]]) -> tuple[list, list]:
    """The temporaries read once and computed from the parameters alone, written (in
    parentheses: the same operations in the same order, so the same numbers) into the statement
    that reads them.

    A statement gathering many of them (the hidden units of a network) would otherwise find them
    all alive at once; C's allocator gives memory freed above its top 128 KiB back to the system
    at once, so the next call would pay a page fault per 4 KiB to take it back.  Inline, each
    is made just before it is used, from memory just freed."""
    uses: dict[str, int] = {}
    for _, text in [*assignments, *outputs]:
        for temp in _TEMP.findall(text):
            uses[temp] = uses.get(temp, 0) + 1
    # one level only: the printer's bound on nesting at most doubles
    inlined = {name: f"({text})" for name, text in assignments
               if uses.get(name) == 1 and not _TEMP.search(text)}

    def substituted(text: str) -> str:
        return _TEMP.sub(lambda m: inlined.get(m.group(), m.group()), text)

    return ([(name, substituted(text)) for name, text in assignments if name not in inlined],
            [(target, substituted(text)) for target, text in outputs])


def _fresh(text: str) -> bool:
    """Whether ``text`` always gives a new array (for array operands): its last operation is an
    arithmetic operator or a NumPy ufunc."""
    node = _expression(text)
    if isinstance(node, (ast.BinOp, ast.UnaryOp)):
        return not isinstance(node.op, ast.Not)
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
        holder = node.func.value
        return (isinstance(holder, ast.Name) and holder.id == "np"
                and isinstance(getattr(np, node.func.attr, None), np.ufunc))
    return False


def _free_names(assignments: Sequence[tuple[str, str]], parameters: set[str],
                full: set[str]) -> dict[str, frozenset]:
    """The parameters each temporary depends on (read from the text), which fix its shape; a
    temporary of ``full`` (held in an output row) counts as depending on all of them."""
    free: dict[str, frozenset] = {}
    for name, text in assignments:
        if name in full:
            free[name] = frozenset(parameters)
            continue
        found = set(_IDENTIFIER.findall(text)) & parameters
        for temp in _TEMP.findall(text):
            found |= free[temp]
        free[name] = frozenset(found)
    return free


def _schedule(assignments: Sequence[tuple[str, str]],
              outputs: Sequence[tuple[str, str]]) -> list[_Statement]:
    """The temporaries in order, each output row right after the last temporary it reads, the
    return last."""
    position = {name: k for k, (name, _) in enumerate(assignments)}
    after: list[list[_Statement]] = [[] for _ in range(len(assignments) + 1)]
    final = []
    for target, text in outputs:
        statement = _Statement(target, text, tuple(dict.fromkeys(_TEMP.findall(text))))
        if target == "return":
            final.append(statement)
        else:
            after[max((position[t] + 1 for t in statement.reads), default=0)].append(statement)
    sequence = list(after[0])
    for (name, text), rows in zip(assignments, after[1:]):
        sequence.append(_Statement(name, text, tuple(dict.fromkeys(_TEMP.findall(text)))))
        sequence.extend(rows)
    return sequence + final


def _placements(sequence: Sequence[_Statement], last: dict[str, int],
                constant: set[str]) -> dict[str, str]:
    """Temporaries computed by one ufunc straight into an output row: the row that is exactly
    the temporary, or else the row that is its last use.  A ``constant`` temporary (of no
    parameter) stays a number."""
    placed: dict[str, str] = {}
    claimed: set[str] = set()
    defined = {s.target: s for s in sequence if s.target.startswith("_t")}
    for statement in sequence:
        if statement.target.startswith("_out") and statement.text in defined:
            temp = statement.text
            if (temp not in placed and temp not in constant and statement.target not in claimed
                    and _ufunc(defined[temp].text)):
                placed[temp] = statement.target
                claimed.add(statement.target)
    for temp, statement in defined.items():
        if temp in placed or temp in constant or not _ufunc(statement.text):
            continue
        user = sequence[last[temp]]
        if user.target.startswith("_out") and user.target not in claimed:
            placed[temp] = user.target
            claimed.add(user.target)
    return placed


def _reusable(op: _Ufunc, statement: _Statement, k: int, names: dict[str, str], owned: set[str],
              last: dict[str, int], free: dict[str, frozenset]) -> Optional[str]:
    """A temporary whose buffer ``statement`` may overwrite: an operand allocated by this body,
    not used after, of the statement's variables (so of its shape)."""
    for temp in statement.reads:
        if (temp in owned and last[temp] == k and free[temp] == free[statement.target]
                and names.get(temp, temp) in op.operands):
            return temp
    return None
