"""python -m peerbill: the same as the peerbill command."""

from .cli import entry

if __name__ == "__main__":
    entry()
