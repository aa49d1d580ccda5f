"""The approvals region's data: the pending approvals a view keeps and how their cards read.

Approvals are global, not per host: every host's page shows the same list. Times read to the
minute ("asked 3 min ago · 12 min left") so that the region's HTML changes about once a minute
per approval, not every second; the tailer's sweep re-renders it and sends it only when it
changed (``LiveView.refresh``).
"""

from __future__ import annotations

import time
from collections.abc import Callable

from app.domain import approvals as approvals_mod
from app.store import Store

from .language import Language, N_, duration, gettext_of

#: Pending approvals a view keeps, newest first; older ones beyond it are not shown.
PENDING_KEPT = 50
#: Decided approvals (answered, expired, withdrawn) the region still shows, with who decided,
#: and for how many seconds after the decision: a person who did not press the button sees
#: who did.
RECENT_KEPT, RECENT_SECONDS = 5, 600.0


def asked(seconds: float, language: Language | None = None) -> str:
    """How long ago an approval was asked, to the minute: ``'just now'``, ``'3 min ago'``
    (in ``language``; None: English)."""
    say = gettext_of(language)
    if seconds < 60:
        return say(N_("just now"))
    return say(N_("%(time)s ago"), time=duration(seconds, say))


def left(seconds: float, language: Language | None = None) -> str:
    """Its time left, to the minute (rounded down): ``'12 min left'``, ``'under a minute
    left'``, ``'expiring'`` (in ``language``; None: English)."""
    say = gettext_of(language)
    if seconds <= 0:
        return say(N_("expiring"))
    if seconds < 60:
        return say(N_("under a minute left"))
    return say(N_("%(time)s left"), time=duration(seconds, say))


class PendingApprovals:
    """The pending approvals of one view: approval id -> approval dict, at most
    :data:`PENDING_KEPT` (the newest by ``created_at``).

    :param clock: Unix seconds now, for the cards' texts (tests pass a fake).
    :param language: the language of those texts (None: English).
    """

    def __init__(self, clock: Callable[[], float] = time.time,
                 language: Language | None = None) -> None:
        self.language = language
        self.by_id: dict[str, dict] = {}
        #: The last :data:`RECENT_KEPT` decided ones, by id.
        self.decided: dict[str, dict] = {}
        self.clock = clock

    def load(self, store: Store) -> None:
        """Replace them with the store's pending and recently decided approvals."""
        self.by_id = {a["id"]: a for a in approvals_mod.listed(store, approvals_mod.PENDING,
                                                               PENDING_KEPT)}
        since = self.clock() - RECENT_SECONDS
        self.decided = {}
        for approval in sorted(approvals_mod.listed(store, None, PENDING_KEPT + RECENT_KEPT),
                               key=lambda a: a.get("answered_at") or 0):
            if approval["state"] != approvals_mod.PENDING and (approval["answered_at"] or 0) > since:
                self._decided(approval)

    def _decided(self, approval: dict) -> None:
        self.decided.pop(approval["id"], None)
        self.decided[approval["id"]] = approval
        while len(self.decided) > RECENT_KEPT:
            del self.decided[next(iter(self.decided))]

    def fold(self, approval: dict) -> None:
        """Take one logged change: a pending approval is kept, any other state moves it to the
        recently decided."""
        if approval["state"] != approvals_mod.PENDING:
            self.by_id.pop(approval["id"], None)
            self._decided(approval)
            return
        self.by_id[approval["id"]] = approval
        if len(self.by_id) > PENDING_KEPT:
            oldest = min(self.by_id.values(), key=lambda a: a["created_at"])
            del self.by_id[oldest["id"]]

    @property
    def empty(self) -> bool:
        """Whether nothing waits and nothing was decided lately (the region is hidden)."""
        return not self.by_id and not self.decided

    def due(self, now: float) -> list[dict]:
        """Those whose ``expires_at`` (Unix seconds) is at or before ``now``."""
        return [a for a in self.by_id.values() if a["expires_at"] <= now]

    def cards(self, now: float | None = None) -> list[dict]:
        """What the region lists, newest first: each approval plus ``asked`` and ``left`` texts
        as of ``now`` (Unix seconds; None: the clock's)."""
        now = self.clock() if now is None else now
        newest = sorted(self.by_id.values(), key=lambda a: a["created_at"], reverse=True)
        return [{**a, "asked": asked(now - a["created_at"], self.language),
                 "left": left(a["expires_at"] - now, self.language)} for a in newest]

    def recent(self, now: float | None = None) -> list[dict]:
        """The decided ones of the last :data:`RECENT_SECONDS` (Unix seconds ``now``; None: the
        clock's), the latest decision first."""
        now = self.clock() if now is None else now
        return [a for a in reversed(self.decided.values())
                if (a.get("answered_at") or 0) > now - RECENT_SECONDS]
