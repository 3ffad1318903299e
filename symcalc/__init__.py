"""symcalc: a small, fast, safe computer-algebra library for the calculus of machine learning.

>>> import symcalc as sc
>>> sc.diff("sigmoid(x)", "x")
Expr('sigmoid(x)*(1 - sigmoid(x))')
"""

from .calculus import (Derivatives, determinant, diff, directional, grad, hessian, hvp, jacobian,
                       jacobian_det, jvp, simplify, subs, vjp)
from .codegen import codegen, lambdify
from .errors import ParseError
from .expr import (E as e, PI as pi, Add, Call, Constant, Expr, Mul, Num, Pow, Symbol, as_expr,
                   count_ops, symbols)
from .functions import REGISTRY
from .functions import abs_ as abs
from .functions import (acos, asin, atan, cos, cosh, erf, exp, heaviside, log, logsumexp, relu,
                        sigmoid, sign, sin, sinh, softplus, sqrt, tan, tanh)
from .optimize import gradient_step, newton_step
from .parser import parse
from .printing import latex
from .sympy_bridge import from_sympy, to_sympy
from .taylor import taylor
from . import matrix
from .matrix import (MatrixExpr, NoMatrixFormError, ShapeError, det, diag, dot, eye, inv, logdet,
                     norm, ones, outer, softmax, trace, vector, zeros)
from .matrix import sum_ as sum

__version__ = "0.1.0"
