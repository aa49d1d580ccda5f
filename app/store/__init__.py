"""The Store: the only state shared between workers and hosts (DESIGN.md, "The data flow").

Producers (sampler, ingest API, simulator) write to it; each worker's Hub tails its log. Views
never talk to a backend class directly: they get the :class:`Store` that :func:`open_store`
chose from ``DASHBOARD_STORE_URL``, so a Redis backend slots in without touching them.
"""

from __future__ import annotations

import abc
from collections.abc import Iterable
from typing import NamedTuple

from .batch import BatchWrites
from .tiers import Point, Retention


class Item(NamedTuple):
    """One entry of the log: ``id`` orders it, ``kind`` says what ``data`` holds.

    Kinds: ``metrics`` (a host sample, see ``app.sources.sampler``), ``event`` (level, message, source),
    ``task`` (a task update, see ``app.domain.tasks``), ``alert`` (an alert's full state, see
    ``app.domain.alerts``), ``custom`` (metrics programs pushed, see ``app.domain.custom``),
    ``approval`` (an approval's full state, see ``app.domain.approvals``), ``containers`` (a
    host's containers list, see ``app.domain.containers``).
    ``ts`` is the Unix time in seconds at which the store accepted it.
    """

    id: int
    kind: str
    ts: float
    data: dict


class StoreUnavailable(RuntimeError):
    """The backend cannot be reached or refused a statement; callers answer 503."""


class Store(BatchWrites, abc.ABC):
    """A bounded, durable log with increasing ids, a small key -> JSON state table, and each
    host's tiered history (raw samples, 1-minute and 1-hour buckets; see :mod:`.tiers`); a
    batch of samples in one go (:meth:`~.batch.BatchWrites.append_batch`)."""

    #: Seconds each history tier keeps; set by the backend's constructor.
    history_retention: Retention = Retention()

    @abc.abstractmethod
    def append(self, kind: str, data: dict, state_key: str | None = None, *,
               replicated: bool = False) -> int:
        """Log ``data`` under ``kind`` and return its id, larger than every id before it.

        With ``state_key`` the same data also becomes that key's current state, atomically
        (the sampler keeps ``sample:<host>`` this way).

        ``replicated``: a write a failover must not undo (a person's decision, an account or
        key change). Redis with Sentinel returns only once a replica has it too (``WAIT``),
        else raises StoreUnavailable; a single server or SQLite has no replica to wait for.

        :raise StoreUnavailable: nothing was written.
        """

    @abc.abstractmethod
    def append_if(self, kind: str, data: dict, state_key: str, field: str,
                  expected: str, *, replicated: bool = False) -> int | None:
        """Like :meth:`append` with ``state_key`` (and ``replicated``), but only if the state
        now stored under ``state_key`` has ``state[field] == expected``: a compare-and-set.

        Read, compare and write are one atomic step across every process and host sharing the
        store, so of many callers that expect the same value exactly one succeeds (an approval
        answered from two workers at once: ``app.domain.approvals``). Returns the new log id,
        or None when the state is missing or differs; then nothing is written and no id is used.

        :raise StoreUnavailable: nothing was written.
        """

    @abc.abstractmethod
    def since(self, after_id: int, limit: int = 1000) -> list[Item]:
        """Return up to ``limit`` items with ids above ``after_id``, oldest first."""

    @abc.abstractmethod
    def recent(self, kind: str, count: int) -> list[Item]:
        """Return the latest ``count`` items of ``kind``, newest first."""

    def recent_many(self, counts: dict[str, int]) -> dict[str, list[Item]]:
        """:meth:`recent` of each ``{kind: count}``, by kind: ``{kind: [items, newest
        first]}``. A backend that scans its log for a kind (Redis) does it once for all."""
        return {kind: self.recent(kind, count) for kind, count in counts.items()}

    def find(self, kind: str, *, after_id: int = 0, limit: int = 100,
             where: dict[str, str] | None = None) -> list[Item]:
        """Return up to ``limit`` items of ``kind`` with ids above ``after_id``, newest first.

        ``where`` maps top-level keys of ``data`` (identifiers) to the value they must equal,
        e.g. ``{"level": "error"}``. This generic version pages through :meth:`since`; backends
        override it with an indexed query.
        """
        matched: list[Item] = []
        while batch := self.since(after_id):
            matched.extend(item for item in batch if item.kind == kind and all(
                item.data.get(key) == value for key, value in (where or {}).items()))
            after_id = batch[-1].id
        return matched[::-1][:limit]

    @abc.abstractmethod
    def latest_id(self) -> int:
        """Return the id of the newest item, or 0 for an empty log."""

    @abc.abstractmethod
    def first_id(self) -> int:
        """Return the id of the oldest item the log still keeps, or 0 for an empty log.

        Ids are consecutive (each append takes the previous id + 1, a failed one takes none)
        and only trimming removes items, the oldest first: so a reader whose last id is below
        ``first_id() - 1`` missed items that are gone (the JSON stream then asks for a resync).
        """

    @abc.abstractmethod
    def wait(self, after_id: int, timeout: float, poll: float | None = None) -> list[Item]:
        """Block the calling greenlet up to ``timeout`` seconds for items above ``after_id``.

        ``poll`` is how often, in seconds, a backend that must poll for other processes'
        writes looks (None: its configured interval); writes of this process wake it at once.

        Returns them (oldest first) as soon as there are any, else an empty list. This is the
        Hub tailer's only call; nothing else may block on the store.
        """

    @abc.abstractmethod
    def get_state(self, key: str) -> dict | None:
        """Return the current state stored under ``key``, or None."""

    @abc.abstractmethod
    def set_state(self, key: str, value: dict | None, *, replicated: bool = False) -> None:
        """Replace the state under ``key``; None deletes it. ``replicated`` as in :meth:`append`."""

    @abc.abstractmethod
    def states(self, prefix: str) -> dict[str, dict]:
        """Return every state whose key starts with ``prefix``, as ``{key: value}``.

        For small families of keys (``alert:<id>``, ``sample:<host>``, ``task:<id>``), never a
        hot path.
        """

    @abc.abstractmethod
    def lease(self, name: str, owner: str, ttl: float) -> bool:
        """Take or renew the lease ``name`` for ``owner`` for ``ttl`` seconds.

        Returns True if ``owner`` holds it now. A lease its holder stopped renewing for ``ttl``
        seconds goes to the next caller, so exactly one live process does what it guards (the
        sampler of a host: ``sampler:<host>``). Owners are unique per process (``host:pid``).

        :raise StoreUnavailable: the backend did not answer; the caller must act as not holding.
        """

    @abc.abstractmethod
    def holder(self, name: str) -> str | None:
        """Return the owner of the lease ``name`` while it is held, else None; takes nothing.

        :raise StoreUnavailable: the backend did not answer.
        """

    @abc.abstractmethod
    def ping(self) -> None:
        """Return if the backend answers.

        :raise StoreUnavailable: it does not.
        """

    def close(self) -> None:
        """Release connections; the store is unusable afterwards."""

    def describe(self) -> dict:
        """What ``/readyz`` says of the backend: ``{"backend": "sqlite" | "redis", ...}``; Redis
        adds ``sentinel`` and, with Sentinel, ``service``, ``primary`` ("host:port" in use, None
        before one is known) and ``failovers`` (primary changes this process saw)."""
        return {"backend": "sqlite"}

    # -- the audit log: beside the log, kept by time and count rather than by the log's size --

    @abc.abstractmethod
    def audit_append(self, entry: dict) -> int:
        """Keep one audit entry (``app.domain.audit``: ``ts`` Unix seconds, ``who``,
        ``action`` and more) and return its id, larger than every id before it. Always
        ``replicated`` (see :meth:`append`).

        :raise StoreUnavailable: nothing was written.
        """

    @abc.abstractmethod
    def audit_query(self, *, who: str | None = None, action: str | None = None,
                    since: float | None = None, until: float | None = None,
                    before: int | None = None, limit: int = 50) -> list[dict]:
        """Return up to ``limit`` audit entries, newest first, each with its ``id``: those of
        ``who`` and ``action`` when given, with ``since <= ts < until`` (Unix seconds) and
        ``id < before`` (the next page) when given.

        :raise StoreUnavailable: the backend did not answer.
        """

    @abc.abstractmethod
    def audit_trim(self, older_than: float, keep: int) -> int:
        """Drop the audit entries with ``ts < older_than`` (Unix seconds) and all but the
        ``keep`` newest; return how many went.

        :raise StoreUnavailable: part may have been dropped.
        """

    # -- history: beside the log, not in it (its size does not bound them) ---------------------

    @abc.abstractmethod
    def record_history(self, host: str, ts: float, values: dict[str, float]) -> None:
        """Keep one sample of ``host`` taken at ``ts`` (Unix seconds): ``{key: value}``.

        The raw point is kept, and each value is folded into its 1-minute and 1-hour bucket
        (min, max, sum, count), all in one transaction (SQLite) or one script (Redis); each
        tier written is trimmed to :attr:`history_retention` on the way, counted back from
        now. A key already recorded for ``host`` at the same ``ts`` (to the millisecond) is
        not counted again while that raw point is kept, so a retried write changes nothing. A point older than a tier's
        retention is not kept in that tier.

        :raise StoreUnavailable: nothing was written.
        """

    @abc.abstractmethod
    def history(self, host: str, key: str, tier: str, start: float, end: float) -> list[Point]:
        """Return ``key``'s points of ``host`` in ``tier`` with ``start <= t < end``, oldest first.

        Each point is ``(t, min, avg, max, count)``: for ``raw``, ``t`` is the sample's time
        (milliseconds precision) and min = avg = max = the value, count 1; for ``1m`` and
        ``1h``, ``t`` is the bucket's start (a multiple of 60 or 3600). Times without data
        have no point (a gap is a gap, never a zero). An unknown host or key gives ``[]``.

        :raise KeyError: ``tier`` is not ``raw``, ``1m`` or ``1h``.
        :raise StoreUnavailable: the backend did not answer.
        """

    def history_many(self, host: str, keys: Iterable[str], tier: str, start: float,
                     end: float) -> dict[str, list[Point]]:
        """:meth:`history` of several keys at once, as ``{key: points}``; backends read each
        row once for all keys."""
        return {key: self.history(host, key, tier, start, end) for key in keys}

    @abc.abstractmethod
    def write_history(self, host: str, tier: str,
                      rows: Iterable[tuple[float, dict[str, float | tuple]]]) -> None:
        """Write points of ``host`` in ``tier`` directly, replacing any at the same times: the
        bulk path of ``flask history-fill``, which computes its buckets itself.

        Each row is ``(t, {key: figure})``: for ``raw`` a figure is the value; for ``1m`` and
        ``1h`` it is ``(min, max, sum, count)`` and ``t`` the bucket's start. Nothing is folded
        or trimmed; rows are written in batches that let other greenlets run in between.

        :raise StoreUnavailable: from the batch that failed on, nothing was written.
        """

    @abc.abstractmethod
    def trim_history(self) -> None:
        """Drop every host's points older than their tier's retention (the janitor's sweep;
        :meth:`record_history` trims only what it writes)."""

    @abc.abstractmethod
    def forget_history(self, host: str) -> None:
        """Drop all of ``host``'s history, every tier and key."""


def open_store(url: str, *, log_size: int, poll_interval: float,
               history_retention: Retention = Retention()) -> Store:
    """Open the backend that ``url`` names: ``sqlite:///absolute/path``, ``redis://host:port/db``
    or ``rediss://host:port/db`` (Redis over TLS; redis-py's URL options such as
    ``ssl_ca_certs`` go in the query string), or a Redis Sentinel URL
    ``redis+sentinel://host:26379,host:26379/service/db`` (``app.store.redis_connect``).

    :param log_size: items kept in the log before the oldest are trimmed.
    :param poll_interval: seconds between checks for writes by other processes (SQLite; Redis
        notifies its readers, so it ignores this).
    :param history_retention: seconds each history tier keeps.
    :raise ValueError: for a URL of an unknown scheme.
    :raise StoreUnavailable: the SQLite file cannot be opened (Redis connects on first use).
    """
    if url.startswith("sqlite:///"):
        from .sqlite import SQLiteStore

        return SQLiteStore(url.removeprefix("sqlite://"), log_size=log_size,
                           poll_interval=poll_interval, history_retention=history_retention)
    if url.startswith(("redis://", "rediss://", "redis+sentinel://", "rediss+sentinel://")):
        from .redis import RedisStore

        return RedisStore(url, log_size=log_size, history_retention=history_retention)
    raise ValueError(f"unsupported store URL {url!r}")
