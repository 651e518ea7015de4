"""Reading the input bundle: the only place that parses CSV files."""

from .problems import BundleError, Problem
from .reader import Bundle, read_bundle

__all__ = ["Bundle", "BundleError", "Problem", "read_bundle"]
