"""The expression graph: immutable, interned nodes, their canonical constructors and order,
and exact numbers of any size."""
