"""The ``symcalc`` command line."""
