"""The engine of one worker process: :class:`Live` owns the store, the fleet, the pages (view
and hub per viewed host), the task, approval and JSON streams, and the greenlets that feed
them: the tailer (:mod:`app.live.tailer`), the sampler loop (:mod:`app.live.sampling`) and the
janitor (:mod:`app.live.janitor`).

Nothing here imports Flask: the web layer reaches it as ``app.extensions["dashboard"]``.
"""

from __future__ import annotations

import os
import uuid

import gevent
import gevent.event

from app.domain import rules
from app.domain.accountcache import Accounts
from app.domain.i18n import source
from app.store import Store, StoreUnavailable
from app.view.audit import AuditRows
from app.view.language import Languages
from app.view.overview import FleetTable
from app.view.regions import LiveView

from . import sse
from .approvals import ApprovalWatchers
from .audit import AuditFeed, AuditFeeds
from .clients import ClientStreams
from .compat import Compat
from .containerwatch import run_containers
from .hub import Hub
from .janitor import run_janitor
from .jsonstream import JsonStreams
from .notifier import configured, run_notifier
from .overview import Overview, Overviews
from .pages import RECONNECT_MS, Page, Pages
from .rulerunner import Inbox, run_rules
from .sampling import run_sampler
from .tailer import Tailer
from .tasks import TaskWatchers


class Live:
    """Owns the store, the fleet, the pages (view and hub per viewed host) of one process and
    the greenlets that feed them.

    :param settings: the validated :class:`~app.config.Settings`.
    :param view: the view of this dashboard's own host; other hosts' views are its siblings.
    :param languages: the interface's languages (``DASHBOARD_LANGUAGE`` is the default page's).

    ``on_viewers``, ``on_sent`` and ``on_drop`` (``app.web.ops`` sets them) are called like the
    :class:`~app.live.hub.Hub` hooks of the same names, for every page's hub; ``on_viewers`` gets
    the total over all of them. ``on_notified`` gets each notification attempt's outcome
    (``sent``, ``retrying``, ``failed``).
    """

    def __init__(self, settings, store: Store, view: LiveView,
                 languages: Languages | None = None) -> None:
        self.settings = settings
        #: The languages pages are rendered in (``app.view.language``); None: the source's only.
        self.languages = languages
        self.store = store
        self.fleet = view.fleet
        self.on_viewers = self.on_sent = self.on_drop = self.on_notified = None
        # Set by the tailer: the rule runner and the notifier look at once instead of within
        # a second (app.live.rulerunner, app.live.notifier).
        self.rules_inbox = Inbox()
        self.notify_due = gevent.event.Event()
        self._stopped = False
        self.pages = Pages(Page(view, self._hub()), self._open_page, self._known)
        #: The fleet pages (``/fleet``) by sort and filter.
        self.overviews = Overviews(self._open_overview)
        self.client_streams = ClientStreams(settings.streams_per_client)
        #: The audit page's newest entries and the streams that show them (``/audit``), by
        #: language.
        self.audit = AuditFeeds(self._open_audit, self.pages.default.language)
        #: Accounts and keys as the credential check reads them (``app.web.access``).
        self.accounts = Accounts(store)
        self.tasks = TaskWatchers(settings.queue_size)
        self.approvals = ApprovalWatchers(settings.queue_size)
        self.json = JsonStreams(view, settings.queue_size, settings.heartbeat, RECONNECT_MS)
        #: The streams of the systems this grew from (``app.live.compat``).
        self.compat = Compat(view, self._hub, host=settings.host_name,
                             heartbeat=settings.heartbeat, retry_ms=RECONNECT_MS)
        self._greenlets: list[gevent.Greenlet] = []
        #: This process among all that share the store: ``host:pid:random``.
        self.owner = f"{settings.host_name}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._jobs: set[gevent.Greenlet] = set()

    # -- what streams and polls read ------------------------------------------------------
    @property
    def view(self) -> LiveView:
        """The view of this dashboard's own host (``DASHBOARD_HOST_NAME``)."""
        return self.pages.default.view

    @property
    def hub(self) -> Hub:
        """The hub of the streams of this dashboard's own host."""
        return self.pages.default.hub

    def page(self, host: str | None = None, range_name: str | None = None,
             language: str | None = None) -> Page:
        """The view and hub of ``host`` (None: this dashboard's own) over ``range_name`` (None:
        live) in ``language`` (None: ``DASHBOARD_LANGUAGE``), made on first use.

        :raise app.live.pages.UnknownRange: not a range of ``app.view.ranges.SPANS`` (400).
        :raise app.live.pages.UnknownHost: no sample of ``host`` is known (404).
        :raise app.live.pages.TooManyPages: :data:`~app.live.pages.MAX_PAGES` hosts are watched (503).
        """
        return self.pages.get(host, range_name, language)

    def viewers_here(self) -> int:
        """Open streams of this process, over every page (fleet pages included)."""
        return sum(len(hub) for hub in (*self.pages.hubs(), *self.overviews.hubs()))

    def feed_alerting(self, after: int, items) -> None:
        """Hand the rule runner what the tailer read after id ``after`` (``items``, oldest
        first); wake the notifier for alert changes."""
        self.rules_inbox.put(after, items)
        if any(item.kind in ("alert", "silence") for item in items):
            self.notify_due.set()

    def end_sessions(self, accounts) -> None:
        """End the open streams whose person's session ended: ``accounts`` are the changed
        accounts (log items), each keeping the sessions it still has. Each such stream's last
        message is the SIGNED OUT badge, which sends the page to the sign-in form at once
        rather than after a reconnect that fails."""
        if not accounts:
            return
        last = sse.encode(self.view.badge("signed-out"))
        for account in accounts:
            for hub in (*self.pages.hubs(), *self.overviews.hubs(), *self.audit.hubs()):
                hub.end_sessions(account["name"], account["sessions"], last)

    def _known(self, host: str) -> bool:
        return host == self.settings.host_name or host in self.fleet

    def _open_page(self, host: str, range_name: str, language: str) -> Page:
        view = self.view.sibling(host, range_name, self.languages.get(language)
                                 if self.languages else None)
        view.viewers = self.view.viewers  # the same total on every page
        view.load(self.store)
        return Page(view, self._hub())

    def _open_overview(self, sort: str, q: str, language: str | None) -> Overview:
        env = self.languages.get(language).env if self.languages else self.view.env
        table = FleetTable(env, self.fleet, sort, q)
        return Overview(table, self._hub(), lambda: self.view.last_id)

    def _open_audit(self, language: str) -> AuditFeed:
        env = self.languages.get(language).env if self.languages else self.view.env
        return AuditFeed(AuditRows(env), self._hub(), self.store, lambda: self.view.last_id)

    def _hub(self) -> Hub:
        hub = Hub(self.settings.queue_size, on_count=self._counted,
                  on_sent=lambda n: self.on_sent and self.on_sent(n),
                  on_drop=lambda: self.on_drop and self.on_drop())
        if self._stopped:
            hub.close_all()  # made after shutdown began: its streams end at once
        return hub

    def _counted(self, _count: int) -> None:
        if self.on_viewers is not None:
            self.on_viewers(self.viewers_here())

    # -- lifecycle --------------------------------------------------------------------------
    @property
    def started(self) -> bool:
        """Whether :meth:`start` ran (and :meth:`stop` did not): the views are current."""
        return bool(self._greenlets)

    def start(self) -> None:
        """Load the fleet and the views and start the greenlets; calling it again does nothing."""
        if self._greenlets:
            return
        try:
            rules.seed(self.store, self.settings.alert_rules)
        except StoreUnavailable:
            pass  # the runner uses DASHBOARD_ALERT_RULES meanwhile; the next start seeds
        self.fleet.load(self.store)
        for page in self.pages:
            # Rendered when someone reads them: a worker that starts on history and that
            # nobody views renders no figure (nor loads a language's data, megabytes).
            page.view.unwatched = not len(page.hub)
            page.view.load(self.store)
        self._greenlets.append(gevent.spawn(Tailer(self).run))
        self._greenlets.append(gevent.spawn(run_janitor, self.store, self.settings, self.owner))
        self._greenlets.append(gevent.spawn(run_rules, self.store, self.settings, self.owner,
                                            self.rules_inbox, self.view.last_id))
        if configured(self.settings):
            self._greenlets.append(gevent.spawn(
                run_notifier, self.store, self.settings, self.owner, self.notify_due,
                lambda outcome: self.on_notified and self.on_notified(outcome),
                self.languages.get().gettext if self.languages else source))
        if self.settings.sampler:
            self._greenlets.append(gevent.spawn(run_sampler, self.store, self.settings, self.owner))
        if self.settings.sampler and self.settings.containers:
            # Its own lease: the events reader must not wait for a sample, nor a sample for it.
            self._greenlets.append(gevent.spawn(run_containers, self.store, self.settings,
                                                self.owner))

    def spawn(self, function, *args) -> gevent.Greenlet:
        """Run ``function(*args)`` in a greenlet that :meth:`stop` kills (simulator runs)."""
        greenlet = gevent.spawn(function, *args)
        self._jobs.add(greenlet)
        greenlet.link(self._jobs.discard)
        return greenlet

    def stop(self) -> None:
        """End every stream and stop the greenlets (worker shutdown)."""
        try:
            self.store.set_state(f"viewers:{self.owner}", None)  # no longer counted at once
        except StoreUnavailable:
            pass
        self._stopped = True
        for hub in (*self.pages.hubs(), *self.overviews.hubs(), *self.audit.hubs()):
            hub.close_all()
        self.tasks.close_all()
        self.approvals.close_all()
        self.json.close_all()
        self.compat.close_all()
        gevent.killall([*self._greenlets, *self._jobs], block=False)
        self._greenlets.clear()
        if configured(self.settings):
            try:
                # After the kill (the sender cannot renew it again): renewed for a moment if
                # this process sends, so another takes over at once rather than after
                # NOTIFY_LEASE seconds; a no-op if another holds it.
                self.store.lease("notifier", self.owner, 0.001)
            except StoreUnavailable:
                pass
