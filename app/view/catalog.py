"""The regions of a host's page, in page order, and how much each keeps and shows.

A region is one template ``templates/_<name>.html`` (:mod:`app.view.regions` renders it).
"""

METRIC_REGIONS = ("cpu", "memory", "disk", "network", "load", "temperature", "uptime")
#: Every region, in page order. ``simulator`` (the control panel) is left out of a view built
#: with ``simulator=False``: see :attr:`LiveView.regions`.
#: Each chart is a region of its own, redrawn every CHART_STEP samples with one point per
#: CHART_STEP samples: a sparkline is the largest part of a card, and sending it every second
#: would multiply what each viewer receives while the figures beside it still change each second.
CHART_REGIONS = ("cpu-chart", "memory-chart", "network-chart", "load-chart")
CHART_STEP = 5
#: ``fleet`` (the host switcher, ``app.domain.fleet``) is re-rendered by the tailer's sweep about once a
#: second, not on each sample: its staleness changes with time alone, and sending the whole row
#: for every host's every sample would multiply what each viewer receives by the number of hosts.
#: ``approvals`` (pending ones, ``app.view.approvals``) heads every host's page; the sweep re-renders
#: it too (its "time left" changes with time alone), sending it only when its HTML changed.
#: Inside the host (``app.view.host``): cores, CPU modes and swap under the CPU and memory
#: cards, then the disks, interfaces, sensors and process panels.
INSIDE_REGIONS = ("cpu-detail", "cpu-modes", "memory-detail", "disks", "interfaces", "sensors",
                  "processes")
REGIONS = (("approvals", "fleet") + METRIC_REGIONS + CHART_REGIONS + INSIDE_REGIONS
           + ("viewers", "alerts", "rules", "custom", "tasks", "events", "simulator"))
#: Tasks a view keeps (most recently updated); the totals count these, the list shows fewer.
TASKS_KEPT = 200
#: Tasks listed in the region: every running one first, then the latest others, up to this.
TASKS_SHOWN = 10
#: Sample keys whose recent values the cards draw as sparklines.
HISTORY_KEYS = ("cpu_percent", "mem_percent", "net_rx_bps", "net_tx_bps", "load1")
#: Samples a sparkline spans: 5 minutes at the default 1 Hz.
HISTORY_SIZE = 300
#: Readings a custom metric's sparkline spans (up to 100 cards: kept shorter than a host's).
CUSTOM_HISTORY_SIZE = 120
#: Resolved alerts the region lists (and the donut counts) besides every firing one.
RESOLVED_SHOWN = 20
#: Firing alerts kept in memory; a program that raises without resolving must not grow it forever.
FIRING_KEPT = 500
#: What a region that has never rendered shows instead (its root keeps the id htmx swaps by).
BROKEN = ('<div id="{name}" hx-swap-oob="true"><p class="error" role="alert">This panel could '
          'not be drawn; the server log says why.</p></div>')
