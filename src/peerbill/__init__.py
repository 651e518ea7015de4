"""peerbill: judge peer support contacts against dated billing rules, explain every verdict."""

__version__ = "0.2.0"
