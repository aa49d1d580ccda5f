"""Where the store's Redis is: one server (``redis://``, ``rediss://``), or the primary that a
set of Redis Sentinels names (``redis+sentinel://``, ``rediss+sentinel://``).

The Sentinel URL::

    redis+sentinel://[[user]:password@]host1:26379,host2:26379[,...]/service[/db][?options]

lists the sentinels (port 26379 when left out); ``service`` is the name the sentinels monitor
the primary under (``sentinel monitor mymaster ...``). The password is the Redis servers' own
(``requirepass``); ``sentinel_password`` (and ``sentinel_username``) in the query string is the
sentinels' when they have one. The other query options are redis-py's URL options (``ssl_*``,
``socket_*``), applied to the servers and the sentinels alike. ``rediss+sentinel`` speaks TLS to
both.

Every client goes through redis-py's :class:`redis.sentinel.Sentinel`: a connection asks the
sentinels for the primary when it connects, a connection to a primary that was demoted is
dropped at its first ``READONLY`` answer, and the next connect finds the new one. Writes that a
failover must not undo wait for a replica (``WAIT``, :attr:`RedisTarget.replicas`).
"""

from __future__ import annotations

import select
import threading
from urllib.parse import parse_qsl, urlencode, urlsplit

import redis
import redis._parsers.hiredis
from gevent import monkey
from redis.connection import parse_url
from redis.sentinel import Sentinel, SentinelConnectionPool

SENTINEL_SCHEMES = ("redis+sentinel://", "rediss+sentinel://")
SCHEMES = ("redis://", "rediss://", *SENTINEL_SCHEMES)
SENTINEL_PORT = 26379


def check_url(url: str) -> None:
    """:raise ValueError: ``url`` is not a Redis or Redis Sentinel URL the store can use (the
    message says what a good one looks like); nothing connects."""
    if not url.startswith(SCHEMES):
        raise ValueError("must be sqlite:///absolute/path, redis://host:port/db, "
                         "rediss://host:port/db (Redis over TLS) or "
                         "redis+sentinel://host:26379,host:26379/service/db")
    try:
        RedisTarget(url).close()
    except ValueError as exc:
        raise ValueError(f"not a usable Redis URL: {exc}") from None


class _QuickPoll:
    """``select.poll`` for redis-py's check, at each checkout of a pooled connection, that
    nothing is left to read on it (``redis._parsers.hiredis``: ``poll(0)`` on its socket).

    Under gevent's monkey patching ``select.poll`` is gevent's, which starts an I/O watcher and
    waits on the hub even for a zero timeout: about 33 microseconds against 1 for the system's
    poll, once per Redis command, 5 % of the dashboards' CPU under a fleet's posts
    (``bench.fleetload --profile``). A zero timeout never blocks, so the system's poll is safe
    in a greenlet; any other timeout still goes to gevent's.
    """

    _native = monkey.get_original("select", "poll")

    def __init__(self) -> None:
        self._registered: list[tuple] = []

    def register(self, *args) -> None:
        self._registered.append(args)

    def poll(self, timeout=None):
        poller = self._native() if timeout == 0 else select.poll()
        for args in self._registered:
            poller.register(*args)
        return poller.poll(timeout)


class _Select:
    """The ``select`` module as redis-py's hiredis parser sees it: :class:`_QuickPoll` for
    ``poll``, the module itself for the rest."""

    poll = _QuickPoll

    def __getattr__(self, name: str):
        return getattr(select, name)


# The parser module looks ``select.poll`` up at each call; it alone is given the quick poll.
redis._parsers.hiredis.select = _Select()


class _BlockingSentinelPool(SentinelConnectionPool, redis.BlockingConnectionPool):
    """redis-py's Sentinel pool with the bound of its blocking pool: at most
    ``max_connections``, a caller that finds them all busy waits up to ``timeout`` seconds
    (the plain Sentinel pool would open one more connection per waiting greenlet)."""


class _WatchedSentinel(Sentinel):
    """:class:`Sentinel` that remembers the primary it last named and counts the changes."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.primary: tuple[str, int] | None = None
        self.failovers = 0
        self._lock = threading.Lock()

    def discover_master(self, service_name):
        address = super().discover_master(service_name)
        with self._lock:
            if self.primary is not None and tuple(address) != self.primary:
                self.failovers += 1
            self.primary = tuple(address)
        return address


def _sentinel_hosts(netloc: str) -> list[tuple[str, int]]:
    hosts = []
    for part in netloc.rpartition("@")[2].split(","):
        where = urlsplit(f"//{part.strip()}")
        if not where.hostname:
            raise ValueError(f"a sentinel address is empty or invalid: {part!r}")
        hosts.append((where.hostname, where.port or SENTINEL_PORT))
    return hosts


class RedisTarget:
    """The Redis behind a store URL: makes the store's clients and says which primary is used.

    :param url: ``redis://``, ``rediss://`` or a Sentinel URL (module docstring).
    :param timeout: seconds to connect to a sentinel and for its answers.
    :raise ValueError: a URL that cannot be used, with what is wrong.
    """

    def __init__(self, url: str, timeout: float = 5.0) -> None:
        self.url = url
        self.sentinel: _WatchedSentinel | None = None
        #: Replicas a write that must survive a failover waits for (``WAIT``): one with
        #: Sentinel, none with a single server (there is nothing to fail over to).
        self.replicas = 0
        if not url.startswith(SENTINEL_SCHEMES):
            parse_url(url)  # raises ValueError for what redis-py cannot use
            return
        parts = urlsplit(url)
        path = [p for p in parts.path.split("/") if p]
        if not 1 <= len(path) <= 2 or (len(path) == 2 and not path[1].isdigit()):
            raise ValueError("a Sentinel URL ends with /service or /service/db "
                             "(redis+sentinel://host:26379,host:26379/mymaster/0)")
        self.service = path[0]
        hosts = _sentinel_hosts(parts.netloc)
        query = dict(parse_qsl(parts.query))
        sentinel_auth = {key.removeprefix("sentinel_"): query.pop(key)
                         for key in ("sentinel_password", "sentinel_username") if key in query}
        # redis-py reads the servers' options (password, db, ssl_*, socket_*) from a URL of its
        # own form: the same user info, db and query on a placeholder host.
        tls = url.startswith("rediss")
        userinfo = parts.netloc.rpartition("@")[0]
        plain = (f"{'rediss' if tls else 'redis'}://{userinfo + '@' if userinfo else ''}"
                 f"sentinel/{path[1] if len(path) == 2 else 0}?{urlencode(query)}")
        options = parse_url(plain)
        options.pop("host", None)
        options.pop("connection_class", None)  # the Sentinel pool picks its own class
        if tls:
            options["ssl"] = True
        self.options = options
        tls_options = {k: v for k, v in options.items() if k.startswith("ssl")}
        self.sentinel = _WatchedSentinel(
            hosts, sentinel_kwargs={**tls_options, **sentinel_auth,
                                    "socket_timeout": timeout,
                                    "socket_connect_timeout": timeout})
        self.sentinel_auth = sentinel_auth
        self.replicas = 1

    def client(self, *, max_connections: int, timeout: float | None,
               **kwargs) -> redis.Redis:
        """A client on a blocking pool of ``max_connections`` (a caller waits up to
        ``timeout`` seconds for a free one); ``kwargs`` are redis-py connection options."""
        if self.sentinel is None:
            return redis.Redis(connection_pool=redis.BlockingConnectionPool.from_url(
                self.url, max_connections=max_connections, timeout=timeout, **kwargs))
        return self.sentinel.master_for(
            self.service, connection_pool_class=_BlockingSentinelPool,
            max_connections=max_connections, timeout=timeout, **{**self.options, **kwargs})

    def describe(self) -> dict:
        """``{"sentinel": False}``, or for Sentinel ``{"sentinel": True, "service": name,
        "primary": "host:port" | None (none known yet), "failovers": changes seen}``."""
        if self.sentinel is None:
            return {"sentinel": False}
        primary = self.sentinel.primary
        return {"sentinel": True, "service": self.service,
                "primary": f"{primary[0]}:{primary[1]}" if primary else None,
                "failovers": self.sentinel.failovers}

    def limiter_storage(self) -> tuple[str, dict]:
        """``(storage URI, storage options)`` for Flask-Limiter (the ``limits`` library) on the
        same Redis: the URL itself for one server; for Sentinel, ``limits``' own
        ``redis+sentinel://`` storage, writing and reading on the primary only."""
        if self.sentinel is None:
            return self.url, {}
        parts = urlsplit(self.url)
        uri = f"redis+sentinel://{parts.netloc}/{self.service}"
        sentinel_kwargs = {**{k: v for k, v in self.options.items() if k.startswith("ssl")},
                           "password": None, **self.sentinel_auth}
        return uri, {"use_replicas": False, "sentinel_kwargs": sentinel_kwargs, **self.options}

    def close(self) -> None:
        """Close the connections to the sentinels (the clients close their own pools)."""
        if self.sentinel is not None:
            self.sentinel.close()
