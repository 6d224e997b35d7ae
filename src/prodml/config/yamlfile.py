"""Read YAML files keeping the line of every key, so config errors can point at it."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from prodml.errors import ConfigError

KeyPath = tuple[str | int, ...]


@dataclass
class YamlDoc:
    """A parsed YAML mapping and where each key path stands in its file."""

    data: dict[str, Any]
    file: str
    lines: dict[KeyPath, int] = field(default_factory=dict)

    def line_of(self, path: KeyPath) -> int | None:
        """The line of ``path`` or of its closest ancestor that has one."""
        while path:
            if path in self.lines:
                return self.lines[path]
            path = path[:-1]
        return None


def load_yaml(path: Path, *, display: str | None = None) -> YamlDoc:
    """Parse ``path`` as a YAML mapping.

    Raises:
        ConfigError: the file is missing, is not valid YAML, has a duplicate key or is not a mapping.
    """
    shown = display or str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError("file not found", file=shown) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read file: {exc}", file=shown) from None
    return parse_yaml(text, display=shown)


def parse_yaml(text: str, *, display: str) -> YamlDoc:
    """Parse YAML text (see :func:`load_yaml`)."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        problem = exc.problem or exc.context or "syntax error"
        raise ConfigError(
            f"invalid YAML: {problem}",
            file=display,
            line=line,
            hint="check indentation and quoting",
        ) from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"invalid YAML: {exc}", file=display) from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(
            f"the top level must be a mapping of keys, not a {type(data).__name__}",
            file=display,
            line=1,
        )
    doc = YamlDoc(data=data, file=display)
    if node is not None:
        _index(node, (), doc)
    return doc


def _index(node: yaml.Node, path: KeyPath, doc: YamlDoc) -> None:
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key_node, value_node in node.value:
            key = str(key_node.value)
            line = key_node.start_mark.line + 1
            if key in seen:
                dotted = ".".join(str(p) for p in (*path, key))
                raise ConfigError(
                    "duplicate key",
                    file=doc.file,
                    key=dotted,
                    line=line,
                    hint="remove one of the two",
                )
            seen.add(key)
            doc.lines[(*path, key)] = line
            _index(value_node, (*path, key), doc)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            doc.lines[(*path, i)] = item.start_mark.line + 1
            _index(item, (*path, i), doc)
