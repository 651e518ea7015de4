"""Reading the YAML files peerbill is configured by (rule packs, agency.yaml, 837P templates), safely.

Safe YAML (no Python objects), with what plain ``safe_load`` lets through refused: a key set twice
in one mapping (the second would win silently), a date that does not exist, aliases that expand
beyond :data:`MAX_VALUES` values (a "billion laughs"), and nesting deep enough to exhaust the
parser's recursion.  Every key path maps to its line, so a problem names file, line and key.
"""

from __future__ import annotations

import contextlib
from typing import Any

import yaml

#: most values a file may hold once its aliases are expanded (the shipped packs hold about 1,000)
MAX_VALUES = 100_000


class _StrictLoader(yaml.SafeLoader):
    """Safe YAML that also refuses a key set twice in one mapping."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[str] = set()
        for key_node, _ in node.value:
            if isinstance(key_node, yaml.ScalarNode) and key_node.tag != "tag:yaml.org,2002:merge":
                if key_node.value in seen:
                    raise yaml.constructor.ConstructorError(
                        None, None, f"the key '{key_node.value}' appears twice in one mapping", key_node.start_mark
                    )
                seen.add(key_node.value)
        return super().construct_mapping(node, deep=deep)

    def construct_yaml_timestamp(self, node: yaml.ScalarNode) -> Any:
        try:
            return super().construct_yaml_timestamp(node)
        except (ValueError, OverflowError):
            raise yaml.constructor.ConstructorError(
                None, None, f"'{node.value}' is not a date that exists", node.start_mark
            ) from None


_StrictLoader.add_constructor("tag:yaml.org,2002:timestamp", _StrictLoader.construct_yaml_timestamp)


def parse(text: str) -> tuple[yaml.Node | None, Any]:
    """The composed document and its data (:class:`yaml.YAMLError` for anything refused)."""
    loader = _StrictLoader(text)
    try:
        try:
            node = loader.get_single_node()
        except RecursionError:
            raise yaml.YAMLError("is nested too deeply to be a configuration file") from None
        if node is None:
            return None, None
        stack, count = [node], 0
        while stack:
            current = stack.pop()
            count += 1
            if count > MAX_VALUES:
                raise yaml.YAMLError(f"holds more than {MAX_VALUES:,} values once its aliases are expanded")
            if isinstance(current, yaml.MappingNode):
                stack.extend(v for pair in current.value for v in pair)
            elif isinstance(current, yaml.SequenceNode):
                stack.extend(current.value)
        try:
            return node, loader.construct_document(node)
        except RecursionError:
            raise yaml.YAMLError("is nested too deeply to be a configuration file") from None
    finally:
        loader.dispose()


def problem_of(exc: yaml.YAMLError) -> tuple[int | None, str]:
    """The line (1-based, when known) and the words of a YAML error."""
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    return (mark.line + 1 if mark else None), f"not valid YAML: {problem}"


def line_map(
    node: yaml.Node, path: tuple[Any, ...] = (), out: dict[tuple[Any, ...], int] | None = None
) -> dict[tuple[Any, ...], int]:
    """Map each key path in a composed YAML document to its 1-based line."""
    out = {} if out is None else out
    out.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            if key.tag == "tag:yaml.org,2002:merge":
                line_map(value, path, out)
                continue
            k = key.value
            with contextlib.suppress(ValueError):
                k = int(k) if key.tag == "tag:yaml.org,2002:int" else k
            out[path + (k,)] = key.start_mark.line + 1
            line_map(value, path + (k,), out)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            line_map(item, path + (i,), out)
    return out


def line_of(lines: dict[tuple[Any, ...], int], path: tuple[Any, ...]) -> int | None:
    """The line of ``path``, or of the nearest key above it that is written."""
    for cut in range(len(path), -1, -1):
        line = lines.get(path[:cut])
        if line is not None:
            return line
    return None
