"""``DELETE /api/v1/hosts/<name>``: forget a host gone for good (``app.domain.hosts``)."""

from __future__ import annotations

from flask import current_app

from app.domain import hosts

from ..errors import error_response
from .samples import sampled_by_a_dashboard
from ..access import needs
from ..auth import record


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
    live = current_app.extensions["dashboard"]
    refusal = refuse_to_forget(live, name)
    if refusal is not None:
        return refusal
    hosts.forget(live.store, name)
    record("host-forget", name)
    return "", 204
