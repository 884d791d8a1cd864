"""pullback's derivative rules, one module per family.

Each rule is an adjoint template: plain Python where ``d[x]`` is the adjoint
of ``x``. The rule table (pullback.rules) is built from these modules; every
rule gets a finite-difference test generated from that table.
"""
