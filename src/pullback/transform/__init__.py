"""Stages 5-6, the transformers: the reverse sweep, stacks for overwritten
values, and the assembled functions."""
