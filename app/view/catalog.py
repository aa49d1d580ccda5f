"""The regions of a host's page, in page order, and how much each keeps and shows.

A region is one template ``templates/_<name>.html`` (:mod:`app.view.regions` renders it).
"""

METRIC_REGIONS = ("cpu", "memory", "disk", "network", "load", "temperature", "uptime")
#: Every region, in page order. ``simulator`` (the control panel) is left out of a view built
#: with ``simulator=False``: see :attr:`LiveView.regions`.
#: ``charts`` is the chart panel (``app.view.panel``): the cards show figures only, the panel
#: every chart with axes over the page's range. Its plots alone are a region too, ``plots``,
#: which the stream sends between two sends of the whole panel but no page lists.
#: ``fleet`` (the host switcher, ``app.domain.fleet``) is re-rendered by the tailer's sweep
#: about once a second, not on each sample: its staleness changes with time alone, and sending
#: the whole row for every host's every sample would multiply what each viewer receives by the
#: number of hosts. ``approvals`` (pending ones, ``app.view.approvals``) heads every host's page;
#: the sweep re-renders it too (its "time left" changes with time alone), sending it only when
#: its HTML changed.
#: Inside the host (``app.view.host``): cores, CPU modes and swap under the CPU and memory
#: cards, then the disks, interfaces, sensors and process panels; the Containers card (in the
#: top row) and region (``app.view.containers``).
INSIDE_REGIONS = ("cpu-detail", "cpu-modes", "memory-detail", "disks", "interfaces", "sensors",
                  "processes", "container-counts", "containers")
#: Samples between two redraws of the slower inside regions (CPU modes, swap, disks,
#: interfaces, sensors; at once on a level change): their figures move every second, and
#: sending them each time would double what a viewer receives.
DETAIL_STEP = 5
#: ``forget`` (``templates/_forget.html``): the "Forget this host" action on another host's page,
#: or, once that host was forgotten (``app.domain.hosts``), the notice that it is gone.
REGIONS = (("approvals", "fleet", "forget") + METRIC_REGIONS + INSIDE_REGIONS
           + ("viewers", "charts", "alerts", "rules", "custom", "tasks", "events", "simulator"))
#: Regions whose changes are figures that move with each sample or with time alone (the sweep's
#: viewer count, fleet row and charts): a stream may hold them back for a moment, to send them
#: in one message with the next news (:meth:`app.live.pages.Page.ready`). The other regions are
#: news (events, alerts, tasks, ...) and go at once.
FIGURES = frozenset(METRIC_REGIONS + INSIDE_REGIONS
                    + ("viewers", "charts", "plots", "fleet", "simulator"))
#: Tasks a view keeps (most recently updated); the totals count these, the list shows fewer.
TASKS_KEPT = 200
#: Tasks listed in the region: every running one first, then the latest others, up to this.
TASKS_SHOWN = 10
#: Custom items read at load for the custom metrics' latest readings and live charts.
CUSTOM_KEPT = 120
#: Resolved alerts the region lists (and the donut counts) besides every firing one.
RESOLVED_SHOWN = 20
#: Firing alerts kept in memory; a program that raises without resolving must not grow it forever.
FIRING_KEPT = 500
#: What a region that has never rendered shows instead (its root keeps the id htmx swaps by).
BROKEN = ('<div id="{name}" hx-swap-oob="true"><p class="error" role="alert">This panel could '
          'not be drawn; the server log says why.</p></div>')
