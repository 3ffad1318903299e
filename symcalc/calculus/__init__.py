"""The differentiation engine and what builds on it: closed forms, series, Taylor models, sparse second order, optimisation steps."""
