"""``flask --app wsgi ask --to URL "Deploy v2 to production?"``: ask a person on a dashboard
and wait for the answer, for shell scripts.

It posts the question (``POST /api/v1/approvals``), then follows the approval's event stream
(``GET /api/v1/approvals/<id>/stream``) until ``permission_response`` or
``permission_cleared`` arrives, and exits with :data:`EXIT`: 0 approved, 1 denied, 2 expired
or withdrawn; 3 when it could not ask or could not learn the answer. The decision and reason
go to stdout as one line (``denied by page: not during the sale``); progress goes to stderr.

A stream that breaks (the dashboard restarts, a proxy cuts it, the network fails) is opened
again with ``Last-Event-ID`` after :data:`BACKOFF_BASE` doubling up to :data:`BACKOFF_CAP`
seconds (times a random 0.5-1); the dashboard then sends the outcome at once if it came
meanwhile. It gives up (exit 3) only once the approval's deadline passed by :data:`GRACE`
seconds without the dashboard telling the outcome. Ctrl-C or SIGTERM withdraw the approval
(``DELETE``), so that nobody answers a question nobody waits for, and exit 130.

Plain blocking code like the agent: ``urllib.request`` and ``time.sleep``, no gevent.
"""

from __future__ import annotations

import gettext
import http.client
import json
import os
import re
import random
import signal
import socket
import sys
import time
import unicodedata
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import NamedTuple
from urllib.parse import urlsplit

import click

from .client import OPENER, dashboard_options

#: Exit status by final state.
EXIT = {"approved": 0, "denied": 1, "expired": 2, "withdrawn": 2}
#: Exit status when the question could not be asked or the answer not learnt.
EXIT_ERROR = 3
#: Exit status after Ctrl-C / SIGTERM (128 + SIGINT, as shells report it).
EXIT_INTERRUPTED = 130
BACKOFF_BASE = 1.0
BACKOFF_CAP = 30.0
#: Seconds past the deadline during which an unreachable dashboard is still waited for.
GRACE = 60.0
#: Seconds a stream read may wait: the dashboard pings every DASHBOARD_HEARTBEAT (15 s).
READ_TIMEOUT = 75.0
FINAL_EVENTS = ("permission_response", "permission_cleared")


def N_(message: str) -> str:  # noqa: N802 - gettext's own name for it
    """Mark ``message`` for the catalog (``pybabel extract -k N_``) without translating it: the
    :class:`Waiter` says it later through its ``say``. This layer may not import
    ``app.domain.i18n``, whose ``N_`` is the same."""
    return message


def english(message: str, **values) -> str:
    """``message`` as written, its ``%(name)s`` placeholders filled: the words when no
    ``DASHBOARD_LANGUAGE`` catalog is given (:func:`_words` gives one)."""
    return message % values if values else message


class AskError(Exception):
    """The question could not be asked, or the dashboard refused to tell the answer."""


class Event(NamedTuple):
    """One SSE message: ``event`` name (None if unnamed), ``id`` (None if absent), ``data``."""

    event: str | None
    id: str | None
    data: str


def parse_sse(lines: Iterable[bytes]) -> Iterator[Event]:
    """Turn a stream's lines (bytes, with or without line ends) into :class:`Event` messages;
    comments (``: ping``) and messages without data or event are skipped."""
    event = last_id = None
    data: list[str] = []
    for raw in lines:
        line = raw.decode("utf-8", "replace").rstrip("\r\n")
        if not line:
            if data or event:
                yield Event(event, last_id, "\n".join(data))
            event, data = None, []
            continue
        name, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if name == "event":
            event = value
        elif name == "data":
            data.append(value)
        elif name == "id":
            last_id = value


def _headers(token: str) -> dict[str, str]:
    headers = {"User-Agent": "live-dashboard-ask"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return headers


def _error_text(exc: urllib.error.HTTPError) -> str:
    with exc:
        text = exc.read(2000).decode(errors="replace")
    try:
        return f"HTTP {exc.code}: {json.loads(text)['error']}"
    except (ValueError, KeyError, TypeError):
        return f"HTTP {exc.code}: {text}"


def post_question(base_url: str, token: str, question: dict, timeout: float = 10.0) -> str:
    """POST ``question`` to ``/api/v1/approvals``; return the approval's id.

    :raise AskError: any answer but 201, or the dashboard cannot be reached.
    """
    request = urllib.request.Request(
        base_url.rstrip("/") + "/api/v1/approvals", method="POST",
        data=json.dumps(question).encode(),
        headers={**_headers(token), "Content-Type": "application/json"})
    try:
        with OPENER.open(request, timeout=timeout) as response:
            return json.load(response)["id"]
    except urllib.error.HTTPError as exc:
        raise AskError(_error_text(exc)) from None
    except (urllib.error.URLError, OSError, http.client.HTTPException) as exc:
        raise AskError(f"{base_url}: {getattr(exc, 'reason', exc)}") from None


def withdraw(base_url: str, token: str, approval_id: str, timeout: float = 5.0) -> None:
    """DELETE the approval, best effort: an error (decided already, unreachable) is ignored."""
    request = urllib.request.Request(f"{base_url.rstrip('/')}/api/v1/approvals/{approval_id}",
                                     method="DELETE", headers=_headers(token))
    try:
        with OPENER.open(request, timeout=timeout):
            pass
    except (urllib.error.URLError, OSError, http.client.HTTPException):
        pass


def http_stream(base_url: str, token: str, approval_id: str) -> Callable:
    """Return ``open_stream(last_id)``, which opens the approval's stream (sending
    ``Last-Event-ID: last_id`` when given) and returns the response, an iterable of lines."""
    url = f"{base_url.rstrip('/')}/api/v1/approvals/{approval_id}/stream"

    def open_stream(last_id: str | None):
        headers = {**_headers(token), "Accept": "text/event-stream"}
        if last_id is not None:
            headers["Last-Event-ID"] = last_id
        return OPENER.open(urllib.request.Request(url, headers=headers),
                                      timeout=READ_TIMEOUT)

    return open_stream


class Waiter:
    """Follow one approval's stream until its outcome; :meth:`wait` returns it.

    :param open_stream: ``open_stream(last_id)`` as :func:`http_stream` makes it.
    :param deadline: ``clock()`` time after which an unreachable dashboard is given up on.
    :param clock: monotonic seconds; ``sleep`` waits seconds; ``jitter`` returns [0, 1];
        ``log`` takes a line for stderr (tests pass fakes).
    :param say: ``say(message, **values)``: the words of those lines and of the give-up error,
        in ``DASHBOARD_LANGUAGE`` (:func:`_words`); English by default.
    """

    def __init__(self, open_stream: Callable, *, deadline: float,
                 clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep,
                 jitter: Callable[[], float] = random.random,
                 log: Callable[[str], None] = lambda line: None,
                 say: Callable[..., str] = english) -> None:
        self.open_stream, self.deadline = open_stream, deadline
        self.clock, self.sleep, self.jitter, self.log = clock, sleep, jitter, log
        self.say = say
        self.last_id: str | None = None
        self.failures = 0

    def wait(self) -> dict:
        """Return the outcome's JSON (``{"id", "state", "approved", "reason", "by", "at"}``).

        :raise AskError: the dashboard answered 4xx (unknown approval, refused token), or it
            stayed unreachable past the deadline.
        """
        while True:
            try:
                with self.open_stream(self.last_id) as response:
                    for event in parse_sse(response):
                        self.failures = 0
                        if event.id is not None:
                            self.last_id = event.id
                        if event.event in FINAL_EVENTS:
                            return json.loads(event.data)
                problem = self.say(N_("the stream ended"))
            except urllib.error.HTTPError as exc:
                if 400 <= exc.code < 500:
                    raise AskError(_error_text(exc)) from None
                problem = f"HTTP {exc.code}"
            except (urllib.error.URLError, OSError, http.client.HTTPException) as exc:
                problem = str(getattr(exc, "reason", exc))
            if self.clock() > self.deadline:
                raise AskError(self.say(N_("no answer from the dashboard (%(problem)s); "
                                           "giving up"), problem=problem))
            self.failures += 1
            delay = min(BACKOFF_BASE * 2 ** (self.failures - 1), BACKOFF_CAP)
            delay *= 0.5 + 0.5 * self.jitter()
            self.log(self.say(N_("ask: %(problem)s; reconnecting in %(delay)s s"),
                              problem=problem, delay=f"{delay:.1f}"))
            self.sleep(delay)


#: A terminal's escape sequences (CSI ``ESC [ ... final``, OSC ``ESC ] ... BEL|ESC \``, and
#: two-character ``ESC x``): an answer's reason must not move the cursor or retitle a window.
_ESCAPES = re.compile(r"\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)?|[@-Z\\-_])")


def printable(text: str) -> str:
    """``text`` without escape sequences and without control or format characters (Unicode
    categories Cc and Cf: newlines, bidi overrides), for a terminal."""
    text = _ESCAPES.sub("", text)
    return "".join(c for c in text if unicodedata.category(c) not in ("Cc", "Cf"))


def describe(outcome: dict) -> str:
    """The line printed for an outcome: ``'denied by page: not now'``, ``'expired'``. Who
    answered and the reason are a person's text: :func:`printable` only."""
    text = outcome["state"]
    if outcome.get("by") and outcome["state"] != "expired":
        text += f" by {printable(outcome['by'])}"
    if outcome.get("reason"):
        text += f": {printable(outcome['reason'])}"
    return text


def _words() -> Callable[..., str]:
    """``_(message, **values)`` in ``DASHBOARD_LANGUAGE``, from its compiled catalog
    (``translations/``, built by ``scripts/setup``); English without one. For the lines a
    person reads on the terminal: the outcome line on stdout is what scripts read, and stays
    English like every ``flask`` command's machine output."""
    catalog = gettext.translation("messages", Path(__file__).resolve().parents[2] / "translations",
                                  [os.environ.get("DASHBOARD_LANGUAGE", "en")], fallback=True)

    def say(message: str, **values) -> str:
        text = catalog.gettext(message)
        return text % values if values else text
    return say


def _stop(_signum, _frame):
    raise KeyboardInterrupt  # SIGTERM withdraws and exits like Ctrl-C


@click.command("ask")
@click.argument("title")
@dashboard_options
@click.option("--detail", default=None, help="More text under the title (up to 2000 characters).")
@click.option("--source", default=None, help="Who asks (default: ask@this host's name).")
@click.option("--timeout", type=click.IntRange(10, 86_400), default=900, show_default=True,
              help="Seconds until the question expires unanswered.")
def command(title: str, url: str, token: str, detail: str | None, source: str | None,
            timeout: int) -> None:
    """Ask TITLE on the dashboard and wait: exit 0 approved, 1 denied, 2 expired or
    withdrawn, 3 on errors."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise click.BadParameter("must be http://host:port or https://host", param_hint="--to")
    signal.signal(signal.SIGTERM, _stop)
    question = {"title": title, "detail": detail or None, "timeout_seconds": timeout,
                "source": source or f"ask@{socket.gethostname()}"}
    approval_id = None
    _ = _words()
    try:
        approval_id = post_question(url, token, question)
        click.echo(_("ask: waiting for an answer to %(id)s on %(url)s", id=approval_id, url=url),
                   err=True)
        waiter = Waiter(http_stream(url, token, approval_id),
                        deadline=time.monotonic() + timeout + GRACE,
                        log=lambda line: click.echo(line, err=True), say=_)
        outcome = waiter.wait()
    except AskError as exc:
        click.echo(f"ask: {printable(str(exc))}", err=True)
        sys.exit(EXIT_ERROR)
    except KeyboardInterrupt:
        if approval_id is not None:
            withdraw(url, token, approval_id)
            click.echo(_("ask: interrupted; %(id)s withdrawn", id=approval_id), err=True)
        sys.exit(EXIT_INTERRUPTED)
    click.echo(describe(outcome))
    sys.exit(EXIT.get(outcome["state"], EXIT_ERROR))
