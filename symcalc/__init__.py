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

The stages, each a subpackage, from the bottom up: ``errors`` -> ``core`` (the graph: nodes,
canonical constructors and order) -> ``functions`` (the registry) -> ``printing``, ``rewrite``
(simplification, stability) -> ``language`` (parsers, argument conversion) -> ``calculus``
(differentiation, series, Taylor models, sparse structure) -> ``matrix`` (shaped formulas; its
``operations`` is the table with one record per matrix operation) and ``compiler`` -> ``api`` (the
front door) -> ``optimize``, ``checks`` (the SymPy bridge, verification, answers), ``steps`` ->
``cli``, ``web``.  A lower module calls a higher one only through ``core.hooks``, which the higher
module binds when it loads (``str(e)``, ``e.diff(...)``, a shaped formula's operators), so no
import, not even one inside a function, closes a circle (``tests/test_layers.py``).
"""

from .api import (count_ops, determinant, diff, directional, evalf, grad, hessian, hvp, jacobian,
                  jacobian_det, jvp, latex, simplify, subs, vjp)
from .compiler.compile import codegen, lambdify
from .language.arguments import Derivatives
from .language.arguments import to_expr as as_expr
from .errors import (DivisionByZeroError, DomainError, ParseError, ShapeError, SymcalcError,
                     SymcalcTypeError)
from .errors import OutOfRangeError
from .core.expr import E as e, PI as pi, Add, Call, Constant, Expr, Mul, Num, Pow, Symbol
from .functions.elementary import REGISTRY
from .functions.elementary import abs_ as abs
from .functions.elementary import (acos, asin, atan, cos, cosh, erf, exp, expm1, heaviside, log,
                                   log1p, logsumexp, relu, sigmoid, sign, sin, sinh, softplus,
                                   sqrt, tan, tanh)
from .functions.elementary import max_ as max
from .functions.elementary import min_ as min
from .functions.elementary import (acosh, asinh, atan2, atanh, cot, coth, csc, csch, erfc, log2,
                                   log10, sec, sech)
from .functions.abstract import function
from .checks.answers import AnswerCheck, check_answer
from .checks.equivalence import Equivalence, equivalent
from .optimize import gradient_step, newton, newton_step
from .language.parser import parse, symbols
from .language import latex as _latex_input  # noqa: F401  (it reads parse(..., latex=True))
from .matrix import latex_reading as _latex_reading  # noqa: F401  (LaTeX with shapes=)
from .calculus.sparse import (HessianDiagonal, SparseBatch, SparseDerivatives, divergence,
                              hessian_diag, laplacian)
from .steps.derivation import Derivation, Derivations, Step, explain
from .checks.sympy_bridge import from_sympy, to_sympy
from .calculus.taylor import taylor
from . import matrix
from .matrix import (MatrixExpr, NoMatrixFormError, det, diag, dot, eye, inv, logdet, norm, ones,
                     outer, softmax, trace, vector, zeros)
from .matrix import sum_ as sum
from .matrix import kron, matrix_power, mean

__version__ = "0.1.0"
