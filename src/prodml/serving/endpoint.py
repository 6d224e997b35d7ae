"""One product's endpoint: its variants' models, traffic assignment, scoring and logging."""

from __future__ import annotations

import asyncio
import gc
import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from prodml.abtest.assign import Assigner
from prodml.serving.batching import MicroBatcher, run_model
from prodml.serving.errors import ModelInputError, NotReadyError, PayloadError, PayloadTooLargeError
from prodml.serving.inference_log import Block, QueueWriter, now
from prodml.serving.payload import Records, coerce

if TYPE_CHECKING:
    import numpy as np

    from prodml.config.product import EndpointConfig
    from prodml.models.loaded import LoadedModel, Method
    from prodml.serving.features import FeatureEnricher

log = logging.getLogger(__name__)

# (model name, version) → LoadedModel; loads run in a worker thread
Loader = Callable[[int], "LoadedModel"]
Resolver = Callable[[str], "int | None"]  # alias → version (None: alias not set)


@dataclass
class Slot:
    """A variant: the alias it serves and the model loaded for it."""

    variant: str
    alias: str
    model: LoadedModel | None = None
    error: str | None = None  # the last load failure
    missing: bool = False  # the alias is not set in the registry
    batchers: dict[str, MicroBatcher] = field(default_factory=dict)

    def state(self) -> str:
        """``ready``, ``loading``, ``no <alias> alias`` or ``failed: …``."""
        if self.error is not None:
            return f"failed: {self.error}"
        if self.model is not None:
            return "ready"
        return f"no {self.alias} alias" if self.missing else "loading"


@dataclass
class Scored:
    """One request's answer: a prediction per record, and which variant/version gave it."""

    request_id: str
    predictions: np.ndarray
    variants: list[str]  # per record
    versions: list[int]  # per record
    model: str
    feature_status: list[dict[str, str]] = field(default_factory=list)  # per record, if looked up


class Endpoint:
    """Serves one product's model: variants, sticky traffic split, shadow, micro-batching."""

    def __init__(
        self,
        product: str,
        config: EndpointConfig,
        *,
        resolve: Resolver,
        load: Loader,
        log_writer: QueueWriter | None,
    ) -> None:
        self.product = product
        self.config = config
        self._resolve = resolve
        self._load = load
        self.log_writer = log_writer
        # called per scored group: (product, variant, version, shadow, rows) — the server's metrics
        self.on_scored: Callable[[str, str, int, bool, int], None] | None = None
        self.slots = {name: Slot(name, v.alias) for name, v in config.variants.items()}
        self.shadow = config.shadow
        live = {n: v.weight for n, v in config.variants.items() if n != config.shadow}
        self.assigner = Assigner(live, config.salt or product)
        self.default = next(n for n, w in live.items() if w > 0)
        self._refresh_lock = asyncio.Lock()
        # fills records' missing inputs from the online store (endpoint.feature_lookups)
        self.enricher: FeatureEnricher | None = None

    # -- models ---------------------------------------------------------------------------

    @property
    def ready(self) -> bool:
        """Every variant is settled (loaded, or its alias is not set), none failed, and the
        default one has a model: sticky assignment holds from the first request."""
        return self.slots[self.default].model is not None and all(
            s.state() == "ready" or s.missing for s in self.slots.values()
        )

    async def refresh(self) -> list[dict[str, Any]]:
        """Check every alias; load and swap in versions that changed. Returns the changes."""
        async with self._refresh_lock:
            changes = []
            for slot in self.slots.values():
                try:
                    version = await asyncio.to_thread(self._resolve, slot.alias)
                except Exception as exc:  # registry unreachable: keep serving what is loaded
                    log.warning("%s: cannot resolve @%s: %s", self.product, slot.alias, exc)
                    if slot.model is None:
                        slot.error = f"cannot reach the registry: {exc}"
                    continue
                current = slot.model.version if slot.model else None
                if version is None:
                    slot.missing = True
                    if slot.model is not None:
                        changes.append({"variant": slot.variant, "from": current, "to": None})
                    slot.model, slot.error = None, None
                    continue
                slot.missing = False
                if version == current:
                    continue
                try:
                    model = await asyncio.to_thread(self._load, version)
                except Exception as exc:
                    slot.error = f"version {version}: {type(exc).__name__}: {exc}"
                    log.error("%s: loading %s failed: %s", self.product, slot.variant, exc)
                    continue
                slot.model, slot.error = model, None  # the swap: one reference assignment
                changes.append({"variant": slot.variant, "from": current, "to": version})
                log.info("%s: %s now serves version %s", self.product, slot.variant, version)
            if changes:
                # the loaded models are long-lived: keep the cyclic GC from re-scanning their
                # hundreds of thousands of objects (full passes stalled requests for ~250 ms)
                gc.freeze()
            return changes

    def _batcher(self, slot: Slot, method: Method) -> MicroBatcher:
        batcher = slot.batchers.get(method)
        if batcher is None:
            batching = self.config.batching

            def current() -> LoadedModel:
                model = slot.model
                if model is None:
                    raise NotReadyError(f"variant {slot.variant} has no model loaded")
                return model

            batcher = MicroBatcher(
                run_model(current, method),
                max_batch_size=batching.max_batch_size,
                max_wait_ms=batching.max_wait_ms,
                name=f"{self.product}-{slot.variant}-{method}",
            )
            slot.batchers[method] = batcher
        return batcher

    # -- scoring --------------------------------------------------------------------------

    def schema(self) -> tuple[tuple[str, str], ...]:
        """The input signature of the default variant's model."""
        model = self.slots[self.default].model
        if model is None:
            raise NotReadyError(f"{self.product}: {self.slots[self.default].state()}")
        return model.schema

    def _serving_slot(self, variant: str) -> Slot:
        slot = self.slots[variant]
        if slot.model is None:  # e.g. no challenger right now: its traffic goes to the default
            slot = self.slots[self.default]
            if slot.model is None:
                raise NotReadyError(f"{self.product}: {slot.state()}")
        return slot

    def assign(self, records: Records, header_unit: str | None) -> list[str | None]:
        """The unit id of each record: its ``unit_key`` field, else the request's header."""
        key = self.config.unit_key
        if key is not None and key in records.columns:
            return [None if u is None else str(u) for u in records.columns[key]]
        return [header_unit] * records.n

    async def score(
        self,
        records: Records,
        *,
        method: Method,
        route: str,
        header_unit: str | None = None,
        request_id: str | None = None,
        started: float | None = None,
    ) -> Scored:
        """Assign, score (shadow too), log; raises ``PayloadError`` / ``NotReadyError``."""
        started = time.perf_counter() if started is None else started
        request_id = request_id or uuid.uuid4().hex
        arrived = now()
        self._check_size(records)
        feature_status: list[dict[str, str]] = []
        if self.enricher is not None:
            specs = [s.model.training_set for s in self.slots.values() if s.model is not None]
            records, feature_status = self.enricher.apply(records, self.enricher.lookups(specs))
        units = self.assign(records, header_unit)
        batch = _Batch(records)
        jobs = self._submit(batch, self._groups(units, request_id), method)
        try:
            results = await asyncio.gather(*(j[3] for j in jobs))
        except ModelInputError as exc:
            missing = _missing_features(feature_status)
            if not missing:
                raise
            raise PayloadError(f"{missing}; {exc}") from None
        latency = (time.perf_counter() - started) * 1000.0
        scored = Scored(request_id, *batch.combine(jobs, results), feature_status)
        self._log(batch, jobs, results, units, (request_id, arrived, route, latency))
        return scored

    def _check_size(self, records: Records) -> None:
        if records.n == 0:
            raise PayloadError("the request holds no records")
        if records.n > self.config.max_rows:
            raise PayloadTooLargeError(
                f"{records.n} records in one request; this endpoint takes at most "
                f"{self.config.max_rows}"
            )

    def _groups(self, units: list[str | None], request_id: str) -> dict[str, list[int]]:
        """The records each variant serves (a record without a unit id is assigned by the
        request id; a variant without a model passes its records to the default)."""
        fallback = self.assigner.assign(request_id)
        groups: dict[str, list[int]] = {}
        for i, unit in enumerate(units):
            variant = fallback if unit is None else self.assigner.assign(unit)
            groups.setdefault(self._serving_slot(variant).variant, []).append(i)
        return groups

    def _submit(self, batch: _Batch, groups: dict[str, list[int]], method: Method) -> list[Job]:
        """One micro-batched job per variant's records, and the shadow's over all of them."""
        import numpy as np

        jobs: list[Job] = []
        for variant, rows in groups.items():
            slot = self.slots[variant]
            idx = np.asarray(rows)
            part = batch.inputs(slot, idx)
            jobs.append((slot, idx, False, self._batcher(slot, method).submit(part, len(rows))))
        shadow = self.slots.get(self.shadow) if self.shadow else None
        if shadow is not None and shadow.model is not None:
            idx = np.arange(batch.n)
            cols = batch.inputs(shadow, idx)
            jobs.append((shadow, idx, True, self._batcher(shadow, method).submit(cols, batch.n)))
        return jobs

    def _log(
        self,
        batch: _Batch,
        jobs: list[Job],
        results: list[Any],
        units: list[str | None],
        request: tuple[str, Any, str, float],
    ) -> None:
        """Count what each variant scored; queue it for the inference log (a full queue
        refuses the request rather than serve it unlogged)."""
        request_id, arrived, route, latency = request
        blocks: list[Block] = []
        for (slot, idx, is_shadow, _), (model, preds) in zip(jobs, results, strict=True):
            if self.log_writer is not None:
                blocks.append(
                    Block(
                        request_id=request_id,
                        time=arrived,
                        product=self.product,
                        route=route,
                        variant=slot.variant,
                        shadow=is_shadow,
                        model=model.name,
                        model_version=model.version,
                        rows=idx,
                        unit_ids=[units[i] for i in idx.tolist()],
                        inputs=batch.inputs(slot, idx),
                        outputs=preds,
                        latency_ms=latency,
                    )
                )
            if self.on_scored is not None:
                self.on_scored(self.product, slot.variant, model.version, is_shadow, len(idx))
        if self.log_writer is not None and not self.log_writer.put(blocks):
            raise NotReadyError(
                "the inference log is behind (queue full); the request was not served, retry"
            )

    async def close(self) -> None:
        """Finish queued batches and stop the batch threads."""
        for slot in self.slots.values():
            for batcher in slot.batchers.values():
                await batcher.drain()
                batcher.close()

    def info(self) -> dict[str, Any]:
        """What the endpoint serves (``GET /v1/products/{product}``)."""
        default = self.slots[self.default].model
        return {
            "product": self.product,
            "ready": self.ready,
            "model": default.name if default else None,
            "inputs": [{"name": n, "type": t} for n, t in (default.schema if default else ())],
            "unit_key": self.config.unit_key,
            "shadow": self.shadow,
            "variants": [
                {
                    "name": s.variant,
                    "alias": s.alias,
                    "weight": self.assigner.shares.get(s.variant, 0.0),
                    "version": s.model.version if s.model else None,
                    "state": s.state(),
                }
                for s in self.slots.values()
            ],
        }


#: (variant slot, its records' indexes, shadow?, the pending result)
Job = tuple[Slot, "np.ndarray", bool, Any]


class _Batch:
    """One request's records, coerced once per model signature."""

    def __init__(self, records: Records) -> None:
        self.records = records
        self.n = records.n
        self._coerced: dict[tuple[tuple[str, str], ...], dict[str, np.ndarray]] = {}

    def inputs(self, slot: Slot, idx: np.ndarray) -> dict[str, np.ndarray]:
        """The columns ``slot``'s model takes, for the records at ``idx``."""
        assert slot.model is not None
        schema = slot.model.schema
        if schema not in self._coerced:
            self._coerced[schema] = coerce(self.records, schema)
        cols = self._coerced[schema]
        return cols if len(idx) == self.n else {k: v[idx] for k, v in cols.items()}

    def combine(
        self, jobs: list[Job], results: list[Any]
    ) -> tuple[np.ndarray, list[str], list[int], str]:
        """The answer in request order: predictions, variant and version per record, model."""
        import numpy as np

        dtype = np.result_type(*(preds.dtype for (_, preds) in results))
        out = np.empty(self.n, dtype=dtype)
        variants: list[str] = [""] * self.n
        versions: list[int] = [0] * self.n
        model_name = ""
        for (slot, idx, is_shadow, _), (model, preds) in zip(jobs, results, strict=True):
            model_name = model.name
            if not is_shadow:
                out[idx] = preds
                for i in idx.tolist():
                    variants[i] = slot.variant
                    versions[i] = model.version
        return out, variants, versions, model_name


def _missing_features(statuses: list[dict[str, str]], shown: int = 3) -> str | None:
    """Which records lacked looked-up features (not found or expired online), or None."""
    gaps = [
        (i, sorted(f for f, state in status.items() if state in ("not_found", "expired")))
        for i, status in enumerate(statuses)
    ]
    gaps = [(i, names) for i, names in gaps if names]
    if not gaps:
        return None
    parts = [f"record {i}: {', '.join(names)}" for i, names in gaps[:shown]]
    more = f" and {len(gaps) - shown} more" if len(gaps) > shown else ""
    return (
        "features not in the online store (not found or expired) for "
        + "; ".join(parts)
        + more
        + " — send them in the request, or publish the feature table"
    )
