"""Alerts: always to the log, and to a webhook when one is configured (JSON POST)."""

from __future__ import annotations

import json
import logging
import urllib.error
import urllib.request
from collections.abc import Mapping
from typing import Any

log = logging.getLogger("prodml.alerts")


def notify(event: Mapping[str, Any], *, webhook: str | None, timeout: float = 5.0) -> str:
    """Send ``event``; returns what happened (``logged``, ``sent``, or ``webhook failed: …``).

    A failing webhook never fails the caller: the alert is still in the log.
    """
    log.warning("ALERT %s: %s", event.get("kind", "alert"), event.get("summary", ""))
    if not webhook:
        return "logged"
    body = json.dumps(event, default=str).encode()
    try:
        request = urllib.request.Request(
            webhook, data=body, headers={"Content-Type": "application/json"}, method="POST"
        )
        with urllib.request.urlopen(request, timeout=timeout) as response:
            status = int(response.status)
    except (urllib.error.URLError, OSError, ValueError) as exc:
        log.error("alert webhook failed: %s", exc)
        return f"webhook failed: {exc}"
    return "sent" if 200 <= status < 300 else f"webhook failed: HTTP {status}"
