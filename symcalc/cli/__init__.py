"""The ``symcalc`` command line (``main``) and its options for shaped formulas (``shaped``)."""
