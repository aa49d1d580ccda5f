"""What a notification says: a title and text for Apprise's services, and Alertmanager's
webhook body (version 4) for receivers written for Alertmanager.

Pure functions of an alert dict (``app.domain.alerts``); nothing here sends. The title and text
are in ``DASHBOARD_LANGUAGE`` (the ``say`` the notifier passes: ``app.domain.i18n``); the webhook
body is a machine format and stays as Alertmanager writes it.
"""

from __future__ import annotations

from datetime import datetime, timezone
from urllib.parse import quote, urlencode

from .i18n import N_, Say, said, source

#: ``endsAt`` of a firing alert in Alertmanager's webhook: Go's zero time.
ZERO_TIME = "0001-01-01T00:00:00Z"
#: The ``receiver`` name the webhook body carries.
RECEIVER = "dashboard"


def rfc3339(ts: float) -> str:
    """Unix seconds as RFC 3339 in UTC with milliseconds: ``2026-12-02T18:00:00.123Z``."""
    return datetime.fromtimestamp(ts, timezone.utc).isoformat(timespec="milliseconds")[:-6] + "Z"


def link(public_url: str, alert: dict) -> str | None:
    """The alert on its host's page (``DASHBOARD_PUBLIC_URL``), or None without that setting."""
    if not public_url:
        return None
    query = f"?{urlencode({'host': alert['host']})}" if alert.get("host") else ""
    return f"{public_url}/{query}#alert-{quote(alert['id'])}"


def title(alert: dict, status: str, say: Say = source) -> str:
    """``[FIRING] cpu-high on web1`` / ``[RESOLVED] ...`` (in ``say``'s language)."""
    state = say({"firing": N_("FIRING"), "resolved": N_("RESOLVED")}.get(status, status.upper()))
    if alert.get("host"):
        return say(N_("[%(state)s] %(name)s on %(host)s"), state=state, name=alert["name"],
                   host=alert["host"])
    return say(N_("[%(state)s] %(name)s"), state=state, name=alert["name"])


def text(alert: dict, status: str, public_url: str, say: Say = source) -> str:
    """The body: level, message, value (and peak), since when (and until), the link (in
    ``say``'s language; times are RFC 3339 in UTC, unambiguous wherever it is read)."""
    lines = [f"{say(alert['level'])}: {said(alert, say) or alert['name']}"]
    if alert.get("value") is not None:
        peak = alert.get("peak")
        lines.append(say(N_("Value: %(value)s (peak %(peak)s)"), value=f"{alert['value']:g}",
                         peak=f"{peak:g}") if peak is not None
                     else say(N_("Value: %(value)s"), value=f"{alert['value']:g}"))
    lines.append(say(N_("Since: %(time)s"), time=rfc3339(alert["started_at"])))
    if status == "resolved" and alert.get("ended_at"):
        lines.append(say(N_("Resolved: %(time)s"), time=rfc3339(alert["ended_at"])))
    if alert.get("host"):
        lines.append(say(N_("Host: %(host)s"), host=alert["host"]))
    url = link(public_url, alert)
    if url:
        lines.append(url)
    return "\n".join(lines)


def labels(alert: dict) -> dict[str, str]:
    """Alertmanager labels: ``alertname``, ``severity`` (the level), and ``host`` / ``metric``
    / ``source`` where the alert has them."""
    found = {"alertname": alert["name"], "severity": alert["level"]}
    for key in ("host", "metric", "source"):
        if alert.get(key):
            found[key] = str(alert[key])
    return found


def alertmanager(alert: dict, status: str, public_url: str) -> dict:
    """The webhook body Alertmanager sends for one alert in a group of its own.

    Fields as Alertmanager's docs list them (``version`` "4", ``groupKey``, ``truncatedAlerts``,
    ``status``, ``receiver``, ``groupLabels``, ``commonLabels``, ``commonAnnotations``,
    ``externalURL``, ``alerts[]``); the alert's ``fingerprint`` is its id (16 hex digits, as
    Alertmanager's are), the same in firing and resolved messages.
    """
    alert_labels = labels(alert)
    annotations = {"summary": title(alert, status), "description": alert.get("message") or ""}
    if alert.get("value") is not None:
        annotations["value"] = f"{alert['value']:g}"
    ended = alert.get("ended_at") if status == "resolved" else None
    return {
        "version": "4",
        "groupKey": f'{{}}:{{alertname="{alert["name"]}"}}',
        "truncatedAlerts": 0,
        "status": status,
        "receiver": RECEIVER,
        "groupLabels": {"alertname": alert["name"]},
        "commonLabels": alert_labels,
        "commonAnnotations": annotations,
        "externalURL": public_url,
        "alerts": [{
            "status": status,
            "labels": alert_labels,
            "annotations": annotations,
            "startsAt": rfc3339(alert["started_at"]),
            "endsAt": rfc3339(ended) if ended else ZERO_TIME,
            "generatorURL": link(public_url, alert) or "",
            "fingerprint": alert["id"],
        }],
    }
