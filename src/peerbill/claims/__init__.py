"""Verdicts -> claims (pure assembly), pre-write checks, and the X12 837P writer."""
