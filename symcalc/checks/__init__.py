"""Checks of results: the SymPy bridge, gradient verification and its report, equivalence, answer checking."""
