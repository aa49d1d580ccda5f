"""The Store: the only state shared between workers and hosts (DESIGN.md, "The data flow").

Producers (sampler, ingest API, simulator) write to it; each worker's Hub tails its log. Views
never talk to a backend class directly: they get the :class:`Store` that :func:`open_store`
chose from ``DASHBOARD_STORE_URL``, so a Redis backend slots in without touching them.
"""

from __future__ import annotations

import abc
from typing import NamedTuple


class Item(NamedTuple):
    """One entry of the log: ``id`` orders it, ``kind`` says what ``data`` holds.

    Kinds: ``metrics`` (a host sample, see ``app.sources.sampler``), ``event`` (level, message, source),
    ``task`` (a task update, see ``app.domain.tasks``), ``alert`` (an alert's full state, see
    ``app.domain.alerts``), ``custom`` (metrics programs pushed, see ``app.domain.custom``),
    ``approval`` (an approval's full state, see ``app.domain.approvals``).
    ``ts`` is the Unix time in seconds at which the store accepted it.
    """

    id: int
    kind: str
    ts: float
    data: dict


class StoreUnavailable(RuntimeError):
    """The backend cannot be reached or refused a statement; callers answer 503."""


class Store(abc.ABC):
    """A bounded, durable log with increasing ids, plus a small key -> JSON state table."""

    @abc.abstractmethod
    def append(self, kind: str, data: dict, state_key: str | None = None) -> int:
        """Log ``data`` under ``kind`` and return its id, larger than every id before it.

        With ``state_key`` the same data also becomes that key's current state, atomically
        (the sampler keeps ``sample:<host>`` this way).

        :raise StoreUnavailable: nothing was written.
        """

    @abc.abstractmethod
    def append_if(self, kind: str, data: dict, state_key: str, field: str,
                  expected: str) -> int | None:
        """Like :meth:`append` with ``state_key``, but only if the state now stored under
        ``state_key`` has ``state[field] == expected``: a compare-and-set.

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
    def set_state(self, key: str, value: dict | None) -> None:
        """Replace the state under ``key``; None deletes it."""

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


def open_store(url: str, *, log_size: int, poll_interval: float) -> Store:
    """Open the backend that ``url`` names: ``sqlite:///absolute/path``, ``redis://host:port/db``
    or ``rediss://host:port/db`` (Redis over TLS; redis-py's URL options such as
    ``ssl_ca_certs`` go in the query string).

    :param log_size: items kept in the log before the oldest are trimmed.
    :param poll_interval: seconds between checks for writes by other processes (SQLite; Redis
        notifies its readers, so it ignores this).
    :raise ValueError: for a URL of an unknown scheme.
    :raise StoreUnavailable: the SQLite file cannot be opened (Redis connects on first use).
    """
    if url.startswith("sqlite:///"):
        from .sqlite import SQLiteStore

        return SQLiteStore(url.removeprefix("sqlite://"), log_size=log_size,
                           poll_interval=poll_interval)
    if url.startswith(("redis://", "rediss://")):
        from .redis import RedisStore

        return RedisStore(url, log_size=log_size)
    raise ValueError(f"unsupported store URL {url!r}")
