"""The fused backends: numexpr kernels and the JAX runtime."""
