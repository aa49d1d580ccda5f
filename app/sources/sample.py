"""What a host sample is: its keys with label, unit and psutil source, the host-name grammar,
and how many samples one request may carry.

Shared by the producers of samples (:mod:`app.sources.sampler`, :mod:`app.sources.simhost`,
the agent) and by what checks them (``app.domain.schemas``, the alert rules), so the two can
never disagree.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Metric:
    """How one key of a sample is shown: label, unit and the psutil call it comes from."""

    label: str
    unit: str
    source: str


#: Every key a sample carries besides ``host`` and ``ts``; the simulator may override exactly these.
METRICS: dict[str, Metric] = {
    "cpu_percent": Metric("CPU", "%", "psutil.cpu_percent(None)"),
    "cpu_count": Metric("Logical CPUs", "", "psutil.cpu_count()"),
    "mem_percent": Metric("Memory", "%", "psutil.virtual_memory().percent"),
    "mem_used": Metric("Memory used", "bytes", "psutil.virtual_memory(): total - available"),
    "mem_total": Metric("Memory total", "bytes", "psutil.virtual_memory().total"),
    "disk_percent": Metric("Disk", "%", "psutil.disk_usage(path).percent"),
    "disk_used": Metric("Disk used", "bytes", "psutil.disk_usage(path).used"),
    "disk_total": Metric("Disk total", "bytes", "psutil.disk_usage(path).total"),
    "net_rx_bps": Metric("Received", "bytes/s", "psutil.net_io_counters(pernic=True), not lo"),
    "net_tx_bps": Metric("Sent", "bytes/s", "psutil.net_io_counters(pernic=True), not lo"),
    "load1": Metric("Load 1 min", "", "psutil.getloadavg()[0]"),
    "load5": Metric("Load 5 min", "", "psutil.getloadavg()[1]"),
    "load15": Metric("Load 15 min", "", "psutil.getloadavg()[2]"),
    "uptime": Metric("Uptime", "s", "time.time() - psutil.boot_time()"),
    "temperature": Metric("Temperature", "°C", "max of psutil.sensors_temperatures()"),
}

#: A host name in samples and in ``?host=``: 1-253 characters of letters, digits, ``.``, ``_``,
#: ``-``, starting with a letter or digit (DNS names, plus the underscore some hosts use).
HOST_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,252}$"
#: Samples one request may carry (an agent's backlog is sent in several requests).
MAX_SAMPLES = 1000
