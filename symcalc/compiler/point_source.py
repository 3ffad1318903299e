"""The statements a generated function's call method runs itself at a point of Python floats.

A short pure body is written into the call method (``inlined_statements``), so a call at one
point does not pass its arguments on to another function; a body of plain arithmetic runs before
any type check (``float_arithmetic``), its result kept only when it is a Python float.

At a point of Python floats, ``a ** b`` with a negative ``a`` and a fractional ``b`` is a complex
number where NumPy gives nan; ``abs`` or a comparison further on could turn it back into a real
number that no later check can tell from a right one.  So the statements a point runs compute
such powers with ``math.pow`` (``real_powers``), which raises ValueError there instead, and the
point is computed again in NumPy scalars, as an array computes it.
"""

from __future__ import annotations

import ast
import math
import re

import numpy as np


# A pure body of at most this many lines is written into the call method itself: at a single
# point, passing the arguments on to another function costs more than such a body's arithmetic.
_INLINED_LINES = 60

# Outputs with at least this many number rows, half of them or more, are filled in by index at a
# point, not built from every row.
_FILLED_FROM = 32


def inlined_statements(pure: str, max_lines: int | None = _INLINED_LINES,
                        constants: dict[str, np.ndarray] | None = None) -> list[str] | None:
    """The lines of the pure body ``pure`` (``def _f_pure(..., _shape)``) at a single point, for
    the call method: ``_shape = ()``, its statements, its final ``return X`` as ``_value = X``.
    None for a body longer than ``max_lines``, or one whose only return is not its last
    statement.  When ``constants`` is given (it receives the arrays, by name), outputs that are all
    numbers become an array computed once (``_CONSTANT``), copied at each call, and outputs
    mostly of numbers a copy of such an array (``_BASE``) with the other rows written in at the
    indices ``_WHERE``."""
    lines = pure.splitlines()
    if max_lines is not None and len(lines) > max_lines:
        return None
    # generated code spells the keyword "return" nowhere else, so its lines are found by text,
    # and only the final statement is parsed (parsing a long body costs more than printing it)
    returns = [k for k, line in enumerate(lines) if _is_return(line.lstrip())]
    if len(returns) != 1 or not lines[returns[0]].startswith("    return "):
        return None
    index = returns[0]
    lines[index] = "    _value = " + lines[index][len("    return "):]
    try:
        (final,) = ast.parse("\n".join(line[4:] for line in lines[index:])).body
    except (SyntaxError, ValueError):  # not the last statement
        return None
    nesting = _assembled_nesting(final)
    last = index + final.end_lineno - 1
    head = f"    _value = assemble(_shape, {nesting}, ("
    if nesting and lines[index] == head and lines[last] == "    ))":
        # every row is a number at a point of floats: the array is built without the checks of
        # assemble (a complex row raises TypeError there and here)
        rows = final.value.args[2].elts
        if constants is not None and index == 1 and all(_is_number(row) for row in rows):
            constants["_CONSTANT"] = np.array([ast.literal_eval(row) for row in rows],
                                              dtype=float).reshape(nesting)
            return ["_value = _CONSTANT.copy()"]
        reshape = "" if len(nesting) == 1 else f".reshape({nesting})"
        numbers = [k for k, row in enumerate(rows) if _is_number(row)]
        if (constants is not None and len(numbers) >= _FILLED_FROM
                and 2 * len(numbers) >= len(rows)):
            # mostly numbers (a Hessian's zeros): a copy of an array of them, the other rows
            # written in by index; turning thousands of floats into an array costs far more
            texts = lines[index + 1:last]
            if len(texts) != len(rows):  # a row over several lines
                texts = [f"        {ast.unparse(row)}," for row in rows]
            base = np.zeros(len(rows))
            for k in numbers:
                base[k] = ast.literal_eval(rows[k])
            computed = sorted(set(range(len(rows))).difference(numbers))
            constants["_BASE"] = base
            constants["_WHERE"] = np.array(computed, dtype=np.intp)
            lines[index:last + 1] = (
                ["    _value = _BASE.copy()", "    _value[_WHERE] = _fromiter(("]
                + [texts[k] for k in computed]
                + [f"    ), _FLOAT64, {len(computed)})"]
                + ([f"    _value = _value{reshape}"] if reshape else []))
        elif all(_is_exp(row) for row in rows):
            # one np.exp of an array rather than one of each number (the same values: the same
            # loop of NumPy runs on one element or many)
            lines[index:last + 1] = (
                ["    _value = np.exp(_fromiter(("]
                + [f"        {ast.unparse(row.args[0])}," for row in rows]
                + [f"    ), _FLOAT64, {math.prod(nesting)})){reshape}"])
        else:
            lines[index] = "    _value = _fromiter(("
            lines[last] = f"    ), _FLOAT64, {math.prod(nesting)}){reshape}"
    return ["_shape = ()"] + [line[4:] if line.startswith("    ") else line for line in lines[1:]]


# A body of only arithmetic on its arguments needs no type check of them at a point of floats: the
# call method runs it first and keeps its value when that is a Python float.
_ARITHMETIC_OPERATORS = (ast.Add, ast.Sub, ast.Mult, ast.Div, ast.Pow)


def float_arithmetic(statements: list[str], names: tuple[str, ...]
                      ) -> tuple[list[str], list[str]] | None:
    """``(checked, lines)``: ``statements`` (a scalar body's lines at a point) rewritten so that,
    when the arguments ``checked`` are Python floats and the value is one, it is what the pure
    body gives on the arguments converted to floats; None when the statements are not plain
    arithmetic that uses every argument.

    Every operation then has a float operand: an integer literal becomes a float one, and of two
    operands that may be integers, one is a checked argument (at most two are checked) or the
    left one is multiplied by ``1.0`` (exact).  So integer arguments never meet in exact integer
    arithmetic, and a list or a string meets a float, which raises TypeError.  NumPy scalars and
    arrays give NumPy results, so they take the usual path.
    """
    try:
        module = ast.parse("\n".join(line for line in statements if line != "_shape = ()"))
    except SyntaxError:
        return None
    floats: set[str] = set()  # the temporaries that are Python floats when the body is
    used: set[str] = set()
    checked: list[str] = []

    def rewrite(node: ast.expr) -> tuple[ast.expr, bool] | None:
        """(the node rewritten, is it surely a float), or None for a node that is not arithmetic."""
        if isinstance(node, ast.Constant) and type(node.value) in (int, float):
            try:
                return ast.Constant(float(node.value)), True
            except OverflowError:
                return None
        if isinstance(node, ast.Name):
            used.add(node.id)
            return (node, node.id in floats) if node.id in names or node.id in floats else None
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
            inner = rewrite(node.operand)
            return None if inner is None else (ast.UnaryOp(node.op, inner[0]), inner[1])
        if isinstance(node, ast.BinOp) and isinstance(node.op, _ARITHMETIC_OPERATORS):
            left, right = rewrite(node.left), rewrite(node.right)
            if left is None or right is None:
                return None
            operand = left[0]
            if not (left[1] or right[1]):
                name = next((n.id for n in (left[0], right[0]) if isinstance(n, ast.Name)
                             and n.id in names), None)
                if name is not None and len(checked) < 2:
                    checked.append(name)  # a checked float
                    floats.add(name)
                else:
                    operand = ast.BinOp(ast.Constant(1.0), ast.Mult(), operand)
            return ast.BinOp(operand, node.op, right[0]), True
        return None

    lines = []
    for statement in module.body:
        if not (isinstance(statement, ast.Assign) and len(statement.targets) == 1
                and isinstance(statement.targets[0], ast.Name)):
            return None
        value = rewrite(statement.value)
        target = statement.targets[0].id
        if value is None or not value[1] or target in names:
            return None
        floats.add(target)
        lines.append(f"{target} = {ast.unparse(value[0])}")
    if not lines or not lines[-1].startswith("_value = ") or not used.issuperset(names):
        return None
    return checked or [names[0]], lines


def real_powers(statements: list[str]) -> tuple[list[str], bool]:
    """``statements`` (a body's lines at a point) with every power whose exponent is not an
    integer literal, ``a ** b``, written ``_pow(a, b)`` (``math.pow``: C's ``pow``, as NumPy's,
    but a ValueError where Python gives a complex number), and whether there was one."""
    if not any(_FRACTIONAL_POWER.search(line) for line in statements):
        return statements, False
    powers = _RealPowers()
    module = powers.visit(ast.parse("\n".join(statements)))
    if not powers.found:
        return statements, False
    return [ast.unparse(statement) for statement in module.body], True


# A power whose exponent is not plainly an integer literal (a quick test before parsing).
_FRACTIONAL_POWER = re.compile(r"\*\*\s*(?!\(?-?\d+\)?(?![\w.]))")


class _RealPowers(ast.NodeTransformer):
    found = False

    def visit_BinOp(self, node: ast.BinOp) -> ast.expr:
        self.generic_visit(node)
        if isinstance(node.op, ast.Pow) and not _integer_exponent(node.right):
            self.found = True
            return ast.Call(ast.Name("_pow", ast.Load()), [node.left, node.right], [])
        return node


def _integer_exponent(node: ast.expr) -> bool:
    """An exponent with which a real base gives a real power: an integer literal, or one
    negated."""
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        node = node.operand
    return isinstance(node, ast.Constant) and (
        type(node.value) is int or (type(node.value) is float and node.value.is_integer()))


def has_fractional_power(text: str) -> bool:
    """Whether the source ``text`` raises to a power that is not an integer literal (a
    complex number at a negative Python float)."""
    return _FRACTIONAL_POWER.search(text) is not None and real_powers([text])[1]


def _is_number(node: ast.expr) -> bool:
    """Is ``node`` a float literal, or one negated?"""
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        node = node.operand
    return isinstance(node, ast.Constant) and type(node.value) is float


def _is_exp(node: ast.expr) -> bool:
    """Is ``node`` ``np.exp(u)``?"""
    return (isinstance(node, ast.Call) and len(node.args) == 1 and not node.keywords
            and isinstance(node.func, ast.Attribute) and node.func.attr == "exp"
            and isinstance(node.func.value, ast.Name) and node.func.value.id == "np")


def _is_return(statement: str) -> bool:
    return statement == "return" or statement.startswith(("return ", "return("))


def _assembled_nesting(statement: ast.Assign) -> tuple[int, ...] | None:
    """``nesting`` when ``statement`` is ``_value = assemble(_shape, nesting, (rows...))``."""
    call = statement.value
    if not (isinstance(call, ast.Call) and isinstance(call.func, ast.Name)
            and call.func.id == "assemble" and len(call.args) == 3 and not call.keywords):
        return None
    shape, nesting, rows = call.args
    if not (isinstance(shape, ast.Name) and shape.id == "_shape" and isinstance(rows, ast.Tuple)
            and isinstance(nesting, ast.Tuple) and nesting.elts):
        return None
    sizes = tuple(getattr(size, "value", None) for size in nesting.elts)
    if not all(type(size) is int for size in sizes) or math.prod(sizes) != len(rows.elts):
        return None
    return sizes


# NumPy functions of one float whose ``math`` counterpart gives the same value wherever NumPy's
# is finite, and raises (ValueError, OverflowError) where NumPy's is nan or infinite: a point that
# raises is computed again in NumPy scalars, so the result is NumPy's in those cases too.
_MATH_FUNCTIONS = {
    "sin": "sin", "cos": "cos", "tan": "tan", "exp": "exp", "log": "log", "sqrt": "sqrt",
    "sinh": "sinh", "cosh": "cosh", "tanh": "tanh", "arcsin": "asin", "arccos": "acos",
    "arctan": "atan", "arcsinh": "asinh", "arccosh": "acosh", "arctanh": "atanh",
    "log1p": "log1p", "expm1": "expm1", "log2": "log2", "log10": "log10",
}
MATH_NAMES = {f"_math_{name}": getattr(math, name) for name in set(_MATH_FUNCTIONS.values())}

_NUMPY_CALL = re.compile(r"\bnp\.(" + "|".join(_MATH_FUNCTIONS) + r")\(")


def math_calls(statements: list[str]) -> list[str]:
    """``statements`` (a body's lines at a point of Python floats) with the NumPy functions of one
    scalar that ``math`` also has (``np.sin(u)``) called through ``math`` (``_math_sin(u)``, the
    names of ``MATH_NAMES``): on a Python float a NumPy function returns a NumPy scalar, and every
    operation after it then costs several times a float's.  Calls on arrays (outputs gathered
    into one array) are left to NumPy."""
    if not any(_NUMPY_CALL.search(line) for line in statements):
        return statements
    calls = _MathCalls()
    module = calls.visit(ast.parse("\n".join(statements)))
    if not calls.found:
        return statements
    return [ast.unparse(statement) for statement in module.body]


class _MathCalls(ast.NodeTransformer):
    found = False

    def visit_Call(self, node: ast.Call) -> ast.expr:
        self.generic_visit(node)
        func = node.func
        if (isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name)
                and func.value.id == "np" and func.attr in _MATH_FUNCTIONS
                and len(node.args) == 1 and not node.keywords and _scalar(node.args[0])):
            self.found = True
            return ast.Call(ast.Name(f"_math_{_MATH_FUNCTIONS[func.attr]}", ast.Load()),
                            node.args, [])
        return node


def _scalar(node: ast.expr) -> bool:
    """Is ``node`` a scalar at a point: no call that gathers values into an array?"""
    return not any(isinstance(n, ast.Call) and isinstance(n.func, ast.Name)
                   and n.func.id in ("_fromiter", "assemble") for n in ast.walk(node))
