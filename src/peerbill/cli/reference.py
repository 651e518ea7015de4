"""The command reference, docs/commands.md, made from the commands' own --help texts.

    python -m peerbill.cli.reference > docs/commands.md

A test fails when the file is not what this writes: a command added, or its help changed, without
the reference following.
"""

from __future__ import annotations

from collections.abc import Iterator

import click

from . import main

#: the width the help texts are laid out at, whatever the terminal that makes the file
WIDTH = 100


def contexts(command: click.Command, ctx: click.Context) -> Iterator[click.Context]:
    """The context of ``command`` and of every command under it, in order of their names."""
    yield ctx
    if isinstance(command, click.Group):
        for name in sorted(command.commands):
            sub = command.commands[name]
            yield from contexts(sub, click.Context(sub, info_name=name, parent=ctx))


def render() -> str:
    settings = {**main.context_settings, "terminal_width": WIDTH, "max_content_width": WIDTH}
    root = click.Context(main, info_name="peerbill", **settings)
    out = [
        "# Command reference",
        "",
        "Every command's `--help`, as the program prints it (made by `python -m peerbill.cli.reference`).",
        "",
    ]
    for ctx in contexts(main, root):
        out += [f"## {ctx.command_path}", "", "```text", ctx.get_help(), "```", ""]
    return "\n".join(out)


if __name__ == "__main__":
    click.echo(render(), nl=False)
