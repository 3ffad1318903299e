"""Vectors and matrices with symbolic shapes: the calculus of ML written in matrix form.

>>> import symcalc as sc
>>> A = sc.matrix("A", "m", "n"); t = sc.vector("t", "n"); b = sc.vector("b", "m")
>>> f = 0.5 * sc.norm(A @ t - b) ** 2
>>> sc.grad(f, "t")
MatrixExpr('A.T@(A@t - b)', shape=('n',))
>>> sc.hessian(f, "t")
MatrixExpr('A.T@A', shape=('n', 'n'))

Modules, in the order data flows: ``shapes`` (sizes, ``ShapeError``), ``nodes`` (the interned
node), ``entrywise`` (entrywise parts as the scalar engine's expressions: lifted to it and
lowered back), ``build``, ``ops`` and ``numpy_ops`` (canonical constructors; ``numpy_ops``:
``kron``, ``matrix_power``, ``mean`` and the reductions along an axis), ``operations`` (the table: one record
per operation with its shape rule, adjoint, tangent and Jacobian rules, NumPy, JAX, text and
LaTeX forms, unrolling and transpose), ``entries`` (arrays of scalar entries for unrolling),
``convert`` (scalar expressions and registry partials), ``parsing`` (``grammar/matrix.lark``),
``latex_reading`` (LaTeX with shapes, ``grammar/latex.lark``), ``printing``, ``adjoint`` (reverse
accumulation), ``forward`` (Jacobians), ``tensor`` (index expressions: the ``einsum`` node) and
``tensor_calculus`` (derivatives whose value is a tensor), ``calculus`` (grad, jacobian,
hessian), ``compile`` and
``runtime`` (NumPy source and its helpers), ``fusion`` (entrywise parts as numexpr kernels),
``backends`` (NumPy, numexpr and JAX functions, ``dtype=``, ``packed=``) and ``jax_runtime``
(the helpers in ``jax.numpy``), ``unroll`` (scalar spelling at
concrete sizes, for checks); ``api`` gathers the public names.

This module is callable: ``symcalc.matrix("A", "m", "n")`` builds a matrix symbol.
"""

import sys
import types

from . import nodes  # first: the node module loads the constructors it needs, in order
from .api import einsum  # index expressions: tensor-valued derivatives
from .api import (MatrixExpr, NoMatrixFormError, ShapeError, codegen, det, diag, dot, eye, grad,
                  hessian, inv, is_shaped, jacobian, lambdify, latex, logdet, logsumexp, matrix,
                  norm, ones, outer, parse_shaped, scalar, softmax, sum_, trace, unroll, vector,
                  zeros)
from .api import kron, matrix_power, mean


class _CallableModule(types.ModuleType):
    def __call__(self, name: str, rows, cols, symmetric: bool = False,
                 diagonal: bool = False) -> MatrixExpr:
        return matrix(name, rows, cols, symmetric=symmetric, diagonal=diagonal)


sys.modules[__name__].__class__ = _CallableModule

__all__ = ["MatrixExpr", "ShapeError", "NoMatrixFormError", "codegen", "det", "diag", "dot",
           "einsum", "eye", "grad", "hessian", "inv", "is_shaped", "jacobian", "kron", "lambdify",
           "latex", "matrix_power", "mean",
           "logdet", "logsumexp", "matrix", "norm", "ones", "outer", "parse_shaped", "scalar",
           "softmax", "sum_", "trace", "unroll", "vector", "zeros"]
