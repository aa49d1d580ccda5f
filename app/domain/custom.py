"""Custom metrics that programs push (``POST /api/v1/metrics``): storage and series identity.

A series is one metric name plus one set of labels, written ``queue_depth{queue="mail"}``
(Prometheus' notation). Each accepted request becomes one ``custom`` log item
``{"metrics": [{"key", "name", "value", "type", "unit", "labels", "ts"}, ...], "ts"}``; the
latest reading of every series is kept as the state ``custom`` (``{"series": {key: reading}}``),
which ``GET /api/v1/metrics`` returns.
"""

from __future__ import annotations

import hashlib
import time

from app.domain import history
from app.store import Store

STATE_KEY = "custom"
#: Distinct series kept. A card per series: beyond this the page is unreadable, and a label
#: with an unbounded value (a request id) must not grow the state without end.
MAX_SERIES = 100


class TooManySeries(ValueError):
    """Accepting the readings would keep more than :data:`MAX_SERIES` series."""


def series_key(name: str, labels: dict[str, str]) -> str:
    r"""``'queue_depth{queue="mail"}'``: the name and the labels sorted by name, each value
    escaped as in Prometheus' text format (``\\``, ``\"``, ``\n``) so that two label sets
    never make one key."""
    if not labels:
        return name
    inner = ",".join(f'{k}="{_escape(labels[k])}"' for k in sorted(labels))
    return f"{name}{{{inner}}}"


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def slug(key: str) -> str:
    """A short id for a series' card: ``custom-`` + 10 hex digits of its key's SHA-1."""
    return "custom-" + hashlib.sha1(key.encode("utf-8", "surrogatepass")).hexdigest()[:10]


def latest(store: Store) -> dict[str, dict]:
    """The latest reading of every series, by series key."""
    return (store.get_state(STATE_KEY) or {}).get("series", {})


def ingest(store: Store, metrics: list[dict], now: float | None = None,
           history_host: str | None = None) -> int:
    """Store readings (dicts of ``app.domain.schemas.CustomMetric``); return the log item's id.

    Two statements (log item, then the merged latest state), not one transaction: a failure
    between them leaves the page updated and ``GET`` one reading behind, never the reverse.
    With ``history_host`` (the dashboard's own ``DASHBOARD_HOST_NAME``) the readings are then
    recorded in its history as ``custom:<series key>`` (:func:`app.domain.history.record_custom`).

    :raise TooManySeries: nothing was written.
    :raise StoreUnavailable: nothing, or only the log item, was written.
    """
    now = time.time() if now is None else now
    readings = [{**m, "key": series_key(m["name"], m["labels"]), "ts": now} for m in metrics]
    series = dict(latest(store))
    series.update((r["key"], r) for r in readings)
    if len(series) > MAX_SERIES:
        raise TooManySeries(f"at most {MAX_SERIES} series (name and labels) are kept; "
                            f"this request would make {len(series)}")
    item_id = store.append("custom", {"metrics": readings, "ts": now})
    store.set_state(STATE_KEY, {"series": series})
    if history_host is not None:
        history.record_custom(store, history_host, readings)
    return item_id
