"""Identifier modules with one shape: ``clean``, ``validate``, ``is_valid``."""
