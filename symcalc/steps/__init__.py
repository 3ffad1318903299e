"""Step-by-step derivations: the rules a derivative comes from, one checkable step each.

* ``derivation``  ``explain`` and the ``Derivation`` it returns;
* ``step``   the ``Step`` record;
* ``rules``  the differentiation rules as an ordered table, and the trace they build;
* ``tidy``   the simplification of the assembled derivative, as named steps;
* ``render`` numbered text, LaTeX and JSON-ready forms of a trace.

The public entry point is ``symcalc.explain``.
"""
