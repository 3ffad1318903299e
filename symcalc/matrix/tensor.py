"""Index expressions: the ``einsum`` node, whose value may be a tensor of order up to 4.

``einsum("ik,lj->ijkl", A, B)`` is NumPy's ``np.einsum`` with the subscripts as the node's data
and the operands (matrices, vectors, ``eye(n)``, other index expressions) as its args.  The
constructor ``einsum`` keeps one normal form:

* scalar factors come out (``einsum("ij,kl->ikjl", 2*A, B) -> 2*einsum(...)``), a zero operand
  gives zeros, a sum of tensors as an operand gives a sum of contractions;
* transposes, outer products, diagonal matrices, entrywise products and nested index
  expressions are spelt out as index operands, so one contraction holds all the factors (a
  chain ``A@B`` stays one operand: computed once, by a matrix product);
* ``eye(n)`` contracted with another operand renames the index instead (``δ_ij A_jk = A_ik``);
* operands with the same indices are one entrywise product (``s_i t_i -> (s*t)_i``);
* the operands are put in a fixed order and the indices renamed in order of appearance, so that
  equal contractions are the same node;
* a result of order 2 or less is written in matrix form where one exists (``A@B``, ``A.T``,
  ``outer``, ``sum``, ``trace``, ``diag``, ``A*B``).

``contract`` builds a contraction from (operand, index letters) pairs with any letters.
"""

from __future__ import annotations

import hashlib
from itertools import permutations, product
from math import factorial
from typing import Callable, Iterable, Optional, Sequence

import numpy as np

from ..core import expr as scalar
from ..errors import SymcalcError
from . import entries
from .build import add, describe, filled, mul, pull_scalars, sort_key, transpose
from .nodes import MatrixExpr, as_node, make
from .ops import diag, eye, ones, outer, sum_, symbol, trace
from .shapes import ShapeError, check_shape, shape_words

MOST = 4  # the largest order of a value: a matrix by a matrix
LETTERS = "ijklmnopqrstuvwxyzabcdefghABCDEFGHIJKLMNOPQRSTUVWXYZ"
Term = tuple  # (operand node, its index letters)


# --- subscripts ---------------------------------------------------------------------------------
def parse_subscripts(spec: object, count: int) -> tuple[list[str], str]:
    """``"ik,lj->ijkl"`` -> (["ik", "lj"], "ijkl"), checked: ``count`` inputs, letters only, the
    output letters distinct and each one among the inputs'."""
    if not isinstance(spec, str):
        raise SymcalcError(f"einsum needs subscripts such as \"ij,jk->ik\" first, not {spec!r}")
    text = spec.replace(" ", "")
    if text.count("->") != 1:
        raise SymcalcError(f"einsum subscripts {spec!r} need one '->' before the output indices")
    left, output = text.split("->")
    inputs = left.split(",") if left else []
    if len(inputs) != count:
        raise SymcalcError(f"einsum subscripts {spec!r} name {len(inputs)} operand"
                           f"{'s' if len(inputs) != 1 else ''}, but {count} "
                           f"{'were' if count != 1 else 'was'} given")
    for part in inputs + [output]:
        if any(ch not in LETTERS for ch in part):
            raise SymcalcError(f"einsum subscripts {spec!r} may hold only letters, ',' and '->'")
    if len(set(output)) != len(output):
        raise SymcalcError(f"einsum subscripts {spec!r} repeat an output index")
    missing = set(output) - set("".join(inputs))
    if missing:
        raise SymcalcError(f"einsum subscripts {spec!r}: the output index "
                           f"{''.join(sorted(missing))} is not an index of any operand")
    if len(output) > MOST:
        raise SymcalcError(f"einsum subscripts {spec!r}: results have at most {MOST} indices")
    return inputs, output


def subscripts(inputs: Sequence[str], output: str) -> str:
    return ",".join(inputs) + "->" + output


def _sizes(terms: Iterable[Term]) -> dict:
    """The size of each letter, checked: one letter has one size."""
    sizes: dict = {}
    origin: dict = {}
    for node, letters in terms:
        if len(letters) != node.ndim:
            raise ShapeError(f"einsum gives {len(letters)} indices ({letters or 'none'}) to "
                             f"{describe(node)}")
        for letter, dim in zip(letters, node.shape):
            origin.setdefault(letter, node)
            if sizes.setdefault(letter, dim) != dim:
                raise ShapeError(f"einsum index {letter} has size {sizes[letter]} in "
                                 f"{describe(origin[letter])} and {dim} in {describe(node)}")
    return sizes


def einsum_shape(spec: str, *shapes: tuple) -> tuple:
    """The shape of ``einsum(spec, ...)`` from its operands' shapes."""
    inputs, output = parse_subscripts(spec, len(shapes))
    sizes: dict = {}
    for letters, shape in zip(inputs, shapes):
        if len(letters) != len(shape):
            raise ShapeError(f"einsum gives {len(letters)} indices to {shape_words(shape)}")
        for letter, dim in zip(letters, shape):
            if sizes.setdefault(letter, dim) != dim:
                raise ShapeError(f"einsum index {letter} has sizes {sizes[letter]} and {dim}")
    return tuple(sizes[c] for c in output)


def tensor_symbol(name: str, shape: tuple) -> MatrixExpr:
    """A symbol of up to 4 axes (a direction or weight shaped like a tensor derivative)."""
    symbol(name)  # the name's checks
    return make("symbol", (), check_shape(shape, most=MOST), name)


# --- the canonical constructor ------------------------------------------------------------------
class _Fresh:
    """Letters not yet used."""

    def __init__(self, used: Iterable[str]):
        self.used = set(used)

    def __call__(self) -> str:
        for c in LETTERS:
            if c not in self.used:
                self.used.add(c)
                return c
        raise SymcalcError("an index expression needs more than 52 indices")


def einsum(spec: str, *operands: object) -> MatrixExpr:
    """``np.einsum(spec, *operands)`` as a node, in normal form (see the module's docstring)."""
    nodes = [as_node(o) for o in operands]
    inputs, output = parse_subscripts(spec, len(nodes))
    return contract(list(zip(nodes, inputs)), output)


def contract(terms: Sequence[Term], output: str) -> MatrixExpr:
    """The contraction of ``terms`` (operand, index letters) keeping the ``output`` letters."""
    sizes = _sizes(terms)
    shape = tuple(sizes[c] for c in output)
    fresh = _Fresh(set(sizes) | set(output))
    scalars: list[MatrixExpr] = []
    queue, kept = list(terms), []
    while queue:
        node, letters = queue.pop(0)
        found, node = pull_scalars(node)
        while found:  # s*(2*u + 2*v): s, then 2
            scalars += found
            found, node = pull_scalars(node)
        if not node.shape:
            scalars.append(node)
            continue
        kind = node.kind
        if kind == "zeros":
            return filled(0, shape)
        if kind == "add" and node.ndim > 2:  # a sum of tensors: one contraction per term
            rest = kept + queue
            total = add(*(contract(rest + [(t, letters)], output) for t in node.args))
            return mul(*scalars, total) if scalars else total
        if kind == "transpose":
            queue.append((node.args[0], letters[::-1]))
        elif kind == "einsum":
            queue += _inlined(node, letters, fresh)
        elif kind == "outer":
            queue += [(node.args[0], letters[0]), (node.args[1], letters[1])]
        elif kind == "diag" and node.ndim == 2:
            queue += [(node.args[0], letters[0]), (eye(node.shape[0]), letters)]
        elif kind == "mul" and all(f.shape == node.shape for f in node.args):
            queue += [(f, letters) for f in node.args]  # a Hadamard product shares indices
        else:
            kept.append((node, letters))
    return mul(*scalars, _normal(kept, output, shape)) if scalars else _normal(kept, output, shape)


def _inlined(node: MatrixExpr, letters: str, fresh: _Fresh) -> list[Term]:
    """The terms of a nested index expression, its output indices named ``letters`` and its
    summed indices fresh."""
    inputs, output = parse_subscripts(node.data, len(node.args))
    rename = dict(zip(output, letters))
    for c in set("".join(inputs)) - set(output):
        rename[c] = fresh()
    return [(a, "".join(rename[c] for c in s)) for a, s in zip(node.args, inputs)]


def _rename(terms: list[Term], output: str, old: str, new: str) -> tuple[list[Term], str]:
    return [(n, s.replace(old, new)) for n, s in terms], output.replace(old, new)


def _without_eyes(terms: list[Term], output: str) -> tuple[list[Term], str]:
    """``δ_ab`` contracted with another operand renames one index to the other."""
    changed = True
    while changed:
        changed = False
        for k, (node, letters) in enumerate(terms):
            if node.kind != "eye" or letters[0] == letters[1]:
                continue
            a, b = letters
            others = terms[:k] + terms[k + 1:]
            elsewhere = "".join(s for _, s in others)
            if a not in elsewhere and b not in elsewhere:
                if a in output and b in output:
                    continue
                if a not in output and b not in output:
                    continue  # sum of a whole identity: kept
                keep = b if a not in output else a  # sum over one index: a vector of ones
                terms = others + [(ones(node.shape[0]), keep)]
                changed = True
                break
            if b not in output:
                terms, output = _rename(others, output, b, a)
            elif a not in output:
                terms, output = _rename(others, output, a, b)
            else:
                continue
            changed = True
            break
    return terms, output


def _relabel(terms: Sequence[Term], output: str) -> tuple[list[Term], str]:
    """Indices renamed i, j, k, ... in order of appearance."""
    order: dict = {}
    for c in "".join(s for _, s in terms) + output:
        order.setdefault(c, LETTERS[len(order)])
    return [(n, "".join(order[c] for c in s)) for n, s in terms], "".join(order[c] for c in output)


_ORDERINGS = 720  # equal operands tried in every order up to this many orderings


def _digest(value: object) -> str:
    return hashlib.blake2b(repr(value).encode(), digest_size=10).hexdigest()


def _colours(terms: Sequence[Term], output: str, rounds: int = 3) -> list[str]:
    """A label for each operand that does not depend on the index letters: its node and, round
    by round, how its indices connect to the output and to the other operands (so that equal
    operands in different places are told apart)."""
    letters = {c: _digest(("out", output.index(c)) if c in output else "sum")
               for c in "".join(s for _, s in terms) + output}
    colours = []
    for _ in range(rounds):
        colours = [_digest((sort_key(n)[2], tuple(letters[c] for c in s))) for n, s in terms]
        seen: dict = {c: [] for c in letters}
        for colour, (_, s) in zip(colours, terms):
            for position, c in enumerate(s):
                seen[c].append((colour, position))
        letters = {c: _digest((letters[c], sorted(seen[c]))) for c in letters}
    return colours


def _relabelled(terms: list[Term], output: str) -> tuple[list[Term], str]:
    """Operands in the structural order (equal operands by how they connect, and where that
    leaves a tie in the order whose renamed subscripts sort first), indices renamed in order
    of appearance: one form for equal contractions."""
    colours = _colours(terms, output)
    ranked = sorted(zip(terms, colours), key=lambda tc: (sort_key(tc[0][0]), tc[1]))
    groups: list[list[Term]] = []
    previous = None
    for t, colour in ranked:
        if groups and previous == (t[0], colour):
            groups[-1].append(t)
        else:
            groups.append([t])
        previous = (t[0], colour)
    count = 1
    for g in groups:
        count *= factorial(len(g))
    if count == 1 or count > _ORDERINGS:
        return _relabel([t for g in groups for t in g], output)
    best = None
    for choice in product(*(permutations(g) for g in groups)):
        candidate = _relabel([t for g in choice for t in g], output)
        key = (",".join(s for _, s in candidate[0]), candidate[1])
        if best is None or key < best[0]:
            best = (key, candidate)
    return best[1]


def _merged(terms: list[Term]) -> list[Term]:
    """Operands with the same indices in the same order multiplied entrywise into one:
    ``s_i t_i A_ij -> (s*t)_i A_ij``."""
    groups: dict[str, list[MatrixExpr]] = {}
    out: list[Term] = []
    for node, letters in terms:
        if node.kind in ("eye", "ones") or len(set(letters)) != len(letters):
            out.append((node, letters))
        else:
            groups.setdefault(letters, []).append(node)
    return out + [(mul(*nodes) if len(nodes) > 1 else nodes[0], letters)
                  for letters, nodes in groups.items()]


def _normal(terms: list[Term], output: str, shape: tuple) -> MatrixExpr:
    terms, output = _without_eyes(terms, output)
    if any(n.kind == "zeros" for n, _ in terms):
        return filled(0, shape)
    if not terms:
        return filled(1, shape)
    if all(n.kind == "ones" for n, _ in terms):
        letters = "".join(s for _, s in terms)
        if len(set(letters)) == len(letters) and set(letters) == set(output):
            return filled(1, shape)
    if len(output) <= 2:  # a matrix form, before operands are multiplied entrywise: x@y
        form = _matrix_form(*_relabelled(terms, output))
        if form is not None:
            return form
    terms, output = _relabelled(_merged(terms), output)
    if len(output) <= 2:
        form = _matrix_form(terms, output)
        if form is not None:
            return form
    spec = subscripts([s for _, s in terms], output)
    return make("einsum", tuple(n for n, _ in terms), shape, spec)


# --- matrix forms of small contractions ---------------------------------------------------------
def _oriented(node: MatrixExpr, letters: str, order: str) -> MatrixExpr:
    """``node`` with its axes in the order ``order`` (a permutation of ``letters``)."""
    return node if letters == order else transpose(node)


def _matrix_form(terms: list[Term], output: str) -> Optional[MatrixExpr]:
    """A matrix expression for a contraction of operands of order <= 2 with a result of order
    <= 2, where one exists (a chain of products, a trace, an outer product, an entrywise product
    or its sum), else None."""
    if any(len(set(s)) != len(s) for _, s in terms[1:]) or any(n.ndim > 2 for n, _ in terms):
        return None
    if len(terms) == 1:
        (node, s), = terms
        if len(set(s)) == len(s):
            if sorted(s) == sorted(output):
                return _oriented(node, s, output)
            if not output:
                return sum_(node)
            return None
        if s[0] == s[1]:
            return trace(node) if not output else diag(node) if output == s[0] else None
        return None
    if any(n.kind == "eye" for n, _ in terms) or len(set(terms[0][1])) != len(terms[0][1]):
        return None
    if len(terms) == 2:
        (a, sa), (b, sb) = terms
        if not set(sa) & set(sb) and a.ndim == b.ndim == 1:
            return outer(a, b) if output == sa + sb else outer(b, a) if output == sb + sa else None
        if set(sa) == set(sb) and len(sa) == len(sb) and a.ndim == 2:  # sum(A*B), not a trace
            value = mul(a, _oriented(b, sb, sa))
            if not output:
                return sum_(value)
            if sorted(output) == sorted(sa):
                return _oriented(value, sa, output)
    return _chain_form(terms, output)


def _chain_form(terms: list[Term], output: str) -> Optional[MatrixExpr]:
    """``F1@F2@...@Fk`` (or its trace) when the operands form a chain: each summed index joins
    two operands, each output index ends the chain; None otherwise."""
    where: dict = {}
    for k, (_, s) in enumerate(terms):
        for c in s:
            where.setdefault(c, []).append(k)
    for c, ks in where.items():
        if len(ks) != (1 if c in output else 2):
            return None
    vectors = [k for k, (n, _) in enumerate(terms) if n.ndim == 1]
    if output:
        start, letter = where[output[0]][0], output[0]
    elif vectors:
        start, letter = vectors[0], None
    else:  # a cycle of matrices: a trace
        start, letter = 0, terms[0][1][0]
    factors, used, k = [], set(), start
    while True:
        node, s = terms[k]
        used.add(k)
        if node.ndim == 1:
            if factors and letter != s:
                return None
            factors.append(node)
            if factors[1:]:  # a vector ends the chain
                break
            letter = s
        else:
            if letter is None or letter not in s:
                return None
            factors.append(_oriented(node, s, letter + s.replace(letter, "")))
            letter = s.replace(letter, "")
        if letter in output or (not output and not vectors and letter == terms[start][1][0]):
            break
        following = [j for j in where[letter] if j != k]
        if not following or following[0] in used:
            return None
        k = following[0]
    if len(used) != len(terms):
        return None
    value = factors[0]
    for f in factors[1:]:
        from .build import matmul
        value = matmul(value, f)
    if not output and not vectors:
        return trace(value)
    return value if value.ndim <= 1 or output == (output[0] + letter) else None


# --- the rules of the record --------------------------------------------------------------------
def einsum_adjoint(node: MatrixExpr, bar: MatrixExpr, wanted: Callable) -> Iterable:
    """Each operand's adjoint: the contraction of the node's adjoint with the other operands,
    keeping the operand's indices (a repeated index through ``eye``, an index summed alone
    through ``ones``)."""
    inputs, output = parse_subscripts(node.data, len(node.args))
    sizes = _sizes(zip(node.args, inputs))
    for k, operand in enumerate(node.args):
        if not wanted(operand):
            continue
        fresh = _Fresh(set(sizes))
        terms = [(bar, output)] + [(a, s) for i, (a, s) in enumerate(zip(node.args, inputs))
                                   if i != k]
        mine, seen = "", set()
        for c in inputs[k]:
            if c in seen:  # a diagonal: the adjoint lives on it
                d = fresh()
                terms.append((eye(sizes[c]), c + d))
                c = d
            seen.add(c)
            mine += c
        present = "".join(s for _, s in terms)
        for c in mine:
            if c not in present:
                terms.append((ones(sizes[c]), c))
        yield operand, contract(terms, mine)


def einsum_tangent(node: MatrixExpr, ds: list) -> Optional[MatrixExpr]:
    """The product rule: one contraction per operand with a derivative."""
    parts = [einsum(node.data, *(node.args[:i] + (d,) + node.args[i + 1:]))
             for i, d in enumerate(ds) if d is not None]
    return add(*parts) if parts else None


def einsum_transposed(node: MatrixExpr, transposed: Callable) -> MatrixExpr:
    """The axes reversed (NumPy's ``.T``)."""
    inputs, output = parse_subscripts(node.data, len(node.args))
    return contract(list(zip(node.args, inputs)), output[::-1])


def einsum_unroll(node: MatrixExpr, values: list, shape: tuple) -> np.ndarray:
    """The entries, each the sum over the summed indices of the products of entries."""
    inputs, output = parse_subscripts(node.data, len(node.args))
    sizes: dict = {}
    for letters, array in zip(inputs, values):
        sizes.update(zip(letters, array.shape))
    summed = sorted(set("".join(inputs)) - set(output))

    def entry(index: tuple):
        at = dict(zip(output, index))
        terms = []
        for inner in product(*(range(sizes[c]) for c in summed)):
            at.update(zip(summed, inner))
            terms.append(scalar.mul(*(array[tuple(at[c] for c in letters)]
                                      for letters, array in zip(inputs, values))))
        return scalar.add(*terms)
    if not shape:
        return entries.scalar_array(entry(()))
    return entries.objects(shape, entry)


# --- forms ----------------------------------------------------------------------------------------
def _operands_text(texts: list) -> str:
    return ", ".join(t for t, _ in texts)


def text_form(texts: list, paren: Callable, node: MatrixExpr) -> tuple[str, int]:
    return f'einsum("{node.data}", {_operands_text(texts)})', 5


def _path(node: MatrixExpr) -> list:
    """A contraction order chosen once, at code generation, for sizes of 100 (names) or as
    given (ints); NumPy then multiplies pairs with BLAS."""
    if len(node.args) < 2:
        return ["einsum_path", (0,)] if node.args else ["einsum_path"]
    probes = [np.broadcast_to(np.zeros(()), tuple(d if isinstance(d, int) else 100
                                                 for d in a.shape)) for a in node.args]
    return np.einsum_path(node.data, *probes, optimize="greedy")[0]


def numpy_form(texts: list, paren: Callable, node: MatrixExpr) -> tuple[str, int]:
    return (f'np.einsum("{node.data}", {_operands_text(texts)}, '
            f'optimize={_path(node)!r})', 5)


def jax_form(texts: list, paren: Callable, node: MatrixExpr) -> tuple[str, int]:
    return f'jnp.einsum("{node.data}", {_operands_text(texts)})', 5


def latex_form(texts: list, paren: Callable, node: MatrixExpr) -> tuple[str, int]:
    """Index notation: ``\\left[\\sum_{j} A_{ij} B_{jk}\\right]_{ik}``; ``eye`` is ``δ``."""
    inputs, output = parse_subscripts(node.data, len(node.args))
    factors = []
    for (text, prec), operand, letters in zip(texts, node.args, inputs):
        if operand.kind == "eye":
            factors.append(f"\\delta_{{{letters}}}")
        elif prec >= 5 and text.replace("\\", "").isalnum():
            factors.append(f"{text}_{{{letters}}}")
        elif prec >= 5:
            factors.append(f"{{{text}}}_{{{letters}}}")
        else:
            factors.append(f"\\left({text}\\right)_{{{letters}}}")
    summed = "".join(sorted(set("".join(inputs)) - set(output), key=LETTERS.index))
    body = (f"\\sum_{{{summed}}} " if summed else "") + " ".join(factors)
    return f"\\left[{body}\\right]_{{{output}}}", 5
