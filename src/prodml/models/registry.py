"""The model registry of one environment: ``<env>.ml.<model>`` with champion/challenger aliases."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from prodml.models.errors import ModelError, TrackingUnavailableError

if TYPE_CHECKING:
    from mlflow import MlflowClient

log = logging.getLogger(__name__)

# MLflow keeps one tracking/registry URI per process: loads by models:/ URI take turns
_GLOBAL_URIS = threading.RLock()

CHAMPION = "champion"
CHALLENGER = "challenger"
METRIC_TAG = "prodml.metric."
#: the training-set spec (feature lookups) a version was trained with, as JSON
TRAINING_SET_TAG = "prodml.training_set"


@dataclass(frozen=True)
class TrackingTarget:
    """Where one environment tracks experiments and registers models."""

    env: str
    tracking_uri: str
    registry_uri: str
    artifact_root: str | None  # None: the tracking server decides


class ModelRegistry:
    """Registry operations for one environment (lazy: MLflow is imported on first use)."""

    def __init__(self, target: TrackingTarget) -> None:
        self.target = target
        self._client: MlflowClient | None = None

    @property
    def env(self) -> str:
        """The environment."""
        return self.target.env

    def registered_name(self, model: str) -> str:
        """``<env>.ml.<model>``."""
        return f"{self.env}.ml.{model}"

    @property
    def client(self) -> MlflowClient:
        """An MLflow client on this environment's tracking and registry URIs."""
        if self._client is None:
            check_reachable(self.target.tracking_uri)
            os.environ.setdefault("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "2")
            os.environ.setdefault("MLFLOW_HTTP_REQUEST_TIMEOUT", "30")
            try:
                import mlflow
                from mlflow import MlflowClient
            except ImportError:
                raise ModelError(
                    "model operations need MLflow", hint='pip install "prodml[ml]"'
                ) from None

            logging.getLogger("mlflow").setLevel(logging.WARNING)
            logging.getLogger("alembic").setLevel(logging.WARNING)
            if self.target.tracking_uri.startswith("sqlite:///"):
                create_sqlite_store(Path(self.target.tracking_uri[len("sqlite:///") :]))
            mlflow.set_tracking_uri(self.target.tracking_uri)
            mlflow.set_registry_uri(self.target.registry_uri)
            self._client = MlflowClient(self.target.tracking_uri, self.target.registry_uri)
        return self._client

    def experiment_name(self, product: str) -> str:
        """``<env>.<product>``: one experiment per product and environment."""
        return f"{self.env}.{product}"

    def compare_runs(self, product: str, limit: int = 20) -> list[dict[str, Any]]:
        """The product's tracking runs, newest first: params and metrics side by side."""
        experiment = self.client.get_experiment_by_name(self.experiment_name(product))
        if experiment is None:  # nothing tracked yet (and a listing creates nothing)
            return []
        runs = self.client.search_runs(
            [experiment.experiment_id],
            order_by=["attributes.start_time DESC"],
            max_results=limit,
        )
        return [
            {
                "tracking_run_id": r.info.run_id,
                "step": r.data.tags.get("prodml.step"),
                "prodml_run_id": r.data.tags.get("prodml.run_id"),
                "status": r.info.status,
                "params": dict(r.data.params),
                "metrics": dict(r.data.metrics),
            }
            for r in runs
        ]

    def end_killed_run(self, tracking_run_id: str) -> None:
        """End a tracking run whose step was killed (status KILLED), if it is still running;
        an unreachable tracking server or a run gone from it is logged, not raised (the
        prodml run is recorded as killed either way)."""
        try:
            client = self.client
            if client.get_run(tracking_run_id).info.status == "RUNNING":
                client.set_terminated(tracking_run_id, status="KILLED")
        except Exception as exc:
            log.warning("could not end tracking run %s as killed: %s", tracking_run_id, exc)

    def experiment_id(self, product: str) -> str:
        """The experiment of ``product`` in this environment (created on first use)."""
        name = self.experiment_name(product)
        found = self.client.get_experiment_by_name(name)
        if found is not None:
            return str(found.experiment_id)
        if self.target.artifact_root is None:
            return str(self.client.create_experiment(name))
        root = self.target.artifact_root.rstrip("/")
        return str(self.client.create_experiment(name, artifact_location=f"{root}/{name}"))

    # -- versions and aliases ---------------------------------------------------------------

    def versions(self, model: str) -> list[dict[str, Any]]:
        """Every version of ``model``, newest first, with aliases, gate verdict and metrics."""
        name = self.registered_name(model)
        from mlflow.exceptions import MlflowException

        try:
            registered = self.client.get_registered_model(name)
        except MlflowException:
            return []
        aliases: dict[str, list[str]] = {}
        for alias, version in (registered.aliases or {}).items():
            aliases.setdefault(str(version), []).append(alias)
        out = []
        for v in self.client.search_model_versions(f"name = '{name}'"):
            tags = dict(v.tags or {})
            out.append(
                {
                    "name": name,
                    "version": int(v.version),
                    "aliases": sorted(aliases.get(str(v.version), [])),
                    "run_id": v.run_id,
                    "created": v.creation_timestamp,
                    "gate": tags.get("prodml.gate"),
                    "gate_reason": tags.get("prodml.gate.reason"),
                    "prodml_run_id": tags.get("prodml.run_id"),
                    "metrics": {
                        k[len(METRIC_TAG) :]: float(val)
                        for k, val in tags.items()
                        if k.startswith(METRIC_TAG)
                    },
                    "source": tags.get("prodml.copied_from"),
                }
            )
        return sorted(out, key=lambda r: r["version"], reverse=True)

    def training_set(self, model: str, version: int) -> dict[str, Any] | None:
        """The training-set spec logged with a version (None: trained without the store)."""
        mv = self.client.get_model_version(self.registered_name(model), str(version))
        raw = (mv.tags or {}).get(TRAINING_SET_TAG)
        return json.loads(raw) if raw else None

    def alias_version(self, model: str, alias: str) -> int | None:
        """The version an alias points at, or None."""
        from mlflow.exceptions import MlflowException

        try:
            mv = self.client.get_model_version_by_alias(self.registered_name(model), alias)
        except MlflowException:
            return None
        return int(mv.version)

    def require_version(self, model: str, *, version: int | None, alias: str | None) -> int:
        """Resolve a version or alias; a clear error if it does not exist."""
        known = self.versions(model)
        name = self.registered_name(model)
        if not known:
            raise ModelError(
                f"model {name} has no versions yet",
                hint="run the product's train step first ('prodml run PRODUCT')",
            )
        if alias is not None:
            resolved = self.alias_version(model, alias)
            if resolved is None:
                have = sorted({a for v in known for a in v["aliases"]})
                raise ModelError(
                    f"model {name} has no {alias!r} alias",
                    hint=f"aliases set: {', '.join(have) or 'none'}; "
                    + (
                        "promote a challenger with 'prodml models promote'"
                        if alias == CHAMPION
                        else "run the evaluate step"
                    ),
                )
            return resolved
        if version is None:
            return int(known[0]["version"])
        if version not in {v["version"] for v in known}:
            raise ModelError(
                f"model {name} has no version {version}",
                hint=f"versions: {', '.join(str(v['version']) for v in known)}",
            )
        return version

    def metrics(self, model: str, version: int) -> dict[str, float]:
        """The gate metrics recorded on a version."""
        for v in self.versions(model):
            if v["version"] == version:
                return dict(v["metrics"])
        return {}

    def set_alias(self, model: str, alias: str, version: int) -> None:
        """Point ``alias`` at ``version``."""
        self.client.set_registered_model_alias(self.registered_name(model), alias, str(version))

    def tag_version(self, model: str, version: int, tags: dict[str, str]) -> None:
        """Set tags on a version."""
        for key, value in tags.items():
            self.client.set_model_version_tag(self.registered_name(model), str(version), key, value)

    def model_uri(self, model: str, *, version: int | None = None, alias: str | None = None) -> str:
        """``models:/<name>/<version>`` or ``models:/<name>@<alias>``."""
        name = self.registered_name(model)
        return f"models:/{name}@{alias}" if alias else f"models:/{name}/{version}"

    def load(
        self,
        model: str,
        *,
        version: int | None = None,
        alias: str | None = None,
        flavor: str = "pyfunc",
    ) -> Any:
        """Load a version: the native object for ``sklearn`` (predict_proba), else pyfunc."""
        resolved = self.require_version(model, version=version, alias=alias)
        uri = self.model_uri(model, version=resolved)
        with self.uris():
            if flavor == "sklearn":
                import mlflow.sklearn

                return mlflow.sklearn.load_model(uri)
            import mlflow.pyfunc

            return mlflow.pyfunc.load_model(uri)

    @contextlib.contextmanager
    def uris(self) -> Iterator[None]:
        """MLflow's process-wide tracking and registry URIs set to this environment's, for
        calls that resolve ``models:/`` through them (another registry may have set them)."""
        import mlflow

        self.client  # noqa: B018 - imports and checks MLflow
        with _GLOBAL_URIS:
            mlflow.set_tracking_uri(self.target.tracking_uri)
            mlflow.set_registry_uri(self.target.registry_uri)
            yield

    def settle(
        self,
        model: str,
        *,
        control: str,
        treatment: str,
        promote: bool,
        tags: dict[str, str],
        principal: str,
    ) -> tuple[int | None, int | None]:
        """End a comparison of two aliases: ``promote`` moves ``control`` to the treatment's
        version (champion/challenger: a promotion); otherwise a rejected ``challenger`` alias is
        removed. Tags the treatment's version; returns the control's version before and after.

        Raises:
            ModelError: promoting a treatment alias that is not set.
        """
        before = self.alias_version(model, control)
        winner = self.alias_version(model, treatment)
        name = self.registered_name(model)
        if promote:
            if winner is None:
                raise ModelError(f"{name} has no {treatment!r} alias to promote")
            if (control, treatment) == (CHAMPION, CHALLENGER):
                self.promote(model, principal=principal)
            else:
                self.set_alias(model, control, winner)
        elif winner is not None and treatment == CHALLENGER:
            self.client.delete_registered_model_alias(name, treatment)
        if winner is not None:
            self.tag_version(model, winner, tags)
        return before, winner if promote else before

    def promote(self, model: str, *, principal: str) -> dict[str, Any]:
        """Make the challenger the champion (the previous champion is remembered in a tag)."""
        challenger = self.alias_version(model, CHALLENGER)
        name = self.registered_name(model)
        if challenger is None:
            raise ModelError(
                f"model {name} has no challenger to promote",
                hint="a version becomes challenger when it passes the gate in the evaluate step",
            )
        previous = self.alias_version(model, CHAMPION)
        if previous == challenger:
            raise ModelError(f"version {challenger} of {name} is already the champion")
        self.set_alias(model, CHAMPION, challenger)
        self.client.delete_registered_model_alias(name, CHALLENGER)
        self.tag_version(
            model,
            challenger,
            {"prodml.promoted_by": principal, "prodml.previous_champion": str(previous or "")},
        )
        return {"model": name, "champion": challenger, "previous_champion": previous}


def tracking_target(env: str, tracking: Any, state_dir: Path, resolve: Any) -> TrackingTarget:
    """The tracking target of an environment from its ``tracking:`` settings."""
    uri = resolve(tracking.uri) if tracking.uri else f"sqlite:///{state_dir / 'mlflow.db'}"
    registry = resolve(tracking.registry_uri) if tracking.registry_uri else uri
    remote = uri.startswith(("http://", "https://", "databricks"))
    artifacts = tracking.artifact_root or (None if remote else (state_dir / "mlartifacts").as_uri())
    if not remote:
        state_dir.mkdir(parents=True, exist_ok=True)
    if not tracking.uri and not tracking.artifact_root:  # the platform's own: relocatable
        relocate_artifacts(state_dir / "mlflow.db", state_dir / "mlartifacts")
    return TrackingTarget(env=env, tracking_uri=uri, registry_uri=registry, artifact_root=artifacts)


#: the columns of MLflow's database that hold artifact locations (MLflow 3)
_LOCATIONS = (
    ("experiments", "artifact_location"),
    ("runs", "artifact_uri"),
    ("logged_models", "artifact_location"),
    ("model_versions", "storage_location"),
    ("model_versions", "source"),
)


def relocate_artifacts(db: Path, artifacts: Path) -> int:
    """Keep the platform's own MLflow store pointing into its own ``mlartifacts``.

    MLflow stores absolute artifact locations; a copy of the platform (``cp -r``, ``tar``,
    ``rsync``) would read and write the original's files. The directory the locations were
    written for is kept beside the database (``mlflow.db.root``); when the platform has moved,
    every stored location under the old directory is rewritten under the new one, in one
    transaction, before MLflow opens the database. Returns the locations rewritten."""
    import sqlite3

    marker = db.with_name(db.name + ".root")
    here = artifacts.resolve()
    before = marker.read_text().strip() if marker.exists() else None
    if before == str(here):
        return 0
    changed = 0
    if before and db.exists():
        old = Path(before)
        prefixes = [(old.as_uri(), here.as_uri()), (str(old), str(here))]
        con = sqlite3.connect(db)
        try:
            with con:
                tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master")}
                for table, column in _LOCATIONS:
                    if table not in tables:
                        continue
                    for was, now in prefixes:
                        changed += con.execute(
                            f"UPDATE {table} SET {column} = ? || substr({column}, ?) "
                            f"WHERE substr({column}, 1, ?) = ?",
                            (now, len(was) + 1, len(was), was),
                        ).rowcount
        finally:
            con.close()
        log.info("platform moved from %s: %d artifact locations rebased", old, changed)
    marker.write_text(str(here))
    return changed


def create_sqlite_store(db: Path) -> None:
    """Create a SQLite MLflow store all at once: MLflow creates its tables one migration at a
    time, so a process killed meanwhile left a database every later command failed on
    ('table … already exists'). The store is made in a file of its own, then linked into
    place (which fails if another process was first: its store is then used)."""
    if db.exists():
        return
    from mlflow.store.tracking.sqlalchemy_store import SqlAlchemyStore

    db.parent.mkdir(parents=True, exist_ok=True)
    scratch = db.with_name(f".{db.name}.{os.getpid()}.new")
    scratch.unlink(missing_ok=True)
    store = SqlAlchemyStore(f"sqlite:///{scratch}", (db.parent / "mlartifacts").as_uri())  # type: ignore[no-untyped-call]
    store.engine.dispose()
    try:
        os.link(scratch, db)  # atomic; refuses to replace a store another process made
    except FileExistsError:
        pass
    finally:
        scratch.unlink(missing_ok=True)


def check_reachable(uri: str) -> None:
    """Fail fast, with the URI, when an HTTP tracking server does not answer."""
    if not uri.startswith(("http://", "https://")):
        return
    from prodml.config.secrets import redact

    try:
        with urllib.request.urlopen(uri.rstrip("/") + "/health", timeout=5):
            return
    except urllib.error.HTTPError:
        return  # it answered
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise TrackingUnavailableError(
            f"cannot reach the tracking server {redact(uri)}: {reason}",
            hint="start it, or fix tracking.uri in prodml.yaml (nothing was written)",
        ) from None
