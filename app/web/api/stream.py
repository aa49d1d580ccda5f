"""``GET /api/v1/stream``: the JSON event stream's route.

The stream itself (messages, fan-out, replay) is ``app.live.jsonstream``; this module turns the
request into its arguments: the channels, and where to resume (:func:`open_stream`, which the
SSE demo's paths use too: ``app.web.compat.demo``).

Deliberate choices, do not "fix" without reading why:
- A malformed ``Last-Event-ID`` header is a resync (reason ``invalid``), not a 400: a browser's
  ``EventSource`` echoes whatever id it last saw and never connects again after an error status.
  The ``last_event_id`` query parameter (for a first load; the header wins) is typed by a
  program, so a bad one is a 400 naming it. An empty header counts as absent.
- A client that got its id from another host may be ahead of this process's tailer: the route
  waits up to :data:`CATCH_UP` seconds for the tailer (else the hub would hand the client items
  it has). If it does not get there, or the store does not answer, the stream is a lone
  ``retry:`` message and ends, not an error status: ``EventSource`` gives up for good after
  one, while after a clean end it reconnects with the same id, and nothing is lost.

The query strings' schemas (``app.web.api.stream_schemas``) load on the first request that needs
them: a worker at rest never imports pydantic (``docs/performance.md``).
"""

from __future__ import annotations

import logging
import re
import time

import gevent
from flask import Blueprint, Response, current_app, request

from app.live import sse
from app.live.delivery import client_socket, direct_socket
from app.live.jsonstream import (CHANNELS, INVALID, TRIMMED, UNKNOWN, Encode, JsonStreams,
                                 message, messages)
from app.store import Store, StoreUnavailable

from ..payload import parse_query
from ..headers import STREAM_HEADERS
from ..access import needs

log = logging.getLogger(__name__)

bp = Blueprint("jsonstream", __name__)

CATCH_UP = 5.0  # seconds a resuming stream waits for this process's tailer to reach its id
_LOG_ID = re.compile(r"[0-9]{1,19}")  # ASCII digits only: int() would take "٤٢" and " 42 "


def channel_set(text: str) -> frozenset[str]:
    """``"events,alerts"`` -> ``{"events", "alerts"}``.

    :raise ValueError: for an empty list, an empty name or a name not in :data:`CHANNELS`.
    """
    names = [name.strip() for name in text.split(",")]
    unknown = [name for name in names if name not in CHANNELS]
    if unknown:
        raise ValueError(f"unknown channel(s) {', '.join(map(repr, unknown))}; "
                         f"name one or more of {', '.join(CHANNELS)}, comma-separated")
    return frozenset(names)


@bp.get("/api/v1/stream")
@needs("read")
def stream():
    """SSE of the items of ``channels`` (``app.live.jsonstream``); 400 naming a bad parameter."""
    from .stream_schemas import StreamQuery

    query = parse_query(StreamQuery)
    return open_stream(channel_set(query.channels), query.last_event_id)


def open_stream(channels: frozenset[str], query_id: int | None, encode: Encode = message):
    """The response of a JSON stream of ``channels`` whose items ``encode`` makes messages of,
    resuming after the ``Last-Event-ID`` header, else after ``query_id`` (module docstring)."""
    live = current_app.extensions["dashboard"]
    header = request.headers.get("Last-Event-ID", "").strip()
    after, reason = query_id, None
    if header:
        after = int(header) if _LOG_ID.fullmatch(header) else None
        reason = None if after is not None else INVALID
    if after is not None:
        try:
            reason = _check(live.store, live.json, after)
        except (_Behind, StoreUnavailable) as exc:
            log.warning("JSON stream: cannot resume after id %d now (%s); the client retries",
                        after, exc)
            return _response([sse.encode(retry=live.json.retry_ms)])
    return _response(messages(live.json, live.store, channels,
                              current_app.config["SETTINGS"].stream_lifetime,
                              direct_socket(request.environ), after=after, reason=reason,
                              closer=client_socket(request.environ), encode=encode))


class _Behind(Exception):
    """This process's tailer did not reach the client's id within :data:`CATCH_UP` seconds."""


def _check(store: Store, streams: JsonStreams, after: int) -> str | None:
    """The resync reason for a client that has every item up to ``after``, or None to replay.

    :raise _Behind: the tailer is behind ``after`` (module docstring).
    :raise StoreUnavailable: the store did not answer.
    """
    if after > store.latest_id():
        return UNKNOWN
    first = store.first_id()
    if first and after < first - 1:
        return TRIMMED
    deadline = time.monotonic() + CATCH_UP
    while streams.position < after:
        if time.monotonic() >= deadline:
            raise _Behind(f"this process's tailer is at {streams.position}")
        gevent.sleep(0.05)
    return None


def _response(body) -> Response:
    # direct_passthrough: our generator goes to the server as it is (see app.web.stream).
    return Response(body, mimetype="text/event-stream", headers=STREAM_HEADERS,
                    direct_passthrough=True)
