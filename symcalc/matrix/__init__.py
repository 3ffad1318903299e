"""Vectors and matrices with symbolic shapes (sizes as names)."""
from .nodes import MatrixExpr
from .ops import diag, det, dot, eye, inv, logdet, logsumexp, matrix, norm, ones, outer, scalar, softmax, sum_, trace, vector, zeros
from .shapes import NoMatrixFormError, ShapeError
from .parsing import parse_shaped
from .calculus import grad, hessian, jacobian
