"""``prodml init``: lay out a new platform directory, optionally with an example."""

from __future__ import annotations

import json
import shutil
from datetime import date
from pathlib import Path

from prodml.errors import UsageError

EXAMPLES = ("retail",)
DEFAULT_DAYS = 60

MINIMAL_PLATFORM = """\
# prodml platform: environments and storage, specified once for every product.
name: {name}
default_env: dev
state_dir: .prodml
landing_dir: landing
storage:
  root: data
environments:
  dev: {{}}
  staging: {{}}
  prod: {{}}
"""


def create(dest: Path, *, example: str | None = None, days: int = DEFAULT_DAYS) -> list[str]:
    """Create a platform in ``dest`` (which must not exist or be empty); return files written.

    Raises:
        UsageError: ``dest`` holds files already, or the example is unknown.
    """
    if example is not None and example not in EXAMPLES:
        from prodml.errors import did_you_mean

        raise UsageError(
            f"unknown example {example!r}",
            hint=did_you_mean(example, EXAMPLES) or f"examples: {', '.join(EXAMPLES)}",
        )
    if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
        raise UsageError(f"{dest} exists and is not empty", hint="choose a new directory")
    if example is None:
        dest.mkdir(parents=True, exist_ok=True)
        (dest / "products").mkdir()
        # quoted: a directory may be named like a YAML number, list or comment ("2024", "a #1")
        name = json.dumps(dest.name or "prodml", ensure_ascii=False)
        (dest / "prodml.yaml").write_text(MINIMAL_PLATFORM.format(name=name))
        (dest / ".gitignore").write_text(".prodml/\ndata/\nlanding/\n")
        return ["prodml.yaml", "products/", ".gitignore"]
    template = Path(__file__).parent / example / "template"
    shutil.copytree(
        template, dest, dirs_exist_ok=True, ignore=shutil.ignore_patterns("__pycache__")
    )
    from prodml.examples.retail.generator import generate

    generate(dest / "landing", days=days)
    return sorted(
        str(p.relative_to(dest))
        for p in dest.rglob("*")
        if p.is_file() and "landing" not in p.parts
    )


def add_days(landing_dir: Path, days: int = 1, *, drift: bool = False) -> list[date]:
    """Write the next ``days`` daily batches of the example into a platform's landing
    directory (``drift`` shifts prices, quantities and channels); the dates written.

    Raises:
        UsageError: the platform was not made from the example.
    """
    from prodml.examples.retail.generator import MANIFEST_NAME
    from prodml.examples.retail.generator import add_days as generate_more

    if not (landing_dir / MANIFEST_NAME).is_file():
        raise UsageError(
            f"{landing_dir} holds no example data to continue",
            hint="this works on a platform made with 'prodml init DIR --example retail'",
        )
    return generate_more(landing_dir, days, drift=drift)
