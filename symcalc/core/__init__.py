"""The expression graph: immutable interned nodes, canonical constructors and order, exact numbers."""
