"""The public API of the matrix layer, in one place; ``symcalc`` re-exports most of it."""

from typing import Any

from .calculus import grad, hessian, jacobian
from .compile import ShapedCode, codegen, lambdify, shaped_code
from .nodes import MatrixExpr
from .ops import (det, diag, dot, eye, inv, logdet, logsumexp, matrix, norm, ones, outer,
                  scalar, trace, vector, zeros)
from .numpy_ops import kron, matrix_power, mean, sum_
from .numpy_ops import softmax_axis as softmax
from .parsing import parse_shaped
from .printing import latex
from .shapes import NoMatrixFormError, ShapeError
from .tensor import einsum
from .unroll import unroll


def is_shaped(obj: Any) -> bool:
    """True for a matrix-layer node, or a (nested) list whose first entry is one."""
    while isinstance(obj, (list, tuple)) and obj:
        obj = obj[0]
    return isinstance(obj, MatrixExpr)


__all__ = ["MatrixExpr", "ShapeError", "ShapedCode", "shaped_code", "NoMatrixFormError", "codegen", "det", "diag", "dot",
           "einsum", "eye", "grad", "hessian", "inv", "is_shaped", "jacobian", "kron", "lambdify",
           "latex", "matrix_power", "mean",
           "logdet", "logsumexp", "matrix", "norm", "ones", "outer", "parse_shaped", "scalar",
           "softmax", "sum_", "trace", "unroll", "vector", "zeros"]
