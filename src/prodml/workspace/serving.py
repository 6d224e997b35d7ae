"""The façade's serving: which products have endpoints, and the HTTP app that serves them."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from prodml.errors import UsageError

if TYPE_CHECKING:
    from prodml.workspace.wiring import Wiring


class ServingMethods:
    """Real-time endpoints."""

    _w: Wiring

    def endpoint_products(self, products: Sequence[str] | None = None) -> list[str]:
        """The products to serve: those named (each must declare an endpoint), else all that
        do."""
        with_endpoint = [n for n, p in self._w.products.items() if p.config.endpoint is not None]
        if not products:
            if not with_endpoint:
                raise UsageError(
                    "no product declares an endpoint",
                    hint="add an endpoint: section to a product.yaml that has a model",
                )
            return with_endpoint
        for name in products:
            if name not in self._w.products:
                from prodml.errors import NotFoundError

                raise NotFoundError("product", name, self._w.products)
            if name not in with_endpoint:
                raise UsageError(
                    f"product {name} declares no endpoint",
                    hint=f"products with an endpoint: {', '.join(with_endpoint) or 'none'}",
                )
        return list(dict.fromkeys(products))

    def serving_app(self, products: Sequence[str] | None = None, *, no_auth: bool = False) -> Any:
        """The FastAPI app serving ``products`` (default: every product with an endpoint)."""
        from prodml.workspace.serve import serving_app

        return serving_app(self._w, self.endpoint_products(products), no_auth=no_auth)
