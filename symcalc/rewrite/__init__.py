"""Rewrites of the expression graph: shared patterns, simplification and numerical stability."""
