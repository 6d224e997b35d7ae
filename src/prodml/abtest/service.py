"""The A/B experiments of one environment: list, report, and conclude with a recorded decision.

Concluding moves a model's aliases: that is the models domain's, injected as ``settle``
(which checks MODIFY on the model), so this package does not import it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Protocol

from prodml.abtest.decision import check, choose, experiments, find
from prodml.abtest.report import report
from prodml.catalog.gate import Catalog
from prodml.catalog.policies import Access
from prodml.catalog.store import MetadataStore
from prodml.config.product import Experiment, ProductConfig
from prodml.engine.base import Engine


class Settle(Protocol):
    """Ends a comparison of two aliases of a product's model; returns the control's version
    before and after."""

    def __call__(
        self, product: str, *, control: str, treatment: str, promote: bool, tags: dict[str, str]
    ) -> tuple[int | None, int | None]:
        """Move (or keep) the aliases, tag the treatment's version."""


class Experiments:
    """A/B experiments of every product of one environment.

    Args:
        catalog: the environment's catalog (reports read the inference log through it).
        store: the metadata store (decisions are recorded there).
        products: every product's configuration.
        make_engine: a fresh engine per report.
        principal: who acts.
        settle: moves the model's aliases when an experiment is concluded.
        registered_name: the registered name of a product's model.
        charts: where report charts go by default.
    """

    def __init__(
        self,
        catalog: Catalog,
        store: MetadataStore,
        products: Mapping[str, ProductConfig],
        make_engine: Callable[[], Engine],
        principal: str,
        *,
        settle: Settle,
        registered_name: Callable[[str], str],
        charts: Path,
    ) -> None:
        self.catalog = catalog
        self.store = store
        self.products = products
        self.make_engine = make_engine
        self.principal = principal
        self._settle = settle
        self._registered_name = registered_name
        self.charts = charts

    def list(self) -> list[dict[str, Any]]:
        """Every product's experiments (its configuration), with their latest decision when
        you may see the product's model (a decision is a result of comparing its versions)."""
        rows = experiments(self.products, self.store.decisions(self.catalog.catalog))
        access = Access(self.principal)
        for row in rows:
            model = self._registered_name(row["product"])
            if row["decision"] is not None and not self.catalog.visible_model(model, access):
                row["decision"] = None
        return rows

    def find(self, name: str, product: str | None) -> tuple[str, Experiment]:
        """The product and definition of an experiment (``product`` when names clash)."""
        if product is not None and product not in self.products:
            from prodml.errors import NotFoundError

            raise NotFoundError("product", product, self.products)
        return find(self.products, name, product)

    def report(
        self, name: str, *, product: str | None = None, chart: Path | None = None
    ) -> dict[str, Any]:
        """Per-variant results, lift, p-values, SRM and a recommendation; a PNG chart of the
        metrics over time is written (default: under ``charts``)."""
        owner, experiment = self.find(name, product)
        engine = self.make_engine()
        try:
            return report(
                self.catalog,
                engine,
                self.products[owner],
                name,
                experiment,
                Access(principal=self.principal, step="ab report"),
                chart or self.charts / f"{owner}.{name}.png",
            )
        finally:
            engine.close()

    def conclude(
        self, name: str, *, product: str | None = None, decision: str | None = None
    ) -> dict[str, Any]:
        """Act on an experiment: promote the treatment's model to the control's alias, or keep
        the control (a rejected ``challenger`` alias is removed); record the decision."""
        check(decision)
        owner, experiment = self.find(name, product)
        doc = self.report(name, product=owner)
        chosen, reason = choose(doc, decision, self.principal)
        endpoint = self.products[owner].endpoint
        assert endpoint is not None  # validated: an experiment needs an endpoint
        before, after = self._settle(
            owner,
            control=endpoint.variants[experiment.control].alias,
            treatment=endpoint.variants[experiment.treatment].alias,
            promote=chosen == "promote_treatment",
            tags={f"prodml.ab.{name}": chosen, "prodml.ab.decided_by": self.principal},
        )
        record = {
            "catalog": self.catalog.catalog,
            "product": owner,
            "experiment": name,
            "decision": chosen,
            "reason": reason,
            "model": self._registered_name(owner),
            "champion_before": before,  # the control alias (champion in the example)
            "champion_after": after,
            "decided_by": self.principal,
        }
        return {"id": self.store.record_decision({**record, "report": doc}), **record}
