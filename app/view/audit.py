"""The audit page's table (``/audit``): entries of the audit log (``app.domain.audit``) as the
region ``audit-rows`` (``templates/_audit-rows.html``).

:class:`AuditRows` keeps the :data:`PAGE` newest entries, the unfiltered first page, which every
admin watching ``/audit`` shares: rendered once per new entry (``app.live.audit``). A filtered
or older page renders the same template from a store query (:func:`render`), once per request.
"""

from __future__ import annotations

import json

from jinja2 import Environment

#: Entries a page shows.
PAGE = 50
#: The region's id, and its template ``_<REGION>.html``.
REGION = "audit-rows"


def detail_text(detail) -> str:
    """An entry's ``detail`` as one line: ``role: admin, scopes: ["read"]``; ``''`` for none."""
    if not detail:
        return ""
    if not isinstance(detail, dict):
        return json.dumps(detail, ensure_ascii=False)
    return ", ".join(
        f"{key}: {value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)}"
        for key, value in detail.items())


def render(env: Environment, entries: list[dict], older: str | None, live: bool = False) -> str:
    """The region's HTML for ``entries`` (newest first), with a link to ``older`` (a query
    string such as ``?before=41``, or None: no older entries). ``live``: the shared first page,
    which says so."""
    return env.get_template(f"_{REGION}.html").render(
        entries=entries, older=older, live=live, detail_text=detail_text)


class AuditRows:
    """The :data:`PAGE` newest audit entries, folded from the log's ``audit`` items.

    Items may be folded before the first :meth:`load` and after it: an entry is kept once
    (by its audit id), so one written while the store was read is neither lost nor doubled.
    """

    def __init__(self, env: Environment, size: int = PAGE) -> None:
        self.env = env
        self.size = size
        self.loaded = False
        self._entries: dict[int, dict] = {}
        self._html: str | None = None

    @property
    def entries(self) -> list[dict]:
        """The kept entries, newest first."""
        return [self._entries[i] for i in sorted(self._entries, reverse=True)]

    def load(self, store) -> None:
        """Read the newest entries from ``store``. :raise StoreUnavailable:"""
        found = store.audit_query(limit=self.size)
        self._keep(found)
        self.loaded = True

    def unload(self) -> None:
        """Forget everything (the store's log went back): the next read loads again."""
        self._entries.clear()
        self.loaded = False
        self._html = None

    def apply(self, items) -> bool:
        """Fold the ``audit`` items of ``items`` (log items); True if the shown rows changed."""
        return self._keep([item.data for item in items if item.kind == "audit"])

    def _keep(self, entries) -> bool:
        before = set(self._entries)
        for entry in entries:
            if isinstance(entry.get("id"), int):
                self._entries[entry["id"]] = entry
        for old in sorted(self._entries, reverse=True)[self.size:]:
            del self._entries[old]
        changed = set(self._entries) != before
        if changed:
            self._html = None
        return changed

    @property
    def html(self) -> str:
        """The region as it stands, rendered once per change."""
        if self._html is None:
            entries = self.entries
            older = f"?before={entries[-1]['id']}" if len(entries) >= self.size else None
            self._html = render(self.env, entries, older, live=True)
        return self._html
