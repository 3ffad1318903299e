"""Code generation (``codegen``, ``lambdify``): the shared program, the NumPy printer and its
memory plan, compiled functions and the runtime helpers they call (``backends/``: numexpr and
JAX)."""
