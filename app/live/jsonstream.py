"""The JSON event stream for programs: encoding, fan-out and ``Last-Event-ID`` replay.

One named SSE message per logged item of the chosen channels, in log order::

    id: 42
    event: event
    data: {"id":42,"ts":1700000000.5,"level":"info","message":"deploy","source":"ci"}

:data:`KINDS` maps each store kind to its channel and event name, :func:`payload` says what
``data`` holds. Every message's ``id:`` is the log id, the same on every host sharing the store.
The routes are ``app.web.api.stream`` (``GET /api/v1/stream``) and ``app.web.compat.demo``.

- **Fan-out, encoded once.** :class:`JsonStreams` keeps one :class:`~app.live.hub.Hub` per distinct
  channel set and encoding (at most 15 channel sets; :func:`message`, or another client's
  shape: ``app.live.compat.formats.Demo``), made on first use. The tailer hands it each batch of
  new items: each item is encoded once per encoding (only if some stream wants its channel) and
  every hub with subscribers gets ONE joined bytes object with the messages of its channels, so
  a stream costs one write per batch, and a burst of 1,000 items takes one place in a bounded
  queue, not 1,000.
  Heartbeats, lifetime expiry, shutdown and slow-consumer drops work as for the HTML stream.
- **Replay without gap or duplicate.** A stream subscribes to its hub and reads the tailer's
  position (``view.last_id``) with no greenlet switch between the two; the tailer folds a batch
  into the view and feeds it here with no switch between either. So every item above that
  position reaches the hub's queue, and every item up to it is in the store: the stream sends
  the items after the client's id up to the position from the store (:func:`_replay`, encoded
  per stream: a replay is one client's), then what the hub queued meanwhile.
- **Resync.** When the client's id cannot be replayed (see :data:`TRIMMED`), the stream sends
  ``event: resync`` with ``{"reason": ..., "latest_id": N}`` and ``id: N`` and goes live from N;
  the client should fetch a snapshot (``GET /api/v1/events`` and the like).
- A fresh stream's first message is ``id: <position>`` and ``retry:`` with no data: gunicorn
  sends the headers with the first write, and a client that reconnects resumes from there. A
  resuming stream's first message has no ``id:``, so a client cut off mid-replay resumes from
  the last item it got. JSON streams are not viewers: the page's viewer count is browser tabs.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterator

import gevent

from app.domain.i18n import public
from app.store import Item, Store, StoreUnavailable

from . import sse
from .delivery import deliver
from .hub import Hub
from .subscriber import Subscriber

log = logging.getLogger(__name__)

#: The channels a client may ask for, in this order.
CHANNELS = ("metrics", "events", "alerts", "tasks")
#: Store kind -> (channel, SSE event name). Items of other kinds are never streamed.
KINDS = {"metrics": ("metrics", "metric"), "custom": ("metrics", "custom"),
         "event": ("events", "event"), "alert": ("alerts", "alert"), "task": ("tasks", "task")}
#: ``reason`` of a resync: items after the client's id were trimmed from the log; the id is
#: above the newest one (another or a reset store); the ``Last-Event-ID`` header is no log id.
TRIMMED, UNKNOWN, INVALID = "trimmed", "unknown", "invalid"
REPLAY_BATCH = 1000  # items per store read while replaying: one short statement each


def payload(item: Item) -> dict:
    """The JSON object of an item's message: ``{"id": log id, "ts": Unix seconds at which the
    store accepted it, **item.data}``. A key of ``item.data`` wins: an event keeps its own
    ``ts``, an alert its own ``id`` (a string; the log id is still the message's ``id:`` field).
    The English ``message`` only: a sentence's structured form (``app.domain.i18n.TEXT``) is
    for pages."""
    return {"id": item.id, "ts": item.ts, **public(item.data)}


def channel_of(item: Item) -> str | None:
    """The channel that streams ``item``, or None for a kind that no channel carries."""
    return KINDS.get(item.kind, (None,))[0]


def message(item: Item) -> bytes:
    """One item as SSE bytes: ``id:`` the log id, ``event:`` per :data:`KINDS`, compact JSON."""
    return sse.encode(json.dumps(payload(item), separators=(",", ":")),
                      event=KINDS[item.kind][1], id=item.id)


#: An encoding of the stream's items: ``encode(item)`` -> SSE bytes (empty: nothing to send).
Encode = Callable[[Item], bytes]
HubKey = tuple[frozenset, Encode]  # a hub's: the channels its streams follow, their encoding


def resync(reason: str, position: int, retry_ms: int) -> bytes:
    """``event: resync`` with ``{"reason", "latest_id": position}``, ``id: position``."""
    data = json.dumps({"reason": reason, "latest_id": position}, separators=(",", ":"))
    return sse.encode(data, event="resync", id=position, retry=retry_ms)


class JsonStreams:
    """This process's JSON streams: one :class:`Hub` per channel set, fed by the tailer.

    :param view: the :class:`~app.view.regions.LiveView`; its ``last_id`` is the tailer's position.
    :param queue_size: batches a stream may have pending (``DASHBOARD_QUEUE_SIZE``).
    :param heartbeat: seconds without a write after which a hub's streams get ``: ping``.
    :param retry_ms: the reconnection delay that first and last messages carry.

    ``on_sent`` (called with messages x streams reached, once per write to a hub) and
    ``on_drop`` (once per slow consumer) are set by ``app.web.ops``, as on the HTML Hub.
    """

    def __init__(self, view, queue_size: int, heartbeat: float, retry_ms: int) -> None:
        self.view = view
        self.queue_size = queue_size
        self.heartbeat = heartbeat
        self.retry_ms = retry_ms
        self.on_sent: Callable[[int], None] | None = None
        self.on_drop: Callable[[], None] | None = None
        self.closing = False
        self._hubs: dict[HubKey, Hub] = {}
        self._written: dict[HubKey, float] = {}  # last write per hub, time.monotonic()
        self._streams: dict[Subscriber, Hub] = {}
        # The position at which a sweep closed a stream: its farewell id. Not the position when
        # the stream reads CLOSE: the tailer may have folded items since that it never got.
        self._closed_at: dict[Subscriber, int] = {}
        self._expire_due = 0.0

    def __len__(self) -> int:
        return sum(len(hub) for hub in self._hubs.values())

    @property
    def position(self) -> int:
        """The newest log id the tailer folded: every item up to it was fed here."""
        return self.view.last_id

    def subscribe(self, channels: frozenset[str], lifetime: float,
                  first: Callable[[int], bytes],
                  encode: Encode = message) -> tuple[Hub, Subscriber, int]:
        """Register a stream of ``channels`` whose items ``encode`` makes messages of (streams
        that pass the same function or object share a hub); return its hub, subscriber and the
        position.

        ``first(position)`` builds the first message. Reading the position and subscribing
        happen with no greenlet switch between them: the hub gets every item above it.
        """
        key = (channels, encode)
        hub = self._hubs.get(key)
        if hub is None:
            hub = self._hubs[key] = Hub(self.queue_size, on_drop=self._dropped)
            self._written[key] = time.monotonic()
            if self.closing:
                hub.close_all()
        position = self.position
        sub = hub.subscribe(first(position), lifetime)
        self._streams[sub] = hub
        return hub, sub, position

    def unsubscribe(self, sub: Subscriber) -> None:
        """Forget a stream; safe to call twice."""
        hub = self._streams.pop(sub, None)
        if hub is not None:
            hub.unsubscribe(sub)
        self._closed_at.pop(sub, None)

    def farewell(self, sub: Subscriber, sent: int) -> bytes:
        """The last message of a stream the server ends: ``id:`` the position it was closed at
        (``sent``, what it had been sent, if no sweep closed it) and ``retry:``, no data."""
        return sse.encode(id=self._closed_at.get(sub, sent), retry=self.retry_ms)

    def feed(self, items: list[Item]) -> None:
        """Publish new log items to the hubs that want them (the tailer, right after folding
        them into the view: no greenlet switch in between)."""
        open_hubs = [(key, hub) for key, hub in self._hubs.items() if len(hub)]
        if not open_hubs:
            return
        wanted: dict[Encode, frozenset[str]] = {}
        for (channels, encode), _hub in open_hubs:
            wanted[encode] = wanted.get(encode, frozenset()) | channels
        encoded = {encode: [(channel, encode(item)) for item in items
                            if (channel := channel_of(item)) in channels]
                   for encode, channels in wanted.items()}
        now = time.monotonic()
        for key, hub in open_hubs:
            channels, encode = key
            parts = [data for channel, data in encoded[encode] if channel in channels and data]
            if parts:
                self._publish(key, hub, b"".join(parts), len(parts), now)

    def tick(self, now: float) -> None:
        """Heartbeat the hubs idle for ``heartbeat`` s; once a second, end streams whose
        lifetime is over (the tailer calls it on every wake-up; ``now`` is time.monotonic())."""
        for key, hub in self._hubs.items():
            if len(hub) and now - self._written[key] >= self.heartbeat:
                self._publish(key, hub, sse.HEARTBEAT, 1, now)
        if now >= self._expire_due:
            self._expire_due = now + 1.0
            self._sweep(lambda sub: sub.ends_at <= now)  # the test Hub.expire applies
            for hub in self._hubs.values():
                hub.expire(now)

    def end_all(self, position: int | None = None) -> None:
        """End every open stream now, each with ``position`` (default: the tailer's) as its
        farewell id; streams opened afterwards run as usual (the store's log went back or
        diverged: ``app.live.tailer``)."""
        self._sweep(lambda sub: True, position)
        for hub in self._hubs.values():
            hub.expire(float("inf"))

    def close_all(self) -> None:
        """End every stream (worker shutdown); streams opened afterwards end at once."""
        self.closing = True
        self._sweep(lambda sub: True)
        for hub in self._hubs.values():
            hub.close_all()

    def _sweep(self, closing: Callable[[Subscriber], bool], position: int | None = None) -> None:
        position = self.position if position is None else position
        for sub in self._streams:
            if closing(sub):
                self._closed_at.setdefault(sub, position)

    def _publish(self, key: HubKey, hub: Hub, data: bytes, count: int, now: float) -> None:
        hub.publish(data)
        self._written[key] = now
        if self.on_sent is not None:
            self.on_sent(count * len(hub))

    def _dropped(self) -> None:
        if self.on_drop is not None:
            self.on_drop()


class _Gap(Exception):
    """Items a replay must send are no longer in the store (trimmed meanwhile, or lost)."""


def _replay(store: Store, channels: frozenset[str], after: int, position: int,
            encode: Encode = message) -> Iterator[tuple[bytes, int]]:
    """Yield ``(messages, last id read)`` per store read, for the items of ``channels`` with
    ids in (``after``, ``position``], oldest first; ``messages`` may be empty.

    Ids are consecutive (``Store.first_id``), so a read that does not start at the next id
    means the oldest were trimmed under the replay.

    :raise _Gap: see above. :raise StoreUnavailable: the store did not answer.
    """
    cursor = after
    while cursor < position:
        batch = store.since(cursor, REPLAY_BATCH)
        if not batch or batch[0].id != cursor + 1:
            raise _Gap
        batch = [item for item in batch if item.id <= position]  # later ones come live
        cursor = batch[-1].id
        yield b"".join(encode(item) for item in batch if channel_of(item) in channels), cursor
        # A replay of the whole log (Last-Event-ID: 0) is many pages; a write of each to a
        # client that reads fast never blocks, so let the worker's other greenlets run between.
        gevent.sleep(0)


def messages(streams: JsonStreams, store: Store, channels: frozenset[str], lifetime: float,
             sock, *, after: int | None = None, reason: str | None = None,
             closer=None, encode: Encode = message) -> Iterator[bytes]:
    """Yield one JSON stream (module docstring).

    :param after: replay the items after this log id first; it must not be above
        ``streams.position`` (the route waits for the tailer to get there). None: go live.
    :param reason: send ``event: resync`` with it first, then go live (``after`` is ignored).
    :param sock: the client socket for direct writes (``app.live.delivery.direct_socket``), or None.
    :param closer: the client socket to shut down if it stops reading (``deliver``).
    :param encode: how an item becomes messages (:meth:`JsonStreams.subscribe`).

    A stream closed by the server ends with :meth:`JsonStreams.farewell`; one whose replay the
    store cannot serve ends without one (the client reconnects with the last id it got).
    """
    retry = streams.retry_ms

    def first(position: int) -> bytes:
        if reason is not None:
            return resync(reason, position, retry)
        return sse.encode(id=position if after is None else None, retry=retry)
    hub, sub, position = streams.subscribe(channels, lifetime, first, encode)
    # Every item of the channels up to ``sent`` went out (or comes with the hub's queue).
    sent = position if after is None or reason is not None else after
    try:
        yield sub.queue.get()  # the first message (Hub.subscribe queues it before any CLOSE)
        try:
            for data, sent in _replay(store, channels, sent, position, encode):
                if data:
                    yield data  # through the server, before the hub may write directly
                if streams.closing:  # worker shutdown: resume from here elsewhere
                    yield sse.encode(id=sent, retry=retry)
                    return
        except _Gap:
            yield resync(TRIMMED, position, retry)
            sent = position
        except StoreUnavailable as exc:
            log.warning("JSON stream: replay failed, ending the stream: %s", exc)
            return
        yield from deliver(hub, sub, sock, lambda: streams.farewell(sub, sent), closer,
                           lambda: streams.unsubscribe(sub))
    finally:
        if sub.ended is None:  # not owned by the Hub, which calls unsubscribe when it ends
            streams.unsubscribe(sub)
