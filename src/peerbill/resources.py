"""Folders peerbill ships at the top of the repository and installs inside the package."""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def shipped(in_repository: str, in_package: str) -> Path:
    """``in_repository`` beside the source tree (a checkout), else the installed copy ``in_package``."""
    checkout = _PACKAGE.parents[1] / in_repository
    if checkout.is_dir():
        return checkout
    return _PACKAGE / in_package
