"""The viewer count every process shares through the store (``viewers:<owner>`` states), and
what others read of it: streams per host (:func:`watchers`), per agent-backend session
(:func:`session_streams`)."""

from __future__ import annotations

import time

from app.store import StoreUnavailable

_VIEWERS_REFRESH = 5.0  # seconds between two rewrites of an unchanged viewer count
_VIEWERS_STALE = 15.0  # seconds after which a process's viewer count no longer counts


class ViewerCount:
    """This process's share of the viewer count, for its tailer (``app.live.tailer``).

    :param live: the process's :class:`~app.live.engine.Live`: ``store``, ``owner``,
        ``pages``, ``compat.sessions`` and ``viewers_here()``.
    """

    def __init__(self, live) -> None:
        self.live = live
        # (count, hosts, sessions, Unix s) as last written
        self._written: tuple[int, dict, dict, float] = (-1, {}, {}, 0.0)

    def total(self) -> int:
        """Share this process's stream count (every page's hub) through the store and return
        the total of every live process (all workers, all hosts).

        Each process keeps ``viewers:<owner>`` = ``{"count", "ts", "hosts": {host: count},
        "sessions": {session: count}}`` (hosts with a stream, and the agent backend's sessions
        with one: ``app.live.compat.sessions``), rewritten when it changes and every
        _VIEWERS_REFRESH seconds; entries older than _VIEWERS_STALE seconds belong to processes
        that died and are not counted. Without the store, the own count is shown.
        """
        live = self.live
        own, wall = live.viewers_here(), time.time()
        hosts = {page.host: len(page.hub) for page in live.pages if len(page.hub)}
        sessions = live.compat.sessions.counts()
        try:
            written = self._written
            if ((own, hosts, sessions) != written[:3]
                    or wall - written[3] >= _VIEWERS_REFRESH):
                live.store.set_state(f"viewers:{live.owner}", {"count": own, "ts": wall,
                                                               "hosts": hosts,
                                                               "sessions": sessions})
                self._written = (own, hosts, sessions, wall)
            counts = live.store.states("viewers:").values()
            total = sum(c["count"] for c in counts if wall - c["ts"] < _VIEWERS_STALE)
        except StoreUnavailable:
            total = own
        return total


def session_streams(store, session: str, owner: str) -> int:
    """Streams open on the agent backend's ``session`` in every live process but ``owner``
    (which counts its own: they are in the store only from its next sweep on).

    :raise app.store.StoreUnavailable: the store could not be read.
    """
    wall = time.time()
    return sum(c.get("sessions", {}).get(session, 0)
               for key, c in store.states("viewers:").items()
               if key != f"viewers:{owner}" and wall - c["ts"] < _VIEWERS_STALE)


def watchers(store, host: str) -> int:
    """Streams open on ``host``'s page over every live process (what each tailer shares).

    :raise app.store.StoreUnavailable: the store could not be read.
    """
    wall = time.time()
    return sum(c.get("hosts", {}).get(host, 0) for c in store.states("viewers:").values()
               if wall - c["ts"] < _VIEWERS_STALE)
