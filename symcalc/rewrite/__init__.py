"""Rewrites of the expression graph: shared patterns, simplification, numerical stability."""
