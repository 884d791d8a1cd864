"""Stages 1-2, the front end: parse the user's function, refuse what cannot be
differentiated, desugar control flow, check aliasing, and normalize to one
operation per statement."""
