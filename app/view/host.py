"""What the regions inside a host show: cores and CPU modes, swap, file systems with their
disks' I/O, interfaces, sensors and the process table.

:class:`~app.view.regions.LiveView` holds an :class:`Inside`: it folds the log items
(:meth:`Inside.apply` says which regions they touch) and gives each of :data:`REGIONS` its
template variables (:meth:`Inside.context`); the view renders them once per change, like every
region. Figures are bucketed or rounded here so that a region's HTML changes only when what a
viewer sees does: each byte of a region goes to every viewer each time it changes
(``bench/host.py`` measures it).
"""

from __future__ import annotations

from markupsafe import Markup

from app.domain import containers as containers_mod, processes as processes_mod
from app.sources.sample import CPU_MODES

from . import containers as containers_view
from .catalog import DETAIL_STEP, INSIDE_REGIONS
from .format import level_of

#: The regions this module gives their variables to, in page order (``app.view.catalog``).
REGIONS = INSIDE_REGIONS
#: Redrawn with each sample: the cores, the liveliest figures after the cards'.
EVERY_SAMPLE = ("cpu-detail",)
#: Redrawn every :data:`~app.view.catalog.DETAIL_STEP` samples
#: or at once when one of their levels changes: each is a table that every viewer
#: would otherwise receive every second (``bench/host.py``), beside cards that already show
#: the 1 Hz totals.
PACED = ("cpu-modes", "memory-detail", "disks", "interfaces", "sensors")
#: The CPU modes the stacked bar draws (idle is the track behind them).
BUSY_MODES = tuple(mode for mode in CPU_MODES if mode != "idle")


def cores(percents: list[float]) -> list[int]:
    """Each core's busy percent to its tenth (0-10): a bar's height class and its level."""
    return [min(max(int(p + 5) // 10, 0), 10) for p in percents]


def mode_bar(times: dict[str, float]) -> Markup:
    """The CPU modes as one stacked bar: an SVG 100 units wide, a rect per busy mode of at
    least 1 %, widths in whole percents (``class`` is the mode, coloured by CSS)."""
    x, rects = 0, []
    for mode in BUSY_MODES:
        share = min(round(times.get(mode) or 0), 100 - x)
        if share >= 1:
            rects.append(f'<rect class="{mode}" x="{x}" width="{share}" height="1"/>')
            x += share
    # aria-hidden: the legend beside it says the same in words.
    return Markup('<svg class="modes" viewBox="0 0 100 1" preserveAspectRatio="none" '
                  f'aria-hidden="true">{"".join(rects)}</svg>')


def _disk_of(device: str, io_by_name: dict[str, dict]) -> dict | None:
    """The whole disk a file system's device lives on: ``/dev/sda1`` -> ``sda``, ``/dev/nvme0n1p2``
    -> ``nvme0n1`` (the longest disk name the device's name starts with)."""
    name = device.rsplit("/", 1)[-1]
    found = [disk for disk in io_by_name if name.startswith(disk)]
    return io_by_name[max(found, key=len)] if found else None


def _sensor_bounds(sensor: dict, fallback: tuple[float, float]) -> tuple[float, float]:
    """A sensor's (warning, critical): its own ``high`` / ``critical`` where it says, else the
    temperature thresholds (``DASHBOARD_THRESHOLDS``)."""
    warning = sensor.get("high") or fallback[0]
    critical = sensor.get("critical") or max(fallback[1], warning)
    return min(warning, critical), critical


def _swap_level(sample: dict, thresholds: dict) -> str:
    return level_of(sample.get("swap_percent"), thresholds["swap_percent"])


def _disk_levels(sample: dict, thresholds: dict) -> list[str]:
    return [level_of(disk["percent"], thresholds["disk_percent"])
            for disk in sample.get("disks") or ()]


def _sensor_levels(sample: dict, thresholds: dict) -> list[str]:
    return [level_of(sensor["celsius"], _sensor_bounds(sensor, thresholds["temperature"]))
            for sensor in sample.get("sensors") or ()]


def _levels(sample: dict, thresholds: dict) -> tuple:
    """Every level the :data:`PACED` regions show: a change redraws them at once."""
    return (_swap_level(sample, thresholds), *_disk_levels(sample, thresholds),
            *_sensor_levels(sample, thresholds))


class Inside:
    """The state of the regions inside one host's page: the latest process list and the
    table's settings; the region contexts.

    :param count: rows the process table lists (``DASHBOARD_PROCESS_COUNT``).
    :param interval: seconds between two process lists (``DASHBOARD_PROCESS_INTERVAL``); a
        table sorted other than by CPU polls at this pace.
    """

    def __init__(self, count: int = 15, interval: float = 5.0) -> None:
        self.count = count
        self.interval = interval
        self.processes: dict | None = None  # {"host", "ts", "processes"} (app.domain.processes)
        self.containers: dict | None = None  # {"host", "ts", "engine", "containers"}
        self._samples = 0  # samples folded, which paces PACED
        self._levels: tuple = ()  # the PACED regions' levels when last drawn

    def sibling(self) -> Inside:
        """The same settings, for another host's view; no list yet."""
        return Inside(self.count, self.interval)

    def load(self, store, host: str, panel=None) -> None:
        """Read ``host``'s latest process and containers lists from the store; ``panel`` (the
        view's :class:`~app.view.panel.ChartPanel`) learns which containers it charts."""
        self.processes = processes_mod.latest(store, host)
        self.containers = containers_mod.latest(store, host)
        if panel is not None:
            panel.fold_containers(self.containers)
        self._samples = 0

    def apply(self, item, view) -> tuple[str, ...]:
        """Fold a log item into ``view`` (a LiveView: its ``host`` and ``thresholds``); return
        the regions it touches."""
        if item.data.get("host") != view.host:
            return ()
        if item.kind == "metrics":
            self._samples += 1
            levels = _levels(item.data, view.thresholds)
            if self._samples % DETAIL_STEP == 1 or levels != self._levels:
                self._levels = levels
                return EVERY_SAMPLE + PACED
            return EVERY_SAMPLE
        if item.kind == processes_mod.KIND:
            self.processes = item.data
            return ("processes",)
        if item.kind == containers_mod.KIND:
            self.containers = item.data
            view.panel.fold_containers(item.data)  # drawn at the panel's next step
            return containers_view.REGIONS
        return ()

    def context(self, name: str, view, sort: str = "cpu") -> dict:
        """The template variables of region ``name`` of ``view`` (a LiveView: its ``sample`` and
        ``thresholds``); ``sort`` orders the process table (``cpu`` or ``mem``)."""
        sample = view.sample or {}
        thresholds = view.thresholds
        if name == "cpu-detail":
            buckets = cores(sample.get("cpu_cores") or [])
            levels = [level_of(b * 10, thresholds["cpu_percent"]) for b in buckets]
            return {"cores": list(zip(buckets, levels))}
        if name == "cpu-modes":
            return {"modes": mode_bar(sample["cpu_times"]) if sample.get("cpu_times") else None}
        if name == "memory-detail":
            return {"swap_level": _swap_level(sample, thresholds)}
        if name == "disks":
            io_by_name = {io["device"]: io for io in sample.get("disk_io") or ()}
            return {"disks": [{**disk, "io": _disk_of(disk["device"], io_by_name), "level": level}
                              for disk, level in zip(sample.get("disks") or (),
                                                     _disk_levels(sample, thresholds))]}
        if name == "sensors":
            return {"sensors": [{**sensor, "level": level} for sensor, level in zip(
                sample.get("sensors") or (), _sensor_levels(sample, thresholds))]}
        if name == "processes":
            found = self.processes
            rows = processes_mod.ranked(found["processes"], sort, self.count) if found else []
            return {"processes": found, "rows": rows, "sort": sort, "poll_seconds": self.interval,
                    "cmdline": any("cmdline" in row for row in rows)}
        if name in containers_view.REGIONS:
            return containers_view.context(name, self.containers, sort)
        return {}


def containers_table(view, sort: str) -> str:
    """The containers region of ``view`` sorted by ``sort`` (``memory``) for a page that asked
    for it (``/?containers=memory``, ``/fragments/containers-memory``): rendered per request,
    like :func:`sorted_table`."""
    return view.env.get_template("_containers.html").render(
        host=view.host, **containers_view.context("containers", view.inside.containers, sort))


def sorted_table(view, sort: str) -> str:
    """The process table of ``view`` sorted by ``sort`` (``mem``) for a page that asked for it
    (``/?sort=mem``, ``/fragments/processes-mem``): rendered per request, since only the table
    sorted by CPU is a streamed region."""
    return view.env.get_template("_processes.html").render(
        host=view.host, **view.inside.context("processes", view, sort))
