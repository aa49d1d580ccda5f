"""Fleet figures (issue 15): what keeping, ranking and drawing many hosts costs, and what a
redraw of the fleet page sends.

``.venv/bin/python -m bench.fleet`` prints, for 100 (the old ``FLEET_KEPT``, the baseline of
the same run), 500 and 1000 hosts (the new cap):

- **memory** of the fleet's latest samples (tracemalloc; flat samples with a few disks);
- **cards**: one :meth:`Fleet.cards` and :meth:`Fleet.ranked` with every card made again
  (levels, order), median of 20 (every page's row and the fleet pages share that list);
- **change**: the same after 1 % of the hosts reported (what the tailer pays per wake with
  agents reporting: only their cards are made again), median of 20;
- **draw**: one redraw of the fleet page's table (``FleetTable.draw``), median of 20;
- **bytes per redraw** sent to each viewer: the whole table, and the changed rows alone when
  10 % of hosts changed and when all of them did (``app.view.parts``);
- **the row** on every host's page: its whole size with 12 cards and trends, and what one
  second sends when the figures of all 12 changed (the cards' figures alone).

The machine may be shared: read the figures with that in mind.
"""

from __future__ import annotations

import random
import tracemalloc
from zoneinfo import ZoneInfo

from jinja2 import Environment, FileSystemLoader, select_autoescape

from app.config import DEFAULT_THRESHOLDS, ROOT
from app.domain.fleet import Fleet
from app.store import Item
from app.view.charts import trend
from app.view.fleetrow import FleetRow, Trends
from app.view.format import FILTERS, GLOBALS
from app.view.language import Languages
from app.view.overview import FleetTable
from bench import median_ms

NOW = 1_800_000_000.0


def env() -> Environment:
    """The app's Jinja environment without Flask, in English: autoescape, the filters and
    globals, the language's words and figures (``app.view.language``)."""
    jinja = Environment(loader=FileSystemLoader(ROOT / "templates"), autoescape=select_autoescape())
    jinja.filters.update(FILTERS)
    jinja.globals.update(GLOBALS)
    return Languages(jinja, ROOT / "translations", "en", ZoneInfo("UTC")).get().env


def sample(host: str, rng: random.Random) -> dict:
    return {"host": host, "ts": NOW, "cpu_percent": rng.uniform(0, 100), "cpu_count": 8,
            "mem_percent": rng.uniform(10, 90), "mem_used": 4 << 30, "mem_total": 16 << 30,
            "disk_percent": rng.uniform(10, 90), "disk_used": 50 << 30, "disk_total": 100 << 30,
            "net_rx_bps": 1e5, "net_tx_bps": 2e4, "load1": rng.uniform(0, 8), "load5": 1.0,
            "load15": 1.0, "uptime": 1e6, "temperature": None, "swap_percent": 0.0,
            "disks": [{"mount": m, "device": "/dev/sda1", "fstype": "ext4",
                       "percent": rng.uniform(10, 90), "used": 1 << 30, "total": 4 << 30}
                      for m in ("/", "/var", "/home")]}


def measure(hosts: int, jinja: Environment) -> dict[str, float]:
    rng = random.Random(hosts)
    names = [f"host-{n:04}" for n in range(hosts)]
    tracemalloc.start()
    fleet = Fleet(10, clock=lambda: NOW, thresholds=DEFAULT_THRESHOLDS)
    fleet.apply([Item(n, "metrics", NOW, sample(h, rng)) for n, h in enumerate(names)])
    memory = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    next_id = [hosts]

    def change(share: float) -> None:
        items = []
        for h in rng.sample(names, int(hosts * share)):
            next_id[0] += 1
            items.append(Item(next_id[0], "metrics", NOW, sample(h, rng)))
        fleet.apply(items)

    def cards() -> None:
        change(0.0)
        fleet.version += 1  # every card made again (as at start, or once a host turns stale)
        fleet.ranked()

    def one_change() -> None:  # 1 % of the hosts report: only their cards are made again
        change(0.01)
        fleet.ranked()

    table = FleetTable(jinja, fleet, "name", "")
    step = [0.0]

    def draw() -> None:
        step[0] += 100
        table.draw(0, step[0], send=False)

    figures = {"memory_mb": memory / 1e6, "cards_ms": median_ms(cards),
               "change_ms": median_ms(one_change), "draw_ms": median_ms(draw)}
    figures["whole_kb"] = len(table.html["fleet-table"]) / 1000
    for share in (0.1, 1.0):
        change(share)
        step[0] += 100
        names_changed = table.draw(0, step[0])
        figures[f"rows_{share:.0%}_kb"] = len(table.changes(names_changed)) / 1000
    figures.update(row_figures(fleet, names, jinja, rng))
    return figures


def row_figures(fleet: Fleet, names: list[str], jinja: Environment,
                rng: random.Random) -> dict[str, float]:
    """The row's whole size, and what a second in which the 12 cards' CPU moved by 1 % sends."""
    row = FleetRow(fleet, Trends())
    row.trends.svg = {name: trend([(NOW - 900 + 60 * n, rng.uniform(0, 100)) for n in range(15)],
                                  NOW - 900, NOW, 60, label="CPU, last 15 minutes")
                      for name in names}
    template = jinja.get_template("_fleet.html")
    figures = {"row_kb": len(row.render(template, host=names[0], range="live")) / 1000}
    shown = row.shown()

    def moved(cpu: float) -> float:  # by one percent, within its level's band
        return cpu + 1 if cpu < 1 or 70 <= cpu < 71 or 90 <= cpu < 91 else cpu - 1

    fleet.apply([Item(10**9 + n, "metrics", NOW, {**fleet.hosts[h].sample,
                                                  "cpu_percent": moved(fleet.hosts[h].sample["cpu_percent"])})
                 for n, h in enumerate(shown)])
    assert row.shown() == shown
    row.render(template, host=names[0], range="live")
    figures["row_second_kb"] = len(row.parts.change) / 1000
    return figures


def main() -> None:
    jinja = env()
    results = {hosts: measure(hosts, jinja) for hosts in (100, 500, 1000)}
    base = results[100]
    print("fleet (issue 15): per fleet size; ratio to 100 hosts (the old cap) in brackets")
    for hosts, figures in results.items():
        parts = [f"{key} {value:.2f} ({value / base[key]:.1f}x)" for key, value in figures.items()]
        print(f"  {hosts:5d} hosts: " + ", ".join(parts))


if __name__ == "__main__":
    main()
