"""Fingerprints: what a step's output depends on (code, params, inputs, engine)."""

from __future__ import annotations

import hashlib
import inspect
import json
import sys
import types
from collections.abc import Callable
from pathlib import Path
from typing import Any

from prodml.pipeline.step import StepSpec


def digest(*parts: Any) -> str:
    """A short stable hash of JSON-serialisable parts."""
    payload = json.dumps(parts, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(payload.encode()).hexdigest()[:24]


def code_hash(spec: StepSpec, product_root: Path) -> str:
    """Hash of the step's own code and of the product code it uses.

    For a Python step: its source, plus the source of every function or class it reaches
    through globals that is defined under ``product_root``, plus whole product modules it
    references. Library code (pandas, prodml …) is covered by package versions in run records.
    """
    if spec.sql is not None:
        return digest("sql", spec.sql)
    if spec.fn is None:  # pragma: no cover - every spec has one or the other
        return digest("empty")
    sources: dict[str, str] = {}
    _collect(spec.fn, product_root.resolve(), sources, set())
    return digest(sorted(sources.items()))


def _collect(obj: Any, root: Path, out: dict[str, str], seen: set[int]) -> None:
    if id(obj) in seen:
        return
    seen.add(id(obj))
    if isinstance(obj, types.ModuleType):
        file = getattr(obj, "__file__", None)
        if file and _under(Path(file), root):
            out[f"module:{obj.__name__}"] = Path(file).read_text(encoding="utf-8")
        return
    fn = inspect.unwrap(obj) if callable(obj) else obj
    try:
        file = inspect.getsourcefile(fn)
    except TypeError:
        return
    if not file or not _under(Path(file), root):
        return
    try:
        out[f"{fn.__module__}.{fn.__qualname__}"] = inspect.getsource(fn)
    except (OSError, TypeError):
        return
    scope = getattr(fn, "__globals__", None)
    if scope is None:  # a class: what its methods name lives in its module
        module = sys.modules.get(getattr(fn, "__module__", ""))
        scope = vars(module) if module is not None else {}
    for name in _global_names(fn):
        value = scope.get(name)
        if value is not None:
            _collect(value, root, out, seen)


def _global_names(fn: Callable[..., Any]) -> set[str]:
    code = getattr(fn, "__code__", None)
    if code is None:
        # classes: walk their methods
        names: set[str] = set()
        for member in vars(fn).values() if isinstance(fn, type) else ():
            if inspect.isfunction(member):
                names |= _global_names(member)
        return names
    names = set(code.co_names)
    stack = [c for c in code.co_consts if isinstance(c, types.CodeType)]
    while stack:
        inner = stack.pop()
        names |= set(inner.co_names)
        stack.extend(c for c in inner.co_consts if isinstance(c, types.CodeType))
    return names


def _under(path: Path, root: Path) -> bool:
    try:
        return path.resolve().is_relative_to(root)
    except OSError:
        return False
