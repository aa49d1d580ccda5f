"""Configuration: ``DASHBOARD_*`` environment variables, validated once at start.

Every setting has a default that runs one gevent worker with the embedded SQLite store. A bad
value stops start-up with :class:`ConfigError` naming the variable, never a half-working app.
Tests pass a mapping to ``create_app(config)`` instead (keys are the field names below in upper
case, for example ``{"SAMPLE_INTERVAL": 0.2}``).

:class:`Settings` is a plain dataclass that pydantic validates (:func:`load_settings`): its
annotations are text until then. A worker gets its settings from a process apart
(``app.config.apart``), so that it does not import pydantic until a request needs it (about
9 MB per worker, ``docs/performance.md``).
"""

from __future__ import annotations

import dataclasses
import functools
import json
import os
import socket
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Literal  # noqa: F401 - the annotations below name them

from app.domain.alerts import DEFAULT_RULES, AlertRule, check_names  # noqa: F401 - as above

from .values import (DEFAULT_THRESHOLDS, ConfigError, Duration, Secret,  # noqa: F401
                     absolute_url, annotation_names, known_scheme, long_enough, over_defaults,
                     proxies, url_path)

ENV_PREFIX = "DASHBOARD_"
#: The checkout: ``templates/``, ``static/``, ``node_modules/`` and ``instance/`` are here.
ROOT = Path(__file__).resolve().parent.parent.parent


@dataclass(frozen=True)
class Settings:
    """The dashboard's settings; each field ``x`` is read from ``DASHBOARD_X``.

    A plain dataclass fed by :func:`load_settings`, which validates it with pydantic, rather
    than pydantic-settings or a pydantic model: a worker then holds its settings without
    loading pydantic (``app.config.apart``).
    """

    __pydantic_config__ = {"extra": "ignore"}  # noqa: RUF012 - read by pydantic only

    #: ``sqlite:///absolute/path.sqlite3``, ``redis://host:port/db`` or ``redis+sentinel://...``
    #: (``app.store.redis_connect``); empty: ``sqlite:///<instance folder>/dashboard.sqlite3``.
    store_url: Annotated[str, AfterValidator(known_scheme)] = ""
    #: ``1`` registers the simulator blueprint (``/simulator/...``); off by default.
    simulator: bool = False
    #: Seconds between two host samples (psutil), so 1 means 1 Hz. Streams hold a sample's
    #: figures up to half of it (0.5 s at most) to send them with an event, alert or task.
    sample_interval: Seconds = 1.0
    #: Seconds between two SSE heartbeat comments (``: ping``).
    heartbeat: Seconds = 15.0
    #: Seconds after which the server ends a stream cleanly; the client reconnects at once.
    stream_lifetime: Seconds = 900.0
    #: Different pages (a host's and range, a fleet sort and filter) one client address may
    #: stream at once in each process (``app.live.clients``); below the 16 pages a process keeps.
    streams_per_client: Annotated[int, Field(ge=1, le=100_000)] = 8
    #: History reads (``/api/v1/history``, the compare page and chart) one client address may
    #: have in progress at once in each process (``app.web.heavy``); one more is a 429.
    history_reads_per_client: Annotated[int, Field(ge=1, le=10_000)] = 2
    #: Largest request body accepted, in bytes; larger bodies get 413.
    max_body: Annotated[int, Field(gt=0)] = 1024 * 1024
    #: Mount point whose usage the disk card shows (``psutil.disk_usage``).
    disk_path: str = "/"
    #: Seconds after the store accepted a host's latest sample at which its fleet card reads
    #: "stale" (``app.domain.fleet``).
    stale_after: Seconds = 10.0
    #: Name this host's samples carry, and the host that ``/`` shows.
    host_name: Annotated[str, Field(min_length=1, max_length=253)] = field(
        default_factory=socket.gethostname)
    #: Items the store's log keeps before trimming the oldest.
    log_size: Annotated[int, Field(ge=100)] = 10_000
    #: Events shown in the feed, newest first.
    feed_size: Annotated[int, Field(ge=1, le=500)] = 20
    #: Messages a stream client may have queued before it counts as a slow consumer.
    queue_size: Annotated[int, Field(ge=1)] = 256
    #: Seconds between two checks for writes by other processes that inotify did not report
    #: (SQLite: an append rings a bell file the others watch; Redis wakes itself).
    tail_interval: Seconds = 0.1
    #: ``sse`` (default) or ``poll``: how a page loaded without ``?transport=`` gets updates.
    transport: Literal["sse", "poll"] = "sse"
    #: JSON object of metric -> [warning, critical], merged over :data:`DEFAULT_THRESHOLDS`.
    thresholds: Annotated[dict[str, tuple[float, float]], AfterValidator(over_defaults)] = field(
        default_factory=lambda: dict(DEFAULT_THRESHOLDS))
    #: JSON list of rules ``{"metric", "op", "value", "for", "level", "name", "hosts"}`` (see
    #: :class:`app.domain.alerts.AlertRule`); replaces the defaults, ``[]`` turns rules off.
    #: Rules live in the store (``PUT /api/v1/rules``): this only seeds a store without any.
    alert_rules: Annotated[tuple[AlertRule, ...], AfterValidator(check_names)] = DEFAULT_RULES
    #: ``0`` turns the host sampler off in this process.
    sampler: bool = True
    #: Token (16 characters or more) programs send as ``Authorization: Bearer <token>``: an
    #: API key with the ``ingest`` and ``ask`` scopes (see People, roles and keys).
    ingest_token: Annotated[Secret, AfterValidator(long_enough)] = Secret()
    #: Token (16 characters or more) a wall display types into ``/login``: a viewer sign-in.
    view_token: Annotated[Secret, AfterValidator(long_enough)] = Secret()
    #: Bearer token (16 characters or more) a scrape of ``/metrics`` sends; empty: a read.
    metrics_token: Annotated[Secret, AfterValidator(long_enough)] = Secret()
    #: Key that signs the session cookie; empty: a random key per start, which logs everyone out
    #: at each restart and fails with several workers or hosts (each would have its own key).
    secret_key: Secret = Secret()
    #: Host names (comma- or space-separated, no port) besides loopback ones under which a
    #: local client is an admin, and anyone may read, while nothing is configured.
    allowed_hosts: str = ""
    #: Reverse proxies in front of the dashboard whose ``X-Forwarded-For`` / ``-Proto`` to
    #: trust (Werkzeug's ``ProxyFix``): how many (``1``: the hop before us), or their addresses
    #: and networks (``127.0.0.1, 10.0.0.0/8``: one hop, believed only from those peers, as
    #: ``DASHBOARD_AUTH_HEADER`` needs); 0: none, the socket's peer is the client.
    trusted_proxies: Annotated[int | tuple[str, ...], BeforeValidator(proxies)] = 0
    #: Seconds a person's sign-in lasts from the moment they signed in (absolute, not idle).
    session_lifetime: Duration(60) = 12 * 3600.0
    #: How long the audit log keeps an entry (seconds, or ``400d``), and how many at most.
    audit_retention: Duration(86400) = 400 * 86400.0
    audit_size: Annotated[int, Field(ge=100)] = 100_000
    #: OpenID Connect single sign-on: the issuer (its ``/.well-known/openid-configuration``
    #: is read), this client's id and secret; empty issuer: off.
    oidc_issuer: Annotated[str, AfterValidator(absolute_url)] = ""
    oidc_client_id: str = ""
    oidc_client_secret: Secret = Secret()
    #: JSON object mapping a group (a value of the ID token's ``DASHBOARD_OIDC_ROLE_CLAIM``, or
    #: of ``DASHBOARD_AUTH_ROLE_HEADER``) to a role, ``{"ops": "operator", "sre": "admin"}``;
    #: the highest role of a person's groups wins, viewer when none matches.
    oidc_roles: dict[str, Literal["viewer", "operator", "admin"]] = field(default_factory=dict)
    oidc_role_claim: str = "groups"
    #: Header a trusted proxy (oauth2-proxy, Authelia, nginx auth_basic) names the signed-in
    #: person in (``Remote-User``); believed only from ``DASHBOARD_TRUSTED_PROXIES`` addresses.
    auth_header: str = ""
    #: Header the same proxy puts the person's groups or role in (``Remote-Groups``); empty:
    #: the role of their account here, else viewer.
    auth_role_header: str = ""
    #: Failed credentials (key, password, view token) one client address, or sign-ins to one
    #: name, may have per minute; past it they get 429 until the minute is over.
    auth_failures_per_minute: Annotated[int, Field(ge=1)] = 10
    #: Seconds a client may take to send a request's body; past it the connection is closed.
    body_timeout: Seconds = 10.0
    #: Seconds after its latest update at which a task is forgotten (``app.domain.retention``).
    task_retention: Seconds = 7 * 86400.0
    #: Seconds after it resolved at which an alert (or a decided approval) is forgotten.
    alert_retention: Seconds = 7 * 86400.0
    #: Seconds without a sample after which another host leaves the fleet and the store.
    host_retention: Seconds = 86400.0
    #: Apprise URLs that get alert notifications (``slack://...``, ``ntfy://...``,
    #: ``json://...``), whitespace-separated, or the path of an Apprise config file; empty: none.
    #: Secret: never logged nor shown whole (``app.live.receivers`` redacts it).
    notify_urls: Secret = Secret()
    #: URLs that get Alertmanager's webhook JSON (version 4), whitespace-separated. Secret too.
    webhook_urls: Secret = Secret()
    #: Seconds between two notifications of an alert that keeps firing unacknowledged.
    notify_repeat: Seconds = 4 * 3600.0
    #: Seconds before the first retry of a failed notification; each retry doubles it up to
    #: ten minutes (with jitter), and a notification is given up after an hour of failures.
    notify_backoff: Seconds = 10.0
    #: The dashboard's address as people reach it (``https://dash.example.com``): the links in
    #: notifications; empty: none.
    public_url: Annotated[str, AfterValidator(absolute_url)] = ""
    #: IANA time zone of the times the pages show (``Europe/Paris``), and of the days the audit
    #: page's date filter takes whole; empty: the server's own (``$TZ``, else
    #: ``/etc/localtime``). A page has no script to learn the viewer's zone.
    timezone: Zone = ""
    #: The interface's language when neither a ``?lang=`` choice (kept in a cookie) nor the
    #: browser's ``Accept-Language`` names one: ``en`` or a catalog under ``translations/``.
    language: str = "en"
    #: How long history keeps raw samples (``app.domain.history``); seconds or ``24h``, ``30d``,
    #: ``1y``. At least 5 minutes, the live range.
    history_raw: Duration(300) = 86400.0
    #: How long history keeps 1-minute points (min, max, average, count); at least an hour.
    history_minute: Duration(3600) = 30 * 86400.0
    #: How long history keeps 1-hour points; at least a day.
    history_hour: Duration(86400) = 365 * 86400.0
    #: Seconds between two scans of the process table, done only while someone views the host.
    process_interval: Annotated[float, Field(ge=1, le=3600)] = 5.0
    #: Processes the table lists (the top by CPU and the top by memory, this many of each).
    process_count: Annotated[int, Field(ge=1, le=50)] = 15
    #: Show processes' command lines (``1``); off by default, as they often hold secrets.
    show_cmdline: bool = False
    #: ``0`` turns the containers source off; on, it reads the engine at ``DOCKER_HOST`` or the
    #: default Docker and Podman sockets (``app.live.containerwatch``), and is quiet without one.
    containers: bool = True
    #: Seconds between two readings of containers' statistics (only while someone views the
    #: host or a rule needs them).
    container_interval: Annotated[float, Field(ge=1, le=3600)] = 10.0
    #: Containers per host whose CPU and memory the history keeps (those seen in the last day).
    container_series: Annotated[int, Field(ge=0, le=10_000)] = 100
    #: Where the agent backend's session paths (``/api/sse/...``) are mounted, for clients
    #: built for a prefix (``/agent_backend``); empty: at the root (``app.web.compat``).
    compat_prefix: Annotated[str, AfterValidator(url_path)] = ""
    #: ``1`` takes an API key from ``?token=`` on the session streams only (a browser's
    #: ``EventSource`` cannot send headers); never logged (``gunicorn.conf.py`` redacts it).
    query_tokens: bool = False

    @property
    def people_configured(self) -> bool:
        """Whether people sign in some other way than with an account here: a view token,
        single sign-on or a proxy's header (with accounts, ``app.domain.accountcache.Accounts``
        says so). Then nobody views anonymously and the loopback rule is off."""
        return bool(self.view_token.get_secret_value() or self.oidc_issuer or self.auth_header)

    @property
    def proxy_hops(self) -> int:
        """How many proxies' ``X-Forwarded-*`` to believe (``ProxyFix``'s ``x_for``)."""
        return self.trusted_proxies if isinstance(self.trusted_proxies, int) else 1

    def is_trusted_proxy(self, address: str | None) -> bool:
        """Whether ``address`` is one of :attr:`trusted_proxies`' addresses (never, for a count)."""
        if isinstance(self.trusted_proxies, int) or not address:
            return False
        import ipaddress

        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        ip = getattr(ip, "ipv4_mapped", None) or ip
        return any(ip in ipaddress.ip_network(net) for net in self.trusted_proxies)

    def role_for(self, groups) -> str:
        """The highest role ``groups`` give through :attr:`oidc_roles` (a group that is itself
        a role name gives that role); viewer when none does."""
        order = ("viewer", "operator", "admin")
        found = [self.oidc_roles.get(g) or (g if g in order else None) for g in groups]
        return max((r for r in found if r), key=order.index, default="viewer")

    def __post_init__(self):
        # Settings that need each other; pydantic reports the ValueError as a bad value.
        if self.auth_header and isinstance(self.trusted_proxies, int):
            raise ValueError("DASHBOARD_AUTH_HEADER needs DASHBOARD_TRUSTED_PROXIES to list the "
                             "proxies' addresses (127.0.0.1, or 10.0.0.0/8): the header is "
                             "believed only from them")
        if self.oidc_issuer and not self.oidc_client_id:
            raise ValueError("DASHBOARD_OIDC_ISSUER needs DASHBOARD_OIDC_CLIENT_ID (and "
                             "usually DASHBOARD_OIDC_CLIENT_SECRET)")

    @property
    def allowed_host_names(self) -> frozenset[str]:
        """:attr:`allowed_hosts` as lower-case names."""
        return frozenset(name.lower() for name in self.allowed_hosts.replace(",", " ").split())


@functools.cache
def _validator():
    """pydantic's validator of :class:`Settings`, built once (about 0.1 s)."""
    from pydantic import TypeAdapter

    # pydantic reads the annotations, text until now, in this module's names.
    globals().update(annotation_names())
    return TypeAdapter(Settings)


def load_settings(overrides: dict | None = None) -> Settings:
    """Read the environment, apply ``overrides`` (field names, any case) and validate.

    :raise ConfigError: naming the ``DASHBOARD_*`` variable (or override key) that is wrong.
    """
    from pydantic import ValidationError

    validator = _validator()
    hints = typing.get_type_hints(Settings)
    names = [f.name for f in dataclasses.fields(Settings)]
    values = {}
    for name in names:
        raw = os.environ.get(f"{ENV_PREFIX}{name.upper()}")
        if raw is None:
            continue
        if typing.get_origin(hints[name]) in (dict, list, tuple):  # structured values are JSON
            try:
                raw = json.loads(raw)
            except ValueError as exc:
                raise ConfigError(f"invalid configuration: {ENV_PREFIX}{name.upper()}: "
                                  f"not valid JSON ({exc})") from None
        values[name] = raw
    lowered = {key.lower(): value for key, value in (overrides or {}).items()}
    values.update((key, value) for key, value in lowered.items() if key in names)
    try:
        settings = validator.validate_python(values)
    except ValidationError as exc:
        problems = "; ".join(
            f"{ENV_PREFIX}{str(err['loc'][0]).upper()}"
            f"{''.join(f'[{p}]' for p in err['loc'][1:])}: {err['msg']}"
            if err["loc"] else err["msg"].removeprefix("Value error, ")
            for err in exc.errors()
        )
        raise ConfigError(f"invalid configuration: {problems}") from None
    return settings
