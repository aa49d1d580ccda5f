"""The process table of a host, scanned only while someone views that host.

The sampler loop (:mod:`app.live.sampling`) calls :meth:`ProcessWatch.tick` after each sample.
Whether anyone views the host is what every process shares through the store for the viewers
region (:func:`app.live.viewers.watchers`), so a scan happens in the one process that samples
the host, whichever worker the viewers' streams reached. With no viewer there is no scan, and
psutil's cached Process objects are dropped.
"""

from __future__ import annotations

import time

from app.domain import processes
from app.sources.processes import ProcessScanner
from app.store import Store

from .viewers import watchers


class ProcessWatch:
    """Scan every ``DASHBOARD_PROCESS_INTERVAL`` seconds while the host has a viewer.

    :param settings: ``host_name``, ``process_interval``, ``process_count``, ``show_cmdline``.
    :param scanner: the :class:`~app.sources.processes.ProcessScanner` (tests pass their own).
    """

    def __init__(self, settings, scanner: ProcessScanner | None = None) -> None:
        self.settings = settings
        self.scanner = scanner or ProcessScanner(settings.process_count, settings.show_cmdline)
        self._next_at = 0.0  # time.monotonic() of the next scan while watched

    def tick(self, store: Store, simulated=None) -> int | None:
        """Scan and store the list if it is due and someone views the host; return its log id.

        :param simulated: the :class:`~app.sources.simhost.SimulatedHost` whose list to take
            instead of psutil's (the simulator's host mode).
        :raise app.store.StoreUnavailable: the viewers or the list could not be read / written.
        """
        now = time.monotonic()
        if now < self._next_at:
            return None
        settings = self.settings
        # Looked at every sample while nobody watches: a new viewer waits a second, not a scan
        # interval, for the first list.
        if not watchers(store, settings.host_name):
            if self.scanner.primed:
                self.scanner.reset()
            self._next_at = 0.0
            return None
        if simulated is not None:
            rows = simulated.processes(settings.process_count)
        else:
            rows = self.scanner.scan()
        if rows is None:  # a priming scan: the CPU figures are meaningful from the next one
            self._next_at = now + 1.0
            return None
        self._next_at = now + settings.process_interval
        return processes.record(store, settings.host_name, round(time.time(), 3), rows,
                                cmdline=settings.show_cmdline)
