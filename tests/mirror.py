"""How many source modules have their exact test mirror (``src/prodml/a/b.py`` →
``tests/a/test_b.py``): ``python -m tests.mirror`` prints the ratio, ``--missing`` the rest.

Every ``.py`` under ``src/prodml`` counts (migrations and the example's template pipelines
too), except an ``__init__.py`` that only re-exports (no function or class of its own); one
that has logic is mirrored by ``test_<package>.py`` beside the package's other tests.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src" / "prodml"


def mirrors() -> list[tuple[Path, Path, bool]]:
    """(module, its mirror, whether the mirror exists) for every counted module."""
    out = []
    for path in sorted(SRC.rglob("*.py")):
        rel = path.relative_to(SRC)
        if path.name == "__init__.py":
            tree = ast.parse(path.read_text())
            if not any(isinstance(n, ast.FunctionDef | ast.ClassDef) for n in tree.body):
                continue
            test = ROOT / "tests" / rel.parent / f"test_{rel.parent.name or 'prodml'}.py"
        else:
            test = ROOT / "tests" / rel.parent / f"test_{path.stem}.py"
        out.append((rel, test.relative_to(ROOT), test.is_file()))
    return out


def main() -> None:
    found = mirrors()
    hit = sum(exists for _, _, exists in found)
    print(f"exact test mirrors: {hit} of {len(found)} src modules ({100 * hit / len(found):.1f} %)")
    if "--missing" in sys.argv:
        for module, test, exists in found:
            if not exists:
                print(f"  {module} -> {test}")


if __name__ == "__main__":
    main()
