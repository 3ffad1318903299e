"""Checks of results: the SymPy bridge, gradient verification and its report, equivalence of
formulas, and answer checking."""
