"""``/api/v1/hosts``: every host with its level and latest figures, one host's latest sample
and firing alerts, and forgetting a host gone for good (``app.domain.hosts``).

What the reads show is this process's fleet (``app.domain.fleet``: level, stale, last seen),
the very figures the fleet row and ``/fleet`` show; a sample posted a moment ago shows once the
process's tailer folded it (within ``DASHBOARD_TAIL_INTERVAL``).
"""

from __future__ import annotations

from flask import current_app, jsonify

from app.domain import alerts, hosts
from app.domain.fleet import Card
from app.domain.i18n import public

from ..errors import error_response
from .samples import sampled_by_a_dashboard
from ..access import needs
from ..auth import record

#: The figures of a sample that ``GET /api/v1/hosts`` lists for each host.
LISTED_FIGURES = ("cpu_percent", "mem_percent", "disk_percent", "load1")


def _live():
    return current_app.extensions["dashboard"]


def _row(card: Card) -> dict:
    return {"name": card.name, "level": card.level, "stale": card.stale,
            **{key: card.sample.get(key) for key in LISTED_FIGURES},
            "last_seen": card.seen, "alerts": list(card.alerts)}


@needs("read")
def list_hosts():
    """Every host the fleet knows, those that need attention first (critical, warning, stale,
    ok, then by name): ``[{"name", "level", "stale", "cpu_percent", "mem_percent",
    "disk_percent", "load1", "last_seen", "alerts"}]``; percents 0-100, ``last_seen`` the Unix
    seconds at which the store took its latest sample (null: never), ``alerts`` the names of
    its firing alerts, worst first."""
    return jsonify([_row(card) for card in _live().fleet.ranked()])


@needs("read")
def get_host(name: str):
    """One host: its row as :func:`list_hosts` gives it, its latest ``sample`` (every key of a
    host sample but the process list, which ``GET /api/v1/processes`` gives) and its firing
    alerts, whole, newest first (``firing``).

    :raise 404: no such host in the fleet.
    """
    live = _live()
    card = next((c for c in live.fleet.cards() if c.name == name), None)
    if card is None:
        return error_response(404, f"unknown host {name!r}: GET /api/v1/hosts lists the "
                                   "hosts that report")
    firing = [public(a) for a in alerts.all_alerts(live.store, state="firing")
              if a.get("host") == name]
    sample = {key: value for key, value in card.sample.items() if key != "processes"}
    return jsonify({**_row(card), "sample": sample, "firing": firing})


def refuse_to_forget(live, name: str):
    """The 404 or 409 JSON answer if ``name`` cannot be forgotten, else None.

    404: no sample of it is known. 409: a dashboard samples it itself (its own
    ``DASHBOARD_HOST_NAME`` with the sampler on, or another's that holds its sampler lease):
    it would be back within a second; stop that dashboard's sampler first.

    :raise app.store.StoreUnavailable: the store could not be read (503).
    """
    if not hosts.known(live.store, name):
        return error_response(404, f"unknown host {name!r}: no sample of it is in the store")
    if sampled_by_a_dashboard(live, name):
        return error_response(409, f"a dashboard samples {name} itself; it would come back "
                                   "within a second: stop that dashboard (or its sampler) first")
    return None


@needs("admin")
def delete_host(name: str):
    """Drop ``name``'s latest sample, history and process list; its card leaves every page of
    every dashboard on this store. 204 with no body; a host that reports again reappears.

    :raise 404: unknown host. :raise 409: a dashboard samples it itself.
    """
    live = _live()
    refusal = refuse_to_forget(live, name)
    if refusal is not None:
        return refusal
    hosts.forget(live.store, name)
    record("host-forget", name)
    return "", 204
