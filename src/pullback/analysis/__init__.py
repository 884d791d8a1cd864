"""Stages 3-4, the analyses: resolve each operation to a rule, find the active
values, and what is known of shapes."""
