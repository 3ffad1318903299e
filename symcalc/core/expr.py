"""The expression graph's canonical constructors and canonical order.

The node classes are in ``symcalc.core.nodes`` and are re-exported here, so ``symcalc.core.expr``
is the one place to import the graph from.  The canonical constructors ``add``, ``mul`` and
``power`` keep every expression in one normal form, the same whether it came from the parser or
from Python operators (they are the operators: see the end of this module):

* nested sums and products are flattened, numbers are folded exactly (integers of any size and
  rationals), like terms are collected (``2*x + 3*x -> 5*x``), equal bases merged
  (``x*x^2 -> x^3``), and ``x^0``, ``x^1``, ``1*x`` and ``x + 0`` disappear;
* terms and factors are sorted by a fixed structural order, so equal results print equally;
* a number times a single sum is distributed (``-(x - 1) -> 1 - x``);
* a power of numbers is computed only while the result stays small (``9^9^9`` stays as it is).
"""

from __future__ import annotations

import hashlib
import operator
from itertools import compress
import weakref
from bisect import bisect_left
from fractions import Fraction
from typing import Callable, Sequence

from . import bigint
from ..errors import DivisionByZeroError
from .nodes import (E, HALF, MINUS_ONE, ONE, PI, ZERO, Add, Call, Constant, Expr, Mul, Num, Pow,
                    Rational, Symbol, _new, as_expr, bind_arithmetic, count_ops, memoised,
                    postorder, store)
from .nodes import API

__all__ = [
    "E", "HALF", "MINUS_ONE", "ONE", "PI", "ZERO", "Add", "Call", "Constant", "Expr", "Mul", "Num",
    "Pow", "Rational", "Symbol", "as_expr", "count_ops", "postorder", "store", "structural_key",
    "degree", "split_coefficient", "add", "add_scaled", "mul", "negate", "power", "make_call",
    "with_args", "rebuild", "raw_add", "raw_mul",
]


# --- canonical order --------------------------------------------------------------------------
_RANK = {"Num": 0, "Symbol": 1, "Constant": 1, "Call": 2, "Pow": 3, "Mul": 4, "Add": 5}


_KEY_TEXT = 48  # characters of readable structure kept in a sort key


def structural_key(node: Expr) -> str:
    """The node's sort key (cached): a readable prefix of its structure, then a digest of all of it.

    The readable part orders atoms the way a person expects (by name, by function, by argument);
    the digest makes the key injective.  Both have bounded length, so keys stay small even for a
    graph whose tree would be exponentially large.
    """
    key = node._skey
    if key is None:
        args = node.args
        if (type(node) is Add and len(args) >= _GROWN_FROM
                and "digest_sum" in getattr(node, "_memo", ())):
            _store_key(node)  # a grown sum: its digest is known, its text needs a few arguments
            return node._skey
        if None in map(_key_of, args):  # (the common case, all set, is checked in C)
            missing = list(compress(args, map(operator.not_, map(_key_of, args))))
            for n in postorder(missing, done=lambda m: m._skey is not None):
                _store_key(n)
        _store_key(node)
        key = node._skey
    return key


_key_of = operator.attrgetter("_skey")
_DIGEST = 32  # hexadecimal digits of the digest ending every key
_digest_of = operator.itemgetter(slice(-_DIGEST, None))


def _store_key(n: Expr) -> None:
    """Set ``n._skey`` from its arguments' keys, which are already set."""
    if isinstance(n, Num):
        v = n.value
        text = f"{v.numerator:x}/{v.denominator:x}" if isinstance(v, Fraction) else f"{v:x}"
        digest = text
    elif isinstance(n, (Symbol, Constant)):
        text = n.name if isinstance(n, Symbol) else "#" + n.name
        digest = text
    else:
        head = n.fn.name if isinstance(n, Call) else type(n).__name__
        # head(text, text, ...) cut to _KEY_TEXT characters: only the first arguments' texts count
        pieces, length = [head, "("], len(head) + 1
        for k, arg in enumerate(n.args):
            if length > _KEY_TEXT:
                break
            piece = (arg._skey or structural_key(arg)).split("\0", 1)[0]
            pieces.append("," + piece if k else piece)
            length += len(pieces[-1])
        else:
            pieces.append(")")
        text = "".join(pieces)
        if type(n) is Add and len(n.args) >= _GROWN_FROM:
            # a large sum: the digest of its terms' digests summed, which a sum grown by one term
            # updates in O(1) (its terms are a set, sorted: their order adds nothing)
            digest = f"{head}+{_digest_sum(n):x}"
        else:
            digest = head + "(" + ",".join(map(_digest_of, map(_key_of, n.args))) + ")"
    digest = hashlib.blake2b(digest.encode(), digest_size=_DIGEST // 2).hexdigest()
    store(n, "_skey", text[:_KEY_TEXT] + "\0" + digest)


_DIGEST_MODULUS = 1 << (4 * _DIGEST)


def _digest_value(node: Expr) -> int:
    return int((node._skey or structural_key(node))[-_DIGEST:], 16)


def _known_digest_sum(total: Add) -> int | None:
    memo = getattr(total, "_memo", None)
    return None if memo is None else memo.get("digest_sum")


def _digest_sum(total: Add) -> int:
    """The sum of the digests of a large sum's terms (kept with it)."""
    value = _known_digest_sum(total)
    if value is None:
        value = memoised(total, "digest_sum",
                         lambda t: sum(map(_digest_value, t.args)) % _DIGEST_MODULUS)
    return value


def _base_exponent(factor: Expr) -> tuple[Expr, Expr]:
    return (factor.args[0], factor.args[1]) if isinstance(factor, Pow) else (factor, ONE)


def _factor_key(factor: Expr) -> tuple:
    """Order of a factor in a product (cached): by the kind of its base, the base, the exponent."""
    key = factor._fkey
    if key is None:
        base, exp = _base_exponent(factor)
        exp_rank = (0, -exp.value) if isinstance(exp, Num) else (1, structural_key(exp))
        key = (_RANK[type(base).__name__], structural_key(base), exp_rank)
        store(factor, "_fkey", key)
    return key


def degree(term: Expr) -> Rational:
    """Total degree of a term: the sum of its factors' exponents, a symbolic exponent counting 1.

    Factors free of symbols (numbers, ``pi``, ``sin(1)``) are coefficients, of degree 0.
    """
    if term._free is not None and not term._free:
        return 0
    total: Rational = 0
    for f in term.args if isinstance(term, Mul) else (term,):
        if f.free_symbols:
            exp = _base_exponent(f)[1]
            total += exp.value if isinstance(exp, Num) else 1
    return total


def _term_key(rest: Expr) -> tuple:
    """Order of a term (without its coefficient) in a sum: ascending degree, then by factors.

    The constant term, of degree 0, comes first: ``3 - 2*x + x^2``, ``x - x^3/6 + x^5/120``.
    """
    if rest._order is None:
        factors = rest.args if isinstance(rest, Mul) else (rest,)
        store(rest, "_order", (degree(rest), tuple(map(_factor_key, factors))))
    return rest._order


# --- canonical constructors ----------------------------------------------------------------------
def split_coefficient(term: Expr) -> tuple[Rational, Expr]:
    """``3*x*y -> (3, x*y)``; ``x -> (1, x)``; ``5 -> (5, 1)``."""
    kind = type(term)  # the node classes have no subclasses: this is isinstance, faster
    if kind is Num:
        return term.value, ONE
    if kind is not Mul:
        return 1, term
    if term._raw:
        # a raw product may nest products and numbers anywhere: -1*(-1*x) must give (1, x)
        term = mul(*term.args)
        kind = type(term)
        if kind is Num:
            return term.value, ONE
        if kind is not Mul:
            return 1, term
    args = term.args
    if type(args[0]) is Num:
        rest = args[1:]
        return args[0].value, rest[0] if len(rest) == 1 else _new(Mul, (Mul, rest), rest)
    return 1, term


def _scaled(coeff: Rational, rest: Expr) -> Expr:
    if coeff == 1:
        return rest
    if isinstance(rest, Mul):
        args = (Num(coeff),) + rest.args
    else:
        args = (Num(coeff), rest)
    return _new(Mul, (Mul, args), args)


# Exact arithmetic on coefficients, skipping the Fraction operation (slow, in Python) when one side
# is the int 0 or 1: the result is the other side, of the same type as the full operation gives.
def _plus(a: Rational, b: Rational) -> Rational:
    return b if type(a) is int and a == 0 else a + b


def _times(a: Rational, b: Rational) -> Rational:
    return b if type(a) is int and a == 1 else a * b


def add(*terms: Expr) -> Expr:
    """The canonical sum of ``terms``."""
    if len(terms) == 2:
        a, b = terms
        if type(a) is Add and len(a.args) >= _GROWN_FROM:
            grown = _grown_sum(a, b)
            if grown is not None:
                return grown
        elif type(b) is Add and len(b.args) >= _GROWN_FROM:
            grown = _grown_sum(b, a)
            if grown is not None:
                return grown
    return _sum_of_scaled([(1, t) for t in reversed(terms)])


# A large sum plus one term (``s = s + t`` in a loop, ``e^2 + e``) is the sum with the term put in
# its place: the terms' order and coefficients are kept with the sum (``_sum_index``: the sorted
# term keys and a map from each term's rest to its coefficient), passed on to the new sum, so the
# step costs a copy of the tuple of terms, in C, and no Python work per term.
_GROWN_FROM = 16


def _grown_sum(total: Add, term: Expr) -> Expr | None:
    """The canonical ``total + term``, or None where the general construction is needed: a term
    that is a sum, a number or raw, or a sum with a constant term.  The new sum records that
    it is ``total + term`` (``sum_parts``)."""
    kind = type(term)
    if kind is Add or kind is Num or term._raw or total._raw:
        return None
    coeff, rest = split_coefficient(term)
    if type(rest) is Add:
        return None
    memo = getattr(total, "_memo", None)
    index = None if memo is None else memo.pop("sum_index", None)  # atomic: this caller's now
    if index is None:
        index = _sum_index(total)
        if index is None:
            return None
    keys, coeffs = index
    key = _term_key(rest)
    at = bisect_left(keys, key)
    previous = coeffs.get(rest)
    args = total.args
    digest = _digest_sum(total)
    fields = {}
    if previous is None:
        new = _scaled(coeff, rest)
        # one copy of the terms where the new one goes last (e^2 + e: the highest degree)
        args = args + (new,) if at == len(args) else args[:at] + (new,) + args[at:]
        keys.insert(at, key)
        coeffs[rest] = coeff
        digest += _digest_value(new)
        fields["_depth"] = max(total._depth, new._depth + 1)
    else:
        digest -= _digest_value(args[at])
        coeff = previous + coeff
        if coeff == 0:
            args = args[:at] + args[at + 1:]
            del keys[at], coeffs[rest]
        else:
            new = _scaled(coeff, rest)
            args = args[:at] + (new,) + args[at + 1:]
            coeffs[rest] = coeff
            digest += _digest_value(new)
    if len(args) < _GROWN_FROM:
        return _new(Add, (Add, args), args)
    grown = _new(Add, (Add, args), args, **fields)
    if grown._free is None and total._free is not None and term._free is not None:
        store(grown, "_free", total._free | term._free)
    memo = getattr(grown, "_memo", None)
    if memo is None:
        memo = {}
        store(grown, "_memo", memo)
    memo.setdefault("sum_index", index)
    memo.setdefault("sum_parts", (weakref.ref(total), term))
    memo.setdefault("digest_sum", digest % _DIGEST_MODULUS)
    return grown


def _sum_index(total: Add) -> tuple[list, dict] | None:
    """The sorted keys of a canonical sum's terms and their coefficients by rest; None for a sum
    with a constant term."""
    keys, coeffs = [], {}
    for t in total.args:
        coeff, rest = split_coefficient(t)
        if type(rest) is Num:
            return None
        keys.append(_term_key(rest))
        coeffs[rest] = coeff
    return keys, coeffs


def sum_parts(node: Expr) -> tuple[Expr, Expr] | None:
    """``(s, t)`` when the sum ``node`` was built as ``s + t`` from a large sum ``s`` that is still
    alive: differentiation can then follow how the sum grew, term by term, rather than its
    flattened terms."""
    memo = getattr(node, "_memo", None)
    parts = None if memo is None else memo.get("sum_parts")
    if parts is None:
        return None
    total = parts[0]()
    return None if total is None else (total, parts[1])


def add_scaled(pairs: Sequence[tuple[Rational, Expr]]) -> Expr:
    """The canonical sum of ``scale * term`` over ``pairs``: ``add`` of the scaled terms, without
    building them (a scaled sum is taken apart here anyway)."""
    return _sum_of_scaled(list(reversed(pairs)))


def _sum_of_scaled(stack: list[tuple[Rational, Expr]]) -> Expr:
    """The canonical sum of the (scale, term) pairs of ``stack``, taken from its end."""
    constant: Rational = 0
    coeffs: dict[Expr, Rational] = {}
    pop, push = stack.pop, stack.append
    while stack:
        scale, term = pop()
        kind = type(term)  # the node classes have no subclasses: this is isinstance, faster
        if kind is Add:
            stack.extend((scale, t) for t in reversed(term.args))
            continue
        if kind is Num:
            constant = _plus(constant, term.value if scale == 1 else scale * term.value)
            continue
        if term._raw:
            if kind is Mul:  # -1*(-1*x) or 2*(1/2): canonical first
                canonical = mul(*term.args)
                if canonical is not term:
                    push((scale, canonical))
                    continue
            coeff, rest = split_coefficient(term)
        elif kind is Mul and type(term.args[0]) is Num:  # split_coefficient, inline
            args = term.args
            coeff = args[0].value
            rest = args[1] if len(args) == 2 else _new(Mul, (Mul, args[1:]), args[1:])
        else:
            coeff, rest = 1, term
        if scale != 1:
            coeff = scale * coeff
        kind = type(rest)
        if kind is Num:  # a raw product that folds to a number: exp(u)/exp(u)
            constant = _plus(constant, coeff * rest.value)
            continue
        if kind is Add:  # only from a non-canonical product such as 2*(x + 1)
            push((coeff, rest))
            continue
        previous = coeffs.get(rest)
        coeffs[rest] = coeff if previous is None else previous + coeff
    rests = [r for r, c in coeffs.items() if c != 0]
    rests.sort(key=_term_key)
    out = [_scaled(coeffs[r], r) for r in rests]
    if constant != 0:  # the constant leads the terms of degree 0
        out.insert(sum(1 for r in rests if _term_key(r)[0] < 0), Num(constant))
    if not out:
        return ZERO
    if len(out) == 1:
        return out[0]
    args = tuple(out)
    return _new(Add, (Add, args), args)


def mul(*factors: Expr) -> Expr:
    """The canonical product of ``factors``."""
    coeff: Rational = 1
    exponents: dict[Expr, list[Expr]] = {}
    stack = list(reversed(factors))
    pop = stack.pop
    while stack:
        f = pop()
        kind = type(f)  # the node classes have no subclasses: this is isinstance, faster
        if kind is Mul:
            stack.extend(reversed(f.args))
        elif kind is Num:
            coeff = _times(coeff, f.value)
        else:
            base, exp = f.args if kind is Pow else (f, ONE)
            seen = exponents.get(base)
            if seen is None:
                exponents[base] = [exp]
            else:
                seen.append(exp)
    if coeff == 0:
        return ZERO
    out: list[Expr] = []
    regroup = False
    for base, exps in exponents.items():
        if len(exps) == 1:
            total = exps[0]
            p = base if total is ONE else _new(Pow, (Pow, (base, total)), (base, total))
        else:
            total = add(*exps)
            p = power(base, total)
        if isinstance(p, Num):
            coeff *= p.value
        elif p is not ONE:
            # a merged power may come out as a product or with another base:
            # sqrt(x*y)^2 -> x*y,  sqrt(sqrt(a))^-2 -> 1/sqrt(a), which may meet a's other powers
            regroup = regroup or isinstance(p, Mul) or _base_exponent(p)[0] is not base
            out.append(p)
    if regroup:
        return mul(Num(coeff), *out)
    if coeff == 0:
        return ZERO
    if (coeff if type(coeff) is int else coeff.numerator) not in (1, -1):
        coeff = _rationalise(coeff, out)
    if not out:
        return Num(coeff)
    if len(out) == 1:
        if coeff == 1:
            return out[0]
        if isinstance(out[0], Add):  # 2*(x + 1) -> 2*x + 2
            return _scaled_sum(coeff, out[0])
    out.sort(key=_factor_key)
    args = tuple(out) if coeff == 1 else (Num(coeff),) + tuple(out)
    return _new(Mul, (Mul, args), args)


def _rationalise(coeff: Rational, out: list[Expr]) -> Rational:
    """``3/sqrt(3) -> sqrt(3)``: a root ``b^e`` of an integer b (-1 < e < 0) whose base divides
    the coefficient's numerator becomes ``b^(e + 1)``, the coefficient divided by b (in place)."""
    for k, f in enumerate(out):
        if type(f) is Pow and type(f.args[0]) is Num and type(f.args[1]) is Num:
            b, e = f.args[0].value, f.args[1].value
            numerator = coeff if type(coeff) is int else coeff.numerator
            if type(b) is int and b > 1 and -1 < e < 0 and numerator % b == 0:
                coeff = Fraction(coeff) / b
                coeff = coeff.numerator if coeff.denominator == 1 else coeff
                out[k] = power(f.args[0], Num(e + 1))
    return coeff


def _scaled_sum(coeff: Rational, total: Add) -> Expr:
    """``coeff * total``, distributed.  Scaling keeps the canonical order of the terms."""
    if total._raw:
        return add(*(mul(Num(coeff), t) for t in total.args))
    terms = []
    for t in total.args:
        kind = type(t)  # the node classes have no subclasses: this is isinstance, faster
        if kind is Num:
            terms.append(Num(coeff * t.value))
            continue
        if kind is Mul and not t._raw:  # _scaled(split_coefficient(t)), without building the rest
            factors = t.args
            if type(factors[0]) is not Num:
                scaled, rest = coeff, factors
            elif len(factors) > 2:
                scaled, rest = coeff * factors[0].value, factors[1:]
            else:
                scaled = 1
            if scaled != 1:
                args = (Num(scaled),) + rest
                terms.append(_new(Mul, (Mul, args), args))
                continue
        c, rest = split_coefficient(t)
        terms.append(_scaled(coeff * c, rest))
    args = tuple(terms)
    return _new(Add, (Add, args), args)


def negate(e: Expr) -> Expr:
    """``-e``; a sum's negation is kept with it (a sum of n terms costs n to negate)."""
    if type(e) is Add and len(e.args) > 4:
        return memoised(e, "negated", _negated)
    return mul(MINUS_ONE, e)


def _negated(e: Expr) -> Expr:
    return mul(MINUS_ONE, e)


def power(base: Expr, exponent: Expr) -> Expr:
    """The canonical ``base ^ exponent``."""
    if isinstance(exponent, Num):
        n = exponent.value
        if n == 0:
            return ONE
        if n == 1:
            return base
        if isinstance(base, Num):
            folded = _numeric_power(base.value, n)
            if folded is not None:
                return folded
        elif isinstance(n, int):
            if isinstance(base, Pow):  # (x^a)^n = x^(a*n) for integer n
                return power(base.args[0], mul(base.args[1], exponent))
            if isinstance(base, Mul):  # (x*y)^n = x^n*y^n for integer n
                return mul(*(power(f, exponent) for f in base.args))
    if isinstance(base, Num):
        if base.value == 1:
            return ONE
    if base is E:  # e^x is exp(x)
        return API.exp(exponent)  # the function registry builds on this module and binds it
    return _new(Pow, (Pow, (base, exponent)), (base, exponent))


def _numeric_power(b: Rational, n: Rational) -> Expr | None:
    """``b^n`` for numbers when it is exact and small enough, else None."""
    if b == 0:
        if n < 0:
            raise DivisionByZeroError("division by zero (0 raised to a negative power)")
        return ZERO
    if isinstance(n, int):
        size = max(Fraction(b).numerator.bit_length(), Fraction(b).denominator.bit_length())
        if not bigint.power_fits(size, n):
            return None
        return Num(Fraction(b) ** n)
    # rational exponent p/q: exact only for perfect q-th powers of a positive base
    if b < 0:
        return None
    fb = Fraction(b)
    root_num = bigint.integer_root(fb.numerator, n.denominator)
    root_den = bigint.integer_root(fb.denominator, n.denominator)
    if root_num is None or root_den is None:
        return None
    return _numeric_power(Fraction(root_num, root_den), n.numerator)


def make_call(fn, args: tuple[Expr, ...]) -> Expr:
    """The canonical application of the registry function ``fn`` (arity already checked)."""
    simpler = fn.evaluate(*args) if fn.evaluate is not None else None
    if simpler is not None:
        return simpler
    return _new(Call, (Call, fn.name, args), args, fn=fn, _partials=None)


def with_args(node: Expr, args: tuple[Expr, ...]) -> Expr:
    """The canonical node of the same kind as ``node`` with new arguments."""
    if isinstance(node, Add):
        return add(*args)
    if isinstance(node, Mul):
        return mul(*args)
    if isinstance(node, Pow):
        return power(*args)
    if isinstance(node, Call):
        return make_call(node.fn, args)
    return node  # leaves have no arguments


def rebuild(root: Expr, leaf: Callable[[Expr], Expr]) -> Expr:
    """Rebuild ``root`` canonically bottom-up, replacing each leaf by ``leaf(node)``."""
    new: dict[Expr, Expr] = {}
    for node in postorder([root]):
        new[node] = with_args(node, tuple(new[a] for a in node.args)) if node.args else leaf(node)
    return new[root]


# --- raw constructors for derivative graphs ----------------------------------------------------
def raw_add(a: Expr, b: Expr) -> Expr:
    """``a + b`` without flattening: keeps a shared sum shared.  Drops zeros, folds numbers."""
    if a is ZERO:
        return b
    if b is ZERO:
        return a
    if isinstance(a, Num) and isinstance(b, Num):
        return Num(a.value + b.value)
    return _new(Add, (Add, (a, b)), (a, b), _raw=True)


def raw_mul(a: Expr, b: Expr) -> Expr:
    """``a * b`` without flattening: keeps a shared product shared.  Drops ones, folds numbers."""
    if a is ZERO or b is ZERO:
        return ZERO
    if a is ONE:
        return b
    if b is ONE:
        return a
    if isinstance(a, Num) and isinstance(b, Num):
        return Num(a.value * b.value)
    if isinstance(b, Num):
        a, b = b, a
    return _new(Mul, (Mul, (a, b)), (a, b), _raw=True)


bind_arithmetic(add=add, mul=mul, power=power, negate=negate)
