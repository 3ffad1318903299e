"""symcalc: a small, fast, safe computer-algebra library for the calculus of machine learning."""

from .errors import ParseError
from .expr import Add, Call, Constant, Expr, Mul, Num, Pow, Symbol, as_expr, count_ops, symbols
from .functions import REGISTRY
from .functions import abs_ as abs
from .functions import (acos, asin, atan, cos, cosh, erf, exp, heaviside, log, logsumexp, relu,
                        sigmoid, sign, sin, sinh, softplus, sqrt, tan, tanh)
from .parser import parse
from .printing import latex

pi = Constant("pi", 3.141592653589793)
e = Constant("e", 2.718281828459045)

__version__ = "0.1.0"
