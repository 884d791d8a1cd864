"""Stage 7, the optimizer: clean-up passes over the generated functions."""
