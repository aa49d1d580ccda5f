"""A host's top processes in the store: a ``processes`` log item and the ``processes:<host>``
state, ``{"host", "ts", "processes": [...]}`` (rows as
:meth:`app.sources.processes.ProcessScanner.scan` makes them).

Written by the sampler of a host while someone views it (``app.live.sampling``) and by
``POST /api/v1/samples`` for an agent run with ``--processes``; read by the page's process
table and ``GET /api/v1/processes?host=``.
"""

from __future__ import annotations

from app.store import Store

KIND = "processes"
#: Orders the table may be sorted by (``?sort=``): the row key each sorts on, highest first.
SORTS = {"cpu": "cpu_percent", "mem": "rss"}


def state_key(host: str) -> str:
    """The state key of ``host``'s latest list."""
    return f"processes:{host}"


def entry(host: str, ts: float, rows: list[dict], cmdline: bool) -> tuple[str, dict, str]:
    """What :func:`record` appends: ``(kind, data, state key)`` (``Store.append_batch``).

    :param cmdline: keep the rows' ``cmdline`` (``DASHBOARD_SHOW_CMDLINE``); without it they
        are dropped here, so no command line (they often hold secrets) is stored or shown.
    """
    if not cmdline:
        rows = [{k: v for k, v in row.items() if k != "cmdline"} for row in rows]
    return KIND, {"host": host, "ts": ts, "processes": rows}, state_key(host)


def record(store: Store, host: str, ts: float, rows: list[dict], cmdline: bool) -> int:
    """Append ``host``'s list taken at Unix time ``ts`` (:func:`entry`); return its log id."""
    kind, data, key = entry(host, ts, rows, cmdline)
    return store.append(kind, data, state_key=key)


def latest(store: Store, host: str) -> dict | None:
    """``host``'s latest list ``{"host", "ts", "processes"}``, or None if none was taken."""
    return store.get_state(state_key(host))


def ranked(rows: list[dict], sort: str, count: int) -> list[dict]:
    """The ``count`` highest rows by ``sort`` (a key of :data:`SORTS`), highest first."""
    key = SORTS[sort]
    return sorted(rows, key=lambda row: -row[key])[:count]
