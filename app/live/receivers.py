"""Where notifications go: Apprise's services (``DASHBOARD_NOTIFY_URLS``) and Alertmanager
webhooks (``DASHBOARD_WEBHOOK_URLS``), each a :class:`Receiver` with a stable name.

Apprise and requests are imported here, inside :func:`load`, which only the process holding
the ``notifier`` lease calls: importing Apprise costs each process tens of MB (it loads its
plugins), which no other worker should pay (``bench/notify.py`` measures it).

The URLs hold secrets (Slack's path, ntfy's token, passwords): :attr:`Receiver.shown` and every
error text here is redacted before it reaches a log line, the page or the store.
"""

from __future__ import annotations

import logging
import os
from urllib.parse import urlsplit

from app.domain import messages
from app.domain.i18n import Say, source

log = logging.getLogger(__name__)

#: Seconds to connect, and to wait for the answer, of one webhook POST.
WEBHOOK_TIMEOUT = (5.0, 10.0)
_IDEMPOTENCY = "Idempotency-Key"


class SendFailed(Exception):
    """A receiver did not take a notification; the message is free of secrets."""


def redact_url(url: str) -> str:
    """``https://…``: the scheme only, what a log line or a page may show. Not the host
    either: in many Apprise URLs the host part is the secret (``ntfy://topic``,
    ``tgram://bottoken``, ``pover://user@token``)."""
    return f"{urlsplit(url).scheme}://…"


def scrub(text: str, url: str) -> str:
    """``text`` with every part of ``url`` but its scheme (the whole, the host part, the user,
    password, path and query, and each path segment) replaced by ``…``, at most 300
    characters."""
    parts = urlsplit(url)
    pieces = {url, url.split("://", 1)[-1], parts.netloc, parts.hostname or "",
              parts.password or "", parts.username or "", parts.query, parts.path.strip("/"),
              *parts.path.split("/")}
    for secret in sorted(pieces, key=len, reverse=True):
        if len(secret) >= 3:
            text = text.replace(secret, "…")
    return text[:300]


class Receiver:
    """One destination. :attr:`name` is stable while the configuration is (it is part of the
    idempotency key); :attr:`shown` is the redacted address for people."""

    name: str
    shown: str

    def send(self, entry: dict, public_url: str) -> None:
        """Deliver one outbox entry (``app.domain.outbox``).

        :raise SendFailed: not delivered, with a redacted reason.
        """
        raise NotImplementedError


class WebhookReceiver(Receiver):
    """POSTs Alertmanager's webhook JSON with an ``Idempotency-Key`` header (requests)."""

    def __init__(self, index: int, url: str) -> None:
        self.name, self.url, self.shown = f"webhook-{index}", url, redact_url(url)

    def send(self, entry: dict, public_url: str) -> None:
        import requests  # noqa: PLC0415 - lazily: only the sending process needs it

        body = messages.alertmanager(entry["alert"], entry["status"], public_url)
        try:
            response = requests.post(self.url, json=body, timeout=WEBHOOK_TIMEOUT,
                                     headers={_IDEMPOTENCY: entry["key"]}, allow_redirects=False)
        except requests.RequestException as exc:
            raise SendFailed(scrub(f"{type(exc).__name__}: {exc}", self.url)) from None
        if not 200 <= response.status_code < 300:
            raise SendFailed(f"HTTP {response.status_code} from {self.shown}")


class AppriseReceiver(Receiver):
    """One Apprise service (a plugin instance). Services that send HTTP headers of our choice
    (``json://``, ``form://``, ``xml://``) get the ``Idempotency-Key`` header too; for the
    others the title and text are the same on every attempt."""

    def __init__(self, index: int, plugin, url: str, say: Say = source) -> None:
        self.name, self.plugin, self.url = f"apprise-{index}", plugin, url
        self.shown = redact_url(url)
        self.say = say  # DASHBOARD_LANGUAGE's words (app.domain.messages)

    def send(self, entry: dict, public_url: str) -> None:
        import apprise  # noqa: PLC0415 - loaded already by load()

        alert, status = entry["alert"], entry["status"]
        kind = (apprise.NotifyType.SUCCESS if status == "resolved" else
                apprise.NotifyType.WARNING if alert["level"] == "warning" else
                apprise.NotifyType.FAILURE)
        if isinstance(getattr(self.plugin, "headers", None), dict):
            self.plugin.headers[_IDEMPOTENCY] = entry["key"]
        with apprise.LogCapture(level=logging.WARNING) as captured:
            ok = self.plugin.notify(body=messages.text(alert, status, public_url, self.say),
                                    title=messages.title(alert, status, self.say),
                                    notify_type=kind)
        if not ok:
            lines = [line for line in captured.getvalue().splitlines() if line.strip()]
            reason = lines[-1].split(" - ", 2)[-1] if lines else "the service refused it"
            reason = scrub(scrub(reason, self.url), self.plugin.url(privacy=True))
            raise SendFailed(f"{reason} ({self.shown})"[:300])


def load(notify_urls: str, webhook_urls: str, say: Say = source) -> list[Receiver]:
    """The receivers the settings name, in order; invalid ones are logged (redacted) and left
    out. ``notify_urls`` is whitespace-separated Apprise URLs, or one path of an Apprise config
    file (YAML or text); ``say`` gives the Apprise messages' words (``DASHBOARD_LANGUAGE``)."""
    found: list[Receiver] = [WebhookReceiver(i, url) for i, url in enumerate(webhook_urls.split())]
    words = notify_urls.split()
    if not words:
        return found
    import apprise  # noqa: PLC0415 - lazily: see the module docstring

    # Apprise logs some URLs whole (an unparseable one, for instance): its lines go only to the
    # captures of AppriseReceiver.send, which redacts them, never to the server's log.
    quiet = logging.getLogger("apprise")
    quiet.propagate = False
    if not quiet.handlers:
        quiet.addHandler(logging.NullHandler())
    if len(words) == 1 and "://" not in words[0]:
        if not os.path.isfile(words[0]):
            log.error("DASHBOARD_NOTIFY_URLS: no Apprise config file at %s", words[0])
            return found
        config = apprise.AppriseConfig()
        config.add(words[0])
        plugins = [(plugin, plugin.url()) for plugin in apprise.Apprise(config)]
    else:
        plugins = [(apprise.Apprise.instantiate(url), url) for url in words]
    for index, (plugin, url) in enumerate(plugins):
        if plugin is None:
            log.error("DASHBOARD_NOTIFY_URLS: entry %d (%s) is not a valid Apprise URL; left out",
                      index + 1, redact_url(url))
        else:
            found.append(AppriseReceiver(index, plugin, url, say))
    return found
