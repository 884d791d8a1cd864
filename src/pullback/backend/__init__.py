"""Stages 8-9, the back end: emit source, write and import it through the cache."""
