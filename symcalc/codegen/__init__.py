"""Code generation: the shared program, the NumPy printer and memory plan, compiled functions and their runtime."""
