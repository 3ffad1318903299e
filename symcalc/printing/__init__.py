"""Printers: infix text that parses back, LaTeX, and layouts of several results."""
