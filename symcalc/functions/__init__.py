"""The functions a formula may call: the registry (one entry per function), the elementary
functions, and abstract ones (``f(x)``)."""
