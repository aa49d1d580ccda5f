"""The page's regions: what each shows, rendered once per change and cached as HTML.

A region is one template ``templates/_<name>.html`` whose root element has ``id="<name>"`` and
``hx-swap-oob="true"``: the same markup serves the page, the SSE stream and ``/poll`` (htmx swaps
it for the element with that id); its changing elements may go alone (``parts``: :mod:`.parts`).
:class:`LiveView` keeps this process's view of the store (latest sample, latest events, viewer
count) and the rendered HTML of every region, which the Hub sends to every client as it is.
"""

from __future__ import annotations

import time
from collections import OrderedDict, deque
from collections.abc import Callable
from urllib.parse import urlencode

from jinja2 import Environment

from app.domain import alerts as alerts_mod
from app.domain.fleet import Fleet
from app.domain.hosts import KIND as FORGOTTEN
from app.domain.levels import sample_value
from app.store import Item, Store

from .alerting import KINDS as NOTE_KINDS, AlertNotes
from .approvals import PendingApprovals
from .catalog import CUSTOM_KEPT, METRIC_REGIONS, REGIONS, TASKS_KEPT
from .fleetrow import FleetRow, Trends
from .folds import CustomSeries, fold_alert, fold_task, task_summary
from .format import level_of
from .host import REGIONS as HOST_REGIONS, Inside
from .language import Language
from .panel import ChartPanel
from .parts import RenderedRegions
from .ranges import LIVE, SPANS
from .timeaxis import zone_of


class LiveView:
    """This process's current view of the dashboard and the HTML of each region.

    :param env: the Jinja environment (the Flask app's, so autoescaping is on).
    :param host: the host whose samples the cards show (``DASHBOARD_HOST_NAME``).
    :param thresholds: metric key -> (warning, critical), from ``DASHBOARD_THRESHOLDS``.
    :param feed_size: events kept for the feed (``DASHBOARD_FEED_SIZE``).
    :param simulator: whether the simulator is on, which adds its control panel region.
    :param fleet: the process's :class:`~app.domain.fleet.Fleet`, shared by every view (the
        ``fleet`` region; a view of its own by default); ``trends``, the fleet row's trend lines
        (:class:`~app.view.fleetrow.Trends`), likewise. ``inside``: the process table's settings.
    :param range_name: its chart panel's time range (a key of :data:`app.view.ranges.SPANS`).
    :param zone: the charts' time zone (``DASHBOARD_TIMEZONE``; None: the server's).

    Besides the latest sample it keeps the current alerts by id (every firing one, the latest
    :data:`RESOLVED_SHOWN` resolved), each custom series' latest reading and the chart panel
    (:class:`~app.view.panel.ChartPanel`), drawn by :meth:`draw_due`.
    """

    def __init__(self, env: Environment, *, host: str, thresholds: dict, feed_size: int,
                 simulator: bool = False, fleet: Fleet | None = None, inside=None,
                 range_name: str = LIVE, zone=None, trends: Trends | None = None) -> None:
        self.env = env
        self.host = host
        self.range = range_name
        self.thresholds = thresholds
        self.fleet = fleet if fleet is not None else Fleet(stale_after=10.0)
        self.row = FleetRow(self.fleet, trends if trends is not None else Trends())
        self.panel = ChartPanel(host, range_name, zone if zone is not None else zone_of(""),
                                custom_host=self.fleet.home, language=env.globals.get("language"))
        #: What the page adds to its ``/stream`` and ``/poll`` URLs. Its own host's page names
        #: the host too: behind a balancer the stream may reach another dashboard, which must
        #: still send this host's cards.
        self.query = "?" + urlencode({"host": host, **({"range": range_name}
                                                       if range_name != LIVE else {})})
        #: The regions this page has, in page order.
        self.regions = REGIONS if simulator else tuple(r for r in REGIONS if r != "simulator")
        self.sample: dict | None = None
        #: The host was forgotten (``app.domain.hosts``) and sent nothing since: the page says so.
        self.gone = False
        self.inside: Inside = inside or Inside()  # the regions inside the host (app.view.host)
        self.events: deque[Item] = deque(maxlen=feed_size)
        #: task_id -> the latest ``task`` item of that task, least recently updated first.
        self.tasks: OrderedDict[str, Item] = OrderedDict()
        self.viewers = 0
        self.last_id = 0
        self.alerts: dict[str, dict] = {}
        self.custom = CustomSeries(self.panel)
        self.approvals = PendingApprovals(language=env.globals.get("language"))  # every page's
        self.notes = AlertNotes()  # silences, delivery states, rules
        self.out = RenderedRegions(env, self.query, label=f"host {host!r}",
                                   on_error=lambda name: (self.on_render_error is not None
                                                          and self.on_render_error(name)))
        #: Set while nobody streams this page (by the tailer; by the engine before it loads):
        #: changed regions are only marked then, and rendered when read (:meth:`catch_up`).
        self.unwatched = False
        self._stale: set[str] = set()
        self._store: Store | None = None  # what a skipped chart draw would have read
        #: Called with a region's name each time it fails to render (``app.web.ops`` counts it).
        self.on_render_error: Callable[[str], None] | None = None
        self._templates = {name: env.get_template(f"_{name}.html")
                           for name in (*self.regions, "plots")}

    def sibling(self, host: str, range_name: str = LIVE,
                language: Language | None = None) -> LiveView:
        """A view of a host (this one or another) over a range, in ``language`` (None: this
        view's), with the same settings and fleet, not loaded yet; with a simulator panel only
        for this view's host on the live range."""
        view = LiveView(language.env if language else self.env, host=host,
                        thresholds=self.thresholds, feed_size=self.events.maxlen,
                        fleet=self.fleet, range_name=range_name, zone=self.panel.zone,
                        simulator=host == self.host and "simulator" in self.regions,
                        inside=self.inside.sibling(), trends=self.row.trends)
        view.on_render_error = self.on_render_error
        return view

    def load(self, store: Store) -> None:
        """Fill the view from the store (latest sample, history, events, alerts, custom metrics,
        tasks, pending approvals) and render every region (when read, if :attr:`unwatched`).

        The view holds the log up to the id read first: later items are left for :meth:`apply`,
        or one appended meanwhile would show twice (the state's latest values by key may be
        newer: folding their item again changes nothing)."""
        self.last_id = last = store.latest_id()

        # Several items a task: ten a task find the latest TASKS_KEPT as a rule. One scan for
        # the three kinds: on Redis a rare kind reads the whole log back.
        recent = {kind: [item for item in items if item.id <= last] for kind, items in
                  store.recent_many({"event": self.events.maxlen or 0, "custom": CUSTOM_KEPT,
                                     "task": TASKS_KEPT * 10}).items()}
        self.sample = store.get_state(f"sample:{self.host}")
        self.gone = False
        self.inside.load(store, self.host, self.panel)
        self.events.clear()
        self.events.extend(recent["event"])
        self.panel.clear()
        self.alerts.clear()
        for alert in reversed(alerts_mod.all_alerts(store)):  # oldest first: bounds keep newest
            fold_alert(self.alerts, alert)
        self.custom.load(store, list(reversed(recent["custom"])))
        self.tasks.clear()
        for item in reversed(recent["task"]):  # oldest first: each task ends on its latest
            fold_task(self.tasks, item)
        self.approvals.load(store)
        self.notes.load(store)
        now = time.time()
        self.panel.load_recent(store, now)
        self.panel.draw(store, now)
        self._store = store
        for name in (*self.regions, "plots"):
            self._rerender(name)

    def apply(self, items: list[Item]) -> list[str]:
        """Fold new log items into the view; return the regions whose HTML changed."""
        touched: set[str] = set()
        for item in items:
            if item.id <= self.last_id:
                continue  # already in the view: one made after the tailer's cursor loads it
            self.last_id = item.id
            touched.update(self.inside.apply(item, self))
            if item.kind == "metrics" and item.data.get("host") == self.host:
                if self.gone:
                    self.gone = False
                    touched.add("forget")
                self.sample = item.data
                self.panel.fold_sample(item.data)
                touched.update(METRIC_REGIONS)
                touched.add("simulator")  # it shows whether the sample was simulated
            elif item.kind == "event":
                self.events.appendleft(item)
                touched.add("events")
            elif item.kind == "alert":
                fold_alert(self.alerts, item.data)
                touched.add("alerts")
            elif item.kind == "custom":
                self.custom.fold(item.data)
                touched.add("custom")
            elif item.kind == "task":
                fold_task(self.tasks, item)
                touched.add("tasks")
            elif item.kind == "approval":
                self.approvals.fold(item.data)
                touched.add("approvals")
            elif item.kind in NOTE_KINDS:
                self.notes.fold(item)
                touched.add(NOTE_KINDS[item.kind])
            elif item.kind == FORGOTTEN and item.data.get("host") == self.host:
                touched.update(self._forget())
        return [name for name in self.regions if name in touched and self._rerender(name)]

    def _forget(self) -> tuple[str, ...]:
        """This view's host was forgotten: its figures, process table and charts go blank
        (the history is gone; the tailer's next tick redraws the charts) and the ``forget``
        region says so. Returns the regions to re-render."""
        self.gone = True
        self.sample = None
        self.inside.processes = self.inside.containers = None
        self.panel.clear()
        return (*METRIC_REGIONS, *HOST_REGIONS, "forget", "simulator")

    def tick(self, store: Store | None, now: float, grace: float = 0.0) -> list[str]:
        """The fleet row's trends (``fleet`` if they changed), then :meth:`draw_due`."""
        sent = ["fleet"] if self.row.tick(store, now) and self._rerender("fleet") else []
        return sent + self.draw_due(store, now, grace)

    def draw_due(self, store: Store | None, now: float, grace: float = 0.0) -> list[str]:
        """Draw the charts if they were due ``grace`` s ago or more (:meth:`ChartPanel.due`);
        return ``charts`` when the frames changed too, else ``plots``, or nothing to send."""
        if not self.panel.due(now - grace):
            return []
        if self.unwatched:
            self._store = store
            self._stale.update(("plots", "charts"))
            return []
        frames = self.panel.draw(store, now)
        plots, charts = self._rerender("plots"), self._rerender("charts")
        return ["charts"] if frames and charts else ["plots"] if plots else []

    def refresh(self, name: str) -> bool:
        """Re-render a region whose text changes with time alone (``fleet``: hosts turn stale;
        ``approvals``: minutes, while any is pending; ``alerts``: a silence ends); True if its
        HTML changed."""
        if ((name == "approvals" and self.approvals.empty and "approvals" in self.out.html)
                or (name == "alerts" and not self.notes.ended())):
            return False
        return name in self.regions and self._rerender(name)

    def set_viewers(self, count: int) -> bool:
        """Record the viewer count; return True if the viewers region changed."""
        self.viewers = count
        return self._rerender("viewers")

    def catch_up(self) -> None:
        """Render what changed while nobody streamed this page (:attr:`unwatched`)."""
        if not self._stale:
            return
        unwatched, self.unwatched = self.unwatched, False
        try:
            if "plots" in self._stale and self.panel.due(time.time()):
                self.panel.draw(self._store, time.time())
            for name in sorted(self._stale):
                self._rerender(name)
            self._stale.clear()
        finally:
            self.unwatched = unwatched

    @property
    def html(self) -> dict[str, str]:
        """Each region's HTML (rendered first if it changed while unwatched), by name."""
        self.catch_up()
        return self.out.html

    @property
    def stale(self) -> bool:
        """Whether some region changed and is not rendered yet (:meth:`catch_up`)."""
        return bool(self._stale)

    def _rerender(self, name: str) -> bool:
        if self.unwatched:
            self._stale.add(name)
            return False
        return self.out.render(name, lambda: self._render(name),
                               self.row.parts if name == "fleet" else None)

    def _render(self, name: str) -> str:
        sample = self.sample or {}
        if name == "fleet":
            return self.row.render(self._templates[name], host=self.host, range=self.range)
        levels = {key: level_of(sample_value(sample, key), bounds)
                  for key, bounds in self.thresholds.items()}
        extra = self.inside.context(name, self) if name in HOST_REGIONS else {}
        if name in ("alerts", "rules"):
            extra = self.notes.region(name, self.alerts)
        elif name == "custom":
            extra = {"series": self.custom.shown()}
        elif name == "tasks":
            extra = {"tasks": task_summary(self.tasks)}
        elif name == "forget":
            extra = {"gone": self.gone, "home": self.fleet.home}
        elif name == "approvals":
            extra = {"approvals": self.approvals.cards(), "decided": self.approvals.recent()}
        elif name in ("charts", "plots"):
            extra = {"panel": self.panel, "spans": SPANS}
        parts = self.out.parts(name)
        return parts.finish(self._templates[name].render(
            sample=sample, levels=levels, events=self.events, viewers=self.viewers,
            host=self.host, range=self.range, parts=parts, **extra))

    def badge(self, state: str) -> str:
        """The connection badge's HTML for ``connecting``, ``live``, ``polling``, ..."""
        return self.out.badge(state)

    def fragments(self, names: list[str] | tuple[str, ...], badge: str) -> str:
        """Join the HTML of ``names`` and the badge into one body of OOB swaps."""
        self.catch_up()
        return self.out.fragments(names, badge)

    def changes(self, names: list[str]) -> str:
        """What to send for the regions ``names`` that just changed, and the LIVE badge: each
        region's change (only its changed parts where it has parts), else its whole HTML."""
        self.catch_up()
        return self.out.changes(names)
