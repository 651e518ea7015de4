"""Reading the input bundle: the only place that parses CSV files."""

from .bundle import Bundle
from .problems import BundleError, Problem
from .reader import read_bundle

__all__ = ["Bundle", "BundleError", "Problem", "read_bundle"]
