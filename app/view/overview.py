"""The fleet page (``/fleet``): every host in one table, sorted by any column, filtered by a
name prefix, with a count of hosts per level at the top.

One :class:`FleetTable` per (sort, filter) pair in a process, shared by every viewer of that
pair (``app.live.overview``), like a host's page per (host, range). Its two regions are
``fleet-summary`` and ``fleet-table``; the table is drawn again every :data:`TABLE_STEP`
seconds (a sample shows within about two), not on every sample. It shows at most
:data:`MAX_ROWS` rows, the first in the chosen order, with a note saying how many hosts match
(the filter box finds the others): with 1,000 hosts that report every second, a table of
every host would send each viewer every row every second. Rows are parts
(``app.view.parts``): while the order and the hosts shown stay the same, only the rows whose
text changed are sent, each as an out-of-band swap of the row with its id; a new order sends
the whole table.

What the table sorts by is what it shows (whole percents, load per CPU to two decimals), so
that hosts whose figures read the same do not swap places on invisible differences.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from urllib.parse import urlencode

from jinja2 import Environment

from app.domain.fleet import LEVELS, Card, Fleet, summary
from app.domain.levels import sample_value

from .language import N_
from .parts import Parts, RenderedRegions

#: Seconds between two redraws of a fleet page's regions (the tailer's sweep comes about once
#: a second, so a sample reaches the page within about two).
TABLE_STEP = 1.0
#: Rows a fleet page shows at most: what a viewer receives stays bounded however large the
#: fleet (at most this many changed rows a draw, some 250 bytes each: about 12 KB a second
#: when every row shown changes every second). A screenful or two: the level order puts the
#: hosts that need attention first, and the filter reaches any other.
MAX_ROWS = 50
#: Seconds between two reloads of the page with JavaScript off (a whole page each time).
NOSCRIPT_REFRESH = 10
#: Characters a name prefix filter may have (a host name has at most 253).
MAX_FILTER = 253


def fullest_disk(sample: dict) -> tuple[str | None, float | None]:
    """The mount point and usage (percent) of the fullest file system a sample lists
    (``disks``), or of the one the dashboard watches (``disk_percent``, mount unknown)."""
    disks = [d for d in sample.get("disks") or () if isinstance(d.get("percent"), (int, float))]
    if disks:
        fullest = max(disks, key=lambda d: d["percent"])
        return fullest.get("mount"), float(fullest["percent"])
    return None, sample_value(sample, "disk_percent")


def _figure(digits: int, value: float | None) -> tuple[int, float]:
    """Sort key of a figure as shown: highest first, none last."""
    return (1, 0.0) if value is None else (0, -round(value, digits))


#: ``?sort=`` -> the row key, ties broken by name. Figures sort highest first; ``seen`` oldest
#: first (the host silent longest leads); ``level`` by :data:`~app.domain.fleet.LEVELS`.
SORTS: dict[str, Callable[[Card], tuple]] = {
    "level": lambda c: (LEVELS.index(c.level),),
    "name": lambda c: (),
    "state": lambda c: (not c.stale, c.seen or 0.0),
    "cpu": lambda c: _figure(0, sample_value(c.sample, "cpu_percent")),
    "memory": lambda c: _figure(0, sample_value(c.sample, "mem_percent")),
    "disk": lambda c: _figure(0, fullest_disk(c.sample)[1]),
    "load": lambda c: _figure(2, sample_value(c.sample, "load_per_cpu")),
    "alerts": lambda c: (-len(c.alerts),),
    "containers": lambda c: ((-c.containers["unhealthy"], -c.containers["stopped"])
                             if c.containers else (1, 0)),
    "seen": lambda c: (c.seen is not None, c.seen or 0.0),
}
#: The column headings, in table order, with the ``?sort=`` each links to.
COLUMNS = (("name", N_("Host")), ("state", N_("State")), ("cpu", N_("CPU")),
           ("memory", N_("Memory")), ("disk", N_("Disk")), ("load", N_("Load per CPU")),
           ("alerts", N_("Firing alerts")), ("containers", N_("Containers")),
           ("seen", N_("Last seen")))
DEFAULT_SORT = "level"
REGIONS = ("fleet-summary", "fleet-table")


class BadFleetQuery(ValueError):
    """``?sort=`` is not a key of :data:`SORTS`, or ``?q=`` is too long (400)."""


def check_query(sort: str | None, q: str | None) -> tuple[str, str]:
    """``(sort, q)`` of a fleet page request, defaults filled in (level order, no filter);
    ``q`` loses surrounding white space.

    :raise BadFleetQuery: an unknown sort or a filter longer than :data:`MAX_FILTER`.
    """
    sort = sort or DEFAULT_SORT
    if sort not in SORTS:
        raise BadFleetQuery(f"unknown sort {sort!r}; known: {', '.join(SORTS)}")
    q = (q or "").strip()
    if len(q) > MAX_FILTER:
        raise BadFleetQuery(f"the name filter has more than {MAX_FILTER} characters")
    return sort, q


def rows(cards: list[Card], sort: str, q: str) -> list[Card]:
    """The cards whose name starts with ``q`` (case-insensitive), in ``sort`` order."""
    prefix = q.lower()
    key = SORTS[sort]
    return sorted((c for c in cards if c.name.lower().startswith(prefix)),
                  key=lambda c: (*key(c), c.name))


class _Rows:
    """Each shown row's HTML as last drawn, with the :class:`Card` it was drawn from. The fleet
    keeps a host's card while nothing of it changed (``Fleet.cards``), and a row shows its card
    alone, so the same card object means the same row: with agents that send every few seconds,
    most rows of a draw are unchanged, and their macro need not run again."""

    def __init__(self) -> None:
        self._kept: dict[str, tuple[Card, str]] = {}
        self._drawn: dict[str, tuple[Card, str]] = {}

    def start(self) -> None:
        """Begin a draw: what the last one drew is what may be kept."""
        self._kept, self._drawn = self._drawn, {}

    def get(self, card: Card) -> str | None:
        """The row of ``card`` if the last draw drew it from this very card, else None."""
        entry = self._kept.get(card.name)
        if entry is None or entry[0] is not card:
            return None
        self._drawn[card.name] = entry
        return entry[1]

    def put(self, card: Card, html: str) -> str:
        """Keep ``html`` as the row of ``card`` and return it."""
        self._drawn[card.name] = (card, html)
        return html


class FleetTable:
    """The regions of one fleet page: what they show, rendered once per change.

    :param env: the Jinja environment (autoescaping on: host and alert names are user text).
    :param fleet: the process's fleet; ``sort`` and ``q``: as :func:`check_query` gives them.
    """

    def __init__(self, env: Environment, fleet: Fleet, sort: str, q: str) -> None:
        self.fleet = fleet
        self.sort, self.q = sort, q
        args = {**({"sort": sort} if sort != DEFAULT_SORT else {}), **({"q": q} if q else {})}
        #: What the page adds to its ``/fleet/stream`` and ``/fleet/poll`` URLs.
        self.query = "?" + urlencode(args) if args else ""
        self.out = RenderedRegions(env, self.query, poll="/fleet/poll", label="the fleet page")
        self.last_id = 0  # the log id the regions were drawn after (the stream's id:)
        #: Counts the draws that changed something, and the log id of the latest: the poll's ETag.
        self.version = self.changed_at = 0
        self.drawn_at: float | None = None  # monotonic seconds
        self._parts = Parts()
        self._rows = _Rows()
        self._templates = {name: env.get_template(f"_{name}.html") for name in REGIONS}

    @property
    def html(self) -> dict[str, str]:
        """Each region's HTML as last drawn, by name."""
        return self.out.html

    @property
    def key(self) -> tuple[str, str]:
        """(sort, q): what the page shows."""
        return self.sort, self.q

    def due(self, now: float) -> bool:
        """Whether :data:`TABLE_STEP` seconds passed since the last draw (monotonic ``now``)."""
        return self.drawn_at is None or now - self.drawn_at >= TABLE_STEP

    def draw(self, last_id: int, now: float, send: bool = True) -> list[str]:
        """Render both regions from the fleet as it is now (folded up to log id ``last_id``,
        at monotonic time ``now``); return those whose HTML changed. ``send=False``: nobody
        streams the page (a poll or a page load drew it), so no change is kept to send."""
        self.drawn_at, self.last_id = now, last_id
        cards = self.fleet.cards()
        matched = rows(cards, self.sort, self.q)
        context = {"sort": self.sort, "q": self.q, "columns": COLUMNS, "total": len(cards),
                   "counts": summary(cards), "shown": matched[:MAX_ROWS],
                   "matched": len(matched), "parts": self._parts, "rows": self._rows,
                   "fullest_disk": fullest_disk, "value": sample_value}

        def table() -> str:
            self._parts.start()
            self._rows.start()
            return self._parts.finish(self._templates["fleet-table"].render(context))

        changed = []
        for name in REGIONS:
            parts = self._parts if name == "fleet-table" else None
            draw = table if parts else partial(self._templates[name].render, context)
            if self.out.render(name, draw, parts):
                changed.append(name)
        if not send:
            self.out.forget_changes()
        if changed:
            self.version, self.changed_at = self.version + 1, last_id
        return changed

    def badge(self, state: str) -> str:
        """The connection badge (``connecting``, ``live``, ``polling``) that polls this page."""
        return self.out.badge(state)

    def fragments(self, badge: str) -> str:
        """Both regions whole and the badge: a snapshot, or a poll's answer."""
        return self.out.fragments(REGIONS, badge)

    def changes(self, names: list[str]) -> str:
        """What to send for the regions ``names`` that just changed, and the LIVE badge."""
        return self.out.changes(names)
