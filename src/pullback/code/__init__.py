"""The vocabulary every stage uses to read and build code: gast helpers,
fresh names."""
