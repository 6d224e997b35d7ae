"""Load products: their ``product.yaml`` and the steps their pipeline modules declare."""

from __future__ import annotations

import difflib
import importlib.util
import sys
import traceback
import types
from collections.abc import Collection, Mapping
from pathlib import Path
from typing import Any

from prodml.config.loader import PRODUCT_FILE, load_product
from prodml.pipeline.errors import PipelineDefinitionError
from prodml.pipeline.step import sql_step_from_file
from prodml.products import Product, StepSpec, require_product

__all__ = ["Product", "load_one", "load_products", "product_dirs", "require_product"]

PACKAGE = "prodml_products"


def product_dirs(products_dir: Path) -> dict[str, Path]:
    """Product directories (those holding a ``product.yaml``) by name."""
    if not products_dir.is_dir():
        return {}
    return {p.name: p for p in sorted(products_dir.iterdir()) if (p / PRODUCT_FILE).is_file()}


def load_products(
    products_dir: Path, env: str, root: Path, environments: Collection[str] | None = None
) -> dict[str, Product]:
    """Load every product under ``products_dir`` for environment ``env``."""
    return {
        name: load_one(path, env, root, environments)
        for name, path in product_dirs(products_dir).items()
    }


def load_one(
    path: Path, env: str, root: Path, environments: Collection[str] | None = None
) -> Product:
    """Load one product directory."""
    display = (
        str((path / PRODUCT_FILE).relative_to(root)) if path.is_relative_to(root) else str(path)
    )
    config = load_product(path / PRODUCT_FILE, env, display=display, environments=environments)
    steps: list[StepSpec] = []
    module_file = path / config.pipeline
    if module_file.is_file():
        module = _import(config.name, path, module_file)
        for value in vars(module).values():
            spec = getattr(value, "__prodml_step__", None)
            if isinstance(spec, StepSpec) and getattr(value, "__module__", None) == module.__name__:
                steps.append(spec.with_product(config.name))
    elif config.pipeline != "pipeline.py":
        raise PipelineDefinitionError(
            f"{display}: pipeline module {config.pipeline!r} does not exist",
            hint=f"create {module_file} or fix the 'pipeline' key",
        )
    sql_dir = path / "sql"
    if sql_dir.is_dir():
        steps.extend(
            sql_step_from_file(f).with_product(config.name) for f in sorted(sql_dir.glob("*.sql"))
        )
    seen: dict[str, StepSpec] = {}
    for spec in steps:
        if spec.name in seen:
            raise PipelineDefinitionError(
                f"product {config.name}: two steps are called {spec.name!r} "
                f"({seen[spec.name].where()} and {spec.where()})"
            )
        seen[spec.name] = spec
        _check_params(spec, config.params, display)
    return Product(config=config, path=path, steps=tuple(steps))


def _check_params(spec: StepSpec, params: Mapping[str, Any], display: str) -> None:
    """Every param a step declares is set in product.yaml: a missing one is not None."""
    for name in spec.params or ():
        if name in params:
            continue
        near = difflib.get_close_matches(name, list(params), n=1, cutoff=0.6)
        raise PipelineDefinitionError(
            f"{spec.where()}: step {spec.name} declares param {name!r}, which {display} "
            "does not set",
            hint=(f"{display} sets {near[0]!r} (a typo?); " if near else "")
            + f"add '{name}: <value>' under params: in {display}",
        )


def _import(product: str, path: Path, module_file: Path) -> types.ModuleType:
    if PACKAGE not in sys.modules:
        root_pkg = types.ModuleType(PACKAGE)
        root_pkg.__path__ = []
        sys.modules[PACKAGE] = root_pkg
    pkg_name = f"{PACKAGE}.{product}"
    for name in [m for m in sys.modules if m == pkg_name or m.startswith(pkg_name + ".")]:
        del sys.modules[name]  # re-import fresh: the code may have changed
    pkg = types.ModuleType(pkg_name)
    pkg.__path__ = [str(path)]
    pkg.__file__ = str(path / "__init__.py")
    sys.modules[pkg_name] = pkg
    mod_name = f"{pkg_name}.{module_file.stem}"
    spec = importlib.util.spec_from_file_location(mod_name, module_file)
    if spec is None or spec.loader is None:  # pragma: no cover - a .py file always has a loader
        raise PipelineDefinitionError(f"cannot import {module_file}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[mod_name] = module
    try:
        spec.loader.exec_module(module)
    except PipelineDefinitionError:
        raise
    except SyntaxError as exc:
        raise PipelineDefinitionError(
            f"{exc.filename}:{exc.lineno}: syntax error in product {product}: {exc.msg}"
        ) from None
    except Exception as exc:
        frame = traceback.extract_tb(exc.__traceback__)[-1]
        raise PipelineDefinitionError(
            f"{frame.filename}:{frame.lineno}: importing product {product} raised "
            f"{type(exc).__name__}: {exc}"
        ) from exc
    return module
