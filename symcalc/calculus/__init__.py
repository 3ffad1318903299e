"""The differentiation engine and what builds on it: closed forms of high orders, Taylor-mode
series, Taylor models, sparse second-order structure."""
