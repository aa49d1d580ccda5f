"""Open streams per client address: at most ``DASHBOARD_STREAMS_PER_CLIENT`` in each process.

Every stream holds a socket and a place in a hub, and a stream of a page nobody else watches
holds that page (a host's, a fleet filter's) among the process's kept pages: one client that
opens streams of many different pages would otherwise hold them all, and everyone else's new
page would answer 503. So an answer that starts a stream (``text/event-stream``) counts
against its client's address, and one past the limit is a 429 with ``Retry-After`` instead
(htmx's SSE extension and ``EventSource`` retry by themselves). The address is the one Flask
sees: behind a proxy, set ``DASHBOARD_TRUSTED_PROXIES`` so that each client counts as itself.
"""

from __future__ import annotations

from collections import Counter

from flask import Flask, Response, current_app, request

from .errors import error_response


class StreamSlots:
    """Open streams by client address in this process.

    :param per_client: streams one address may hold at once.
    """

    def __init__(self, per_client: int) -> None:
        self.per_client = per_client
        self.open: Counter[str] = Counter()

    def take(self, address: str) -> bool:
        """Count one more stream of ``address``; False (nothing counted) past the limit."""
        if self.open[address] >= self.per_client:
            return False
        self.open[address] += 1
        return True

    def give_back(self, address: str) -> None:
        """The stream ended (the response was closed)."""
        self.open[address] -= 1
        if self.open[address] <= 0:
            del self.open[address]


def _count(response: Response) -> Response:
    if response.mimetype != "text/event-stream" or response.status_code != 200:
        return response
    slots: StreamSlots = current_app.extensions["stream-slots"]
    address = request.remote_addr or ""
    if not slots.take(address):
        response.close()  # the stream's generator never ran: nothing was subscribed
        refused = error_response(429, f"{slots.per_client} streams from this address are open "
                                      "already (DASHBOARD_STREAMS_PER_CLIENT); close one")
        refused.headers["Retry-After"] = "5"
        return refused
    response.call_on_close(lambda: slots.give_back(address))
    return response


def register(app: Flask) -> None:
    """Count the streams every answer of ``app`` starts."""
    app.extensions["stream-slots"] = StreamSlots(app.config["SETTINGS"].streams_per_client)
    app.after_request(_count)
