"""The agent, ``flask --app wsgi agent --to URL``: reports a machine that runs no dashboard.

It samples the machine with the dashboard's own :class:`~app.sources.sampler.HostSampler` every
``--interval`` seconds and pushes the samples, up to ``--batch`` per request, to a dashboard's
``POST /api/v1/samples`` (``app.web.api.samples``), which shows the machine in the fleet row:
each sample as soon as it is taken, or with ``--send-every N`` those of N seconds in one
request. A request costs the dashboard much more than a sample in it (HTTP, the credential,
the throttle, one store round trip): a big fleet whose agents send every 5 seconds costs it
about 2.5 times less CPU (``docs/performance.md``, "A fleet"), and its figures come that late.

While the dashboard cannot take them (restarting, unreachable, answering 5xx), samples wait in
a bounded buffer: beyond ``--buffer`` seconds' worth the oldest are dropped, and how many is
logged. Sending is retried with exponential backoff, :data:`BACKOFF_BASE` doubling up to
:data:`BACKOFF_CAP` seconds (times a random 0.5-1 so that many agents do not all come back in
the same second); sampling goes on meanwhile, and once a send succeeds the backlog follows at
once, oldest first. A batch the dashboard refuses as malformed (400, 415, 422) is dropped, since
sending it again cannot help; a 413 halves the batch size. Ctrl-C or SIGTERM end the agent at
once with status 0; samples not sent by then are lost (their number is logged).

Plain blocking code: ``urllib.request`` and ``time.sleep``, no gevent patching (the command
imports the app package but runs none of it), no dependency beyond the dashboard's own.
"""

from __future__ import annotations

import http.client
import itertools
import json
import logging
import math
import random
import re
import signal
import socket
import time
import urllib.error
import urllib.request
from collections import deque
from collections.abc import Callable
from urllib.parse import urlsplit

import click

from .client import OPENER, dashboard_options
from .processes import ProcessScanner
from .sample import HOST_PATTERN, MAX_SAMPLES
from .sampler import HostSampler

log = logging.getLogger(__name__)

#: Seconds before the first retry after a failed send; doubled after each further failure.
BACKOFF_BASE = 1.0
#: Seconds the backoff grows to at most.
BACKOFF_CAP = 30.0
#: Statuses that say the batch itself is bad: it is dropped instead of sent again.
REFUSED = frozenset({400, 415, 422})


class SendError(Exception):
    """A batch was not taken. ``retry``: sending it again later may work; ``too_large``: the
    dashboard answered 413 (the body is over its ``DASHBOARD_MAX_BODY``)."""

    def __init__(self, message: str, *, retry: bool, too_large: bool = False) -> None:
        super().__init__(message)
        self.retry = retry
        self.too_large = too_large


def http_sender(base_url: str, token: str = "", timeout: float = 10.0) -> Callable[[list[dict]], None]:
    """Return ``send(samples)``, which POSTs ``{"samples": samples}`` to ``base_url`` +
    ``/api/v1/samples`` with the bearer ``token`` (if any).

    :raise SendError: from ``send`` for any answer but 2xx, and for network errors (retry).
        A redirect is not followed (the token stays with the dashboard named); its error says
        where it pointed, so that ``--to`` can be corrected, and the samples are kept.
    """
    endpoint = base_url.rstrip("/") + "/api/v1/samples"
    headers = {"Content-Type": "application/json", "User-Agent": "live-dashboard-agent"}
    if token:
        headers["Authorization"] = f"Bearer {token}"

    def send(samples: list[dict]) -> None:
        body = json.dumps({"samples": samples}, separators=(",", ":")).encode()
        request = urllib.request.Request(endpoint, data=body, headers=headers, method="POST")
        try:
            with OPENER.open(request, timeout=timeout) as response:
                response.read()
        except urllib.error.HTTPError as exc:
            if 300 <= exc.code < 400:
                exc.close()
                raise SendError(f"HTTP {exc.code}: redirected to {exc.headers.get('Location')}; "
                                "not followed: give --to the dashboard's own address",
                                retry=True) from None
            with exc:
                text = exc.read(2000).decode(errors="replace")
            try:
                text = json.loads(text).get("error", text)
            except (ValueError, AttributeError):
                pass
            raise SendError(f"HTTP {exc.code}: {text}", retry=exc.code not in REFUSED,
                            too_large=exc.code == 413) from None
        except (urllib.error.URLError, OSError, http.client.HTTPException) as exc:
            raise SendError(f"{endpoint}: {getattr(exc, 'reason', exc)}", retry=True) from None

    return send


class Agent:
    """Sample, buffer and send; :meth:`run` until Ctrl-C / SIGTERM. Tests drive :meth:`step`.

    :param sample: returns one sample (``HostSampler.sample``).
    :param send: pushes a list of samples; raises :class:`SendError` when they were not taken.
    :param interval: seconds between two samples.
    :param batch: samples per request at most.
    :param keep: samples the buffer holds at most; the oldest go first beyond it.
    :param send_every: seconds between two sends, on a fixed schedule from start (at most
        ``batch`` samples each, then the rest of a backlog at once); at most ``interval``:
        each sample as soon as it is taken.
    :param clock: monotonic seconds; ``sleep``: waits seconds; ``jitter``: a number in [0, 1]
        (tests pass fakes).
    """

    def __init__(self, sample: Callable[[], dict], send: Callable[[list[dict]], None], *,
                 interval: float, batch: int, keep: int, send_every: float = 0.0,
                 clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep,
                 jitter: Callable[[], float] = random.random) -> None:
        self.sample, self.send = sample, send
        self.interval, self.batch, self.keep = interval, batch, keep
        self.clock, self.sleep, self.jitter = clock, sleep, jitter
        self.buffer: deque[dict] = deque()
        self.sent = 0  # samples taken by the dashboard since start
        self.dropped = 0  # samples dropped from a full buffer since the last successful send
        self.failures = 0  # failed sends in a row
        self.retry_at = 0.0  # no send before this clock time
        # The sampler primed its counters when it was made: the first sample comes one
        # interval later, so that its CPU figure covers a whole interval.
        self.next_sample = clock() + interval
        self.send_every = send_every
        self.send_due = clock() + send_every  # then every send_every on that grid

    def step(self) -> float:
        """Take a sample if one is due and send one batch if one may go; return the seconds
        to wait until the next of them (0 while a backlog is going out)."""
        now = self.clock()
        if now >= self.next_sample:
            self._take()
            # A fixed schedule (no drift) that never catches up on ticks missed while sending.
            self.next_sample = max(self.next_sample + self.interval, now)
        if self.buffer and now >= max(self.retry_at, self.send_due):
            self._flush()
            now = self.clock()
            while self.send_every and not self.buffer and self.send_due <= now:
                self.send_due += self.send_every
        due = (min(self.next_sample, max(self.retry_at, self.send_due)) if self.buffer
               else self.next_sample)
        return max(due - now, 0.0)

    def run(self) -> None:
        """Loop until Ctrl-C (or SIGTERM, made into the same by the command), then return."""
        try:
            while True:
                self.sleep(self.step())
        except KeyboardInterrupt:
            log.info("agent: stopped; %d samples sent, %d unsent", self.sent, len(self.buffer))

    def _take(self) -> None:
        try:
            sample = self.sample()
        except Exception:  # noqa: BLE001 - one bad reading must not stop the agent
            log.exception("agent: sample failed")
            return
        if len(self.buffer) >= self.keep:
            if not self.dropped:
                log.warning("agent: buffer full (%d samples); dropping the oldest", self.keep)
            self.buffer.popleft()
            self.dropped += 1
        self.buffer.append(sample)

    def _flush(self) -> None:
        batch = list(itertools.islice(self.buffer, self.batch))
        try:
            self.send(batch)
        except SendError as exc:
            if exc.too_large and self.batch > 1:
                self.batch = max(self.batch // 2, 1)
                log.warning("agent: request too large; %d samples per request from now on",
                            self.batch)
                return
            if not exc.retry or exc.too_large:
                self._forget(len(batch))
                log.error("agent: the dashboard refused %d samples (%s); dropped", len(batch), exc)
                return
            self.failures += 1
            delay = min(BACKOFF_BASE * 2 ** (self.failures - 1), BACKOFF_CAP)
            delay *= 0.5 + 0.5 * self.jitter()
            self.retry_at = self.clock() + delay
            log.warning("agent: send failed (%s); %d samples buffered; retry in %.1f s",
                        exc, len(self.buffer), delay)
            return
        self._forget(len(batch))
        self.sent += len(batch)
        if self.failures or self.dropped:
            log.info("agent: the dashboard takes samples again; %d were dropped meanwhile "
                     "(buffer full)", self.dropped)
        self.failures = self.dropped = 0
        self.retry_at = 0.0

    def _forget(self, count: int) -> None:
        for _ in range(count):
            self.buffer.popleft()


def with_processes(sample: Callable[[], dict], scanner: ProcessScanner, every: float,
                   clock: Callable[[], float] = time.monotonic) -> Callable[[], dict]:
    """Wrap ``sample`` so that a sample carries ``processes`` (``scanner.scan()``) every
    ``every`` seconds (``--processes``); the first scan only primes psutil's CPU figures."""
    due = 0.0

    def take() -> dict:
        nonlocal due
        taken = sample()
        if clock() >= due:
            rows = scanner.scan()
            due = clock() + (every if rows is not None else 0.0)
            if rows is not None:
                taken["processes"] = rows
        return taken

    return take


def _stop(_signum, _frame):
    raise KeyboardInterrupt  # SIGTERM ends the agent like Ctrl-C: at once, even mid-sleep


@click.command("agent")
@dashboard_options
@click.option("--interval", type=click.FloatRange(min=0, min_open=True), default=1.0,
              show_default=True, help="Seconds between two samples.")
@click.option("--host", default=socket.gethostname, show_default="this machine's host name",
              help="Host name the samples carry.")
@click.option("--batch", type=click.IntRange(1, MAX_SAMPLES), default=60, show_default=True,
              help="Samples per request at most.")
@click.option("--send-every", type=click.FloatRange(min=0), default=0.0,
              show_default="each sample at once",
              help="Seconds between two sends; the samples taken meanwhile go in one request "
                   "(a big fleet's dashboards use far less CPU; samples not sent yet are lost "
                   "when the agent stops).")
@click.option("--buffer", "buffer_seconds", type=click.FloatRange(min=0, min_open=True),
              default=3600.0, show_default=True,
              help="Seconds of samples kept while the dashboard is unreachable.")
@click.option("--disk-path", default="/", show_default=True, help="Mount point to report.")
@click.option("--processes", "process_every", type=click.FloatRange(min=1), default=None,
              is_flag=False, flag_value=5.0,
              help="Also send the top processes, every N seconds (5 without a value).")
@click.option("--cmdline", is_flag=True,
              help="With --processes, send command lines too (the dashboard shows them only "
                   "with DASHBOARD_SHOW_CMDLINE=1; they often hold secrets); with "
                   "--containers, their commands.")
@click.option("--containers", "container_every", type=click.FloatRange(min=1), default=None,
              is_flag=False, flag_value=5.0,
              help="Also send the containers (Docker or Podman at DOCKER_HOST or the default "
                   "sockets) with their figures, every N seconds (5 without a value).")
def command(url: str, token: str, interval: float, host: str, batch: int, send_every: float,
            buffer_seconds: float, disk_path: str, process_every: float | None,
            cmdline: bool, container_every: float | None) -> None:
    """Sample this machine and push the samples to a dashboard (POST /api/v1/samples)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise click.BadParameter("must be http://host:port or https://host", param_hint="--to")
    if not re.match(HOST_PATTERN, host):
        raise click.BadParameter("1-253 characters of A-Z a-z 0-9 . _ -, starting with a "
                                 "letter or digit", param_hint="--host")
    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    signal.signal(signal.SIGTERM, _stop)
    keep = max(math.ceil(buffer_seconds / interval), 1)
    log.info("agent: %s every %g s to %s, sent every %g s, up to %d samples per request, "
             "%d kept", host, interval, url, max(send_every, interval), batch, keep)
    sample = HostSampler(host, disk_path).sample
    if process_every is not None:
        sample = with_processes(sample, ProcessScanner(cmdline=cmdline), process_every)
    if container_every is not None:
        from .containers import Engine, with_containers  # docker-py only for an agent that asks

        sample = with_containers(sample, Engine(cmdline=cmdline), container_every)
    Agent(sample, http_sender(url, token), interval=interval, batch=batch, keep=keep,
          send_every=send_every).run()
