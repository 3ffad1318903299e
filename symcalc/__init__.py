"""symcalc: a small, fast, safe computer-algebra library for the calculus of machine learning.

>>> import symcalc as sc
>>> sc.diff("sigmoid(x)", "x")
Expr('sigmoid(x)*(1 - sigmoid(x))')

Generated NumPy code is vectorised and shares every common subexpression:

>>> f = sc.lambdify(sc.grad("x^2*y + y^3", "x y"), "x y")
>>> [float(v) for v in f(1.0, 2.0)]
[4.0, 13.0]
>>> source = sc.codegen("x*exp(x)", "x", name="f")
>>> "def f(x):" in source and "np.exp(x)" in source
True

Layers, each importing only the ones above it: ``errors``, ``bigint`` -> ``expr`` (the graph) ->
``functions`` (the registry) -> ``parser``, ``printing`` -> ``simplify``, ``diff`` ->
``convert`` (arguments) -> ``calculus`` (the API), ``codegen``, ``taylor``, ``sympy_bridge`` ->
``optimize``, ``verify``, ``equivalence`` -> ``answers`` -> ``cli``.  The matrix layer sits
between ``convert`` and ``calculus``: ``matrix.nodes`` -> ``build``, ``ops`` -> ``operations`` (one
record per operation) -> ``convert``, ``parsing``, ``printing`` -> ``adjoint``, ``forward`` ->
``compile`` -> ``api``.  A lower module calls a higher one only through ``hooks``, which the higher
module binds when it loads (``str(e)``, ``e.diff(...)``, a shaped formula's operators), so no
import, not even one inside a function, closes a circle (``tests/test_layers.py``).
"""

from .calculus import (count_ops, determinant, diff, directional, evalf, grad, hessian, hvp, jacobian,
                       jacobian_det, jvp, latex, simplify, subs, vjp)
from .compile import codegen, lambdify
from .convert import Derivatives
from .convert import to_expr as as_expr
from .errors import (DivisionByZeroError, DomainError, ParseError, ShapeError, SymcalcError,
                     SymcalcTypeError)
from .errors import OutOfRangeError
from .expr import E as e, PI as pi, Add, Call, Constant, Expr, Mul, Num, Pow, Symbol
from .functions import REGISTRY
from .functions import abs_ as abs
from .functions import (acos, asin, atan, cos, cosh, erf, exp, expm1, heaviside, log, log1p,
                        logsumexp, relu, sigmoid, sign, sin, sinh, softplus, sqrt, tan, tanh)
from .functions import max_ as max
from .functions import min_ as min
from .functions import (acosh, asinh, atan2, atanh, cot, coth, csc, csch, erfc, log2, log10, sec,
                        sech)
from .undefined import function
from .answers import AnswerCheck, check_answer
from .equivalence import Equivalence, equivalent
from .optimize import gradient_step, newton, newton_step
from .parser import parse, symbols
from . import latex_input as _latex_input  # noqa: F401  (it reads parse(..., latex=True))
from .matrix import latex_reading as _latex_reading  # noqa: F401  (LaTeX with shapes=)
from .sparse import (HessianDiagonal, SparseBatch, SparseDerivatives, divergence, hessian_diag,
                     laplacian)
from .steps.derivation import Derivation, Derivations, Step, explain
from .sympy_bridge import from_sympy, to_sympy
from .taylor import taylor
from . import matrix
from .matrix import (MatrixExpr, NoMatrixFormError, det, diag, dot, eye, inv, logdet, norm, ones,
                     outer, softmax, trace, vector, zeros)
from .matrix import sum_ as sum
from .matrix import kron, matrix_power, mean

__version__ = "0.1.0"
