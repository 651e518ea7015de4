"""python -m peerbill: the same as the peerbill command."""

from .cli import main

if __name__ == "__main__":
    main(prog_name="peerbill")
