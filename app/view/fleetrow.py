"""The fleet row at the top of every host's page: a card per host, those that need attention
first, each with its figures and a trend of its CPU over the last 15 minutes.

What a card shows and in which order comes from the domain (``app.domain.fleet``: level,
:func:`~app.domain.fleet.by_attention`). This module adds what is drawing: the trend lines
(:class:`Trends`, drawn once a minute per process and shared by every page) and the row's
parts (:class:`~app.view.parts.Parts`), so that a second in which only figures moved sends the
changed cards' figures, not the whole row, to every viewer of every page.
"""

from __future__ import annotations

from markupsafe import Markup

from app.domain.fleet import Fleet
from app.store import Store, StoreUnavailable

from .charts import trend
from .parts import Parts

#: Cards the row shows at most: the hosts that need attention most (the page lists them all).
ROW_SHOWN = 12
#: Seconds of CPU history each card's trend covers.
TREND_SPAN = 900.0
#: The history tier the trends read (``app.store.tiers``), and its step in seconds: a trend is
#: drawn again when a new point of that tier begins.
TREND_TIER, TREND_STEP = "1m", 60.0


class Trends:
    """The trend line of each host in the row, by host name, drawn from the history tier
    :data:`TREND_TIER` at most once per :data:`TREND_STEP` (a host newly in the row is drawn
    at the next sweep). One per process, shared by every page's view."""

    def __init__(self) -> None:
        self.svg: dict[str, Markup] = {}
        self._step: int | None = None  # the step (now // TREND_STEP) the lines were drawn in

    def due(self, hosts: list[str], now: float) -> bool:
        """Whether :meth:`draw` has something to do for ``hosts`` at Unix time ``now``."""
        return int(now // TREND_STEP) != self._step or any(h not in self.svg for h in hosts)

    def draw(self, store: Store, hosts: list[str], now: float) -> bool:
        """Read and draw the trends of ``hosts`` (all of them at a new step, else those not
        drawn yet); forget the others. True if a line changed.

        :raise app.store.StoreUnavailable: the store did not answer (nothing changed).
        """
        step = int(now // TREND_STEP)
        todo = hosts if step != self._step else [h for h in hosts if h not in self.svg]
        start = now - TREND_SPAN
        drawn = {}
        for host in todo:
            try:
                points = store.history_many(host, ("cpu_percent",), TREND_TIER, start, now)
            except StoreUnavailable:
                return False
            drawn[host] = trend([(p[0], p[2]) for p in points["cpu_percent"]], start, now,
                                TREND_STEP, label="CPU, last 15 minutes")
        kept = {host: drawn.get(host, self.svg.get(host)) for host in hosts}
        changed = kept != self.svg
        self.svg, self._step = kept, step
        return changed


class FleetRow:
    """One page's fleet row: what its template is given, and its :class:`Parts`.

    :param fleet: the process's fleet; :param trends: the process's :class:`Trends`.
    """

    def __init__(self, fleet: Fleet, trends: Trends) -> None:
        self.fleet = fleet
        self.trends = trends
        self.parts = Parts()

    def shown(self) -> list[str]:
        """The names of the hosts the row shows, in order."""
        return [card.name for card in self.fleet.ranked()[:ROW_SHOWN]]

    def tick(self, store: Store | None, now: float) -> bool:
        """Draw the shared trends if their step came or a host is new to the row (the first
        page to ask draws for all); True if this page's row must be rendered again. A row of
        one host is hidden: nothing to draw. ``now``: Unix seconds."""
        shown = self.shown()
        return (store is not None and len(shown) > 1 and self.trends.due(shown, now)
                and self.trends.draw(store, shown, now))

    def render(self, template, **context) -> str:
        """Render the row with ``template`` (``templates/_fleet.html``) and ``context`` (host,
        range); :attr:`Parts.change` then holds what to send."""
        cards = self.fleet.ranked()
        self.parts.start()
        skeleton = template.render(fleet=cards[:ROW_SHOWN], total=len(cards), parts=self.parts,
                                   trends=self.trends.svg, bounds=self.fleet.thresholds,
                                   **context)
        return self.parts.finish(skeleton)
