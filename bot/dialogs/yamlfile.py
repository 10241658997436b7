"""YAML loading that remembers the line of every mapping and key."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml


class Node(dict[str, Any]):
    """A mapping from a dialog file that knows where it and its keys stand."""

    line: int
    key_lines: dict[str, int]

    def line_of(self, key: str) -> int:
        return self.key_lines.get(key, self.line)


class ListNode(list[Any]):
    line: int
    item_lines: list[int]


class YamlError(Exception):
    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.line = line
        self.message = message


# libyaml's parser where PyYAML was built with it (the wheels are): the same documents, nodes
# and marks, about twelve times as fast as the pure-Python one, which was most of start-up.
_SafeBase: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Loader(_SafeBase):  # type: ignore[valid-type,misc]
    pass


def _mapping(loader: _Loader, node: yaml.MappingNode) -> Node:
    result = Node()
    result.line = node.start_mark.line + 1
    result.key_lines = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if not isinstance(key, (str, int, bool)):
            raise YamlError(key_node.start_mark.line + 1, "a key must be plain text")
        key_text = _key_text(key)
        if key_text in result:
            raise YamlError(key_node.start_mark.line + 1, f"duplicate key '{key_text}'")
        result[key_text] = loader.construct_object(value_node, deep=True)
        result.key_lines[key_text] = key_node.start_mark.line + 1
    return result


def _key_text(key: str | int | bool) -> str:
    if isinstance(key, bool):
        return "yes" if key else "no"
    return str(key)


def _sequence(loader: _Loader, node: yaml.SequenceNode) -> ListNode:
    result = ListNode(loader.construct_object(child, deep=True) for child in node.value)
    result.line = node.start_mark.line + 1
    result.item_lines = [child.start_mark.line + 1 for child in node.value]
    return result


def _bool_as_word(loader: _Loader, node: yaml.ScalarNode) -> Any:
    """YAML 1.1 reads `yes`/`no` as booleans; dialog files mean the words."""
    value = loader.construct_scalar(node)
    lowered = str(value).lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    return str(value)


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping)
_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _sequence)
_Loader.add_constructor("tag:yaml.org,2002:bool", _bool_as_word)


def load(path: Path, data: bytes | None = None) -> Any:
    """Parse one file (or `data`, its bytes as already read); syntax errors become YamlError with the line."""
    if data is None:
        text = path.read_text(encoding="utf-8")
    else:  # as read_text decodes it, newlines included
        text = data.decode("utf-8").replace("\r\n", "\n").replace("\r", "\n")
    try:
        return yaml.load(text, Loader=_Loader)  # noqa: S506 (a SafeLoader subclass)
    except YamlError:
        raise
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        raise YamlError(line, f"YAML syntax: {exc.problem or exc}") from exc
