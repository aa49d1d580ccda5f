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
    "swap_percent": Metric("Swap", "%", "psutil.swap_memory().percent"),
    "swap_used": Metric("Swap used", "bytes", "psutil.swap_memory().used"),
    "swap_total": Metric("Swap total", "bytes", "psutil.swap_memory().total"),
}

#: The lists and maps a sample carries beside the flat :data:`METRICS` (absent from an older
#: agent's samples). Each entry's fields and units:
#:
#: - ``cpu_cores``: percent busy per logical CPU (``psutil.cpu_percent(percpu=True)``), whole numbers;
#: - ``cpu_times``: percent of time per CPU mode of :data:`CPU_MODES` that the platform reports
#:   (``psutil.cpu_times_percent(None)``);
#: - ``disks``: per real mounted file system (``psutil.disk_partitions(all=False)``, bind mounts
#:   of one device once): ``mount``, ``device``, ``fstype``, ``percent``, ``used``, ``total`` (bytes);
#: - ``disk_io``: per whole physical disk (``psutil.disk_io_counters(perdisk=True)``): ``device``,
#:   ``read_bps``, ``write_bps`` (bytes per second), ``read_iops``, ``write_iops`` (operations per
#:   second), ``busy_percent`` (share of the interval the disk was busy, where known);
#: - ``interfaces``: per network interface but loopback (``psutil.net_io_counters(pernic=True)``,
#:   ``psutil.net_if_stats()``): ``name``, ``rx_bps``, ``tx_bps``, ``errors``, ``drops`` (counts
#:   since boot, in and out), ``up``;
#: - ``sensors``: per temperature sensor (``psutil.sensors_temperatures()``): ``label``,
#:   ``celsius``, ``high``, ``critical`` (°C, null where the sensor does not say).
DETAIL_KEYS = ("cpu_cores", "cpu_times", "disks", "disk_io", "interfaces", "sensors")
#: CPU modes a sample may report, in the order the mode bar stacks them.
CPU_MODES = ("user", "nice", "system", "irq", "softirq", "iowait", "steal", "idle")
#: Entries one sample may list: logical CPUs, file systems, disks, interfaces, sensors.
MAX_CORES = 1024
MAX_DISKS = 64
MAX_INTERFACES = 64
MAX_SENSORS = 128
#: A device, interface or sensor name: 1-100 printable characters, no control characters.
NAME_PATTERN = r"^[^\x00-\x1f\x7f]{1,100}$"
#: A mount point: an absolute path of printable characters.
MOUNT_PATTERN = r"^/[^\x00-\x1f\x7f]{0,511}$"
#: Processes one list may hold (``processes`` of a sample; the dashboard keeps the top ones).
MAX_PROCESSES = 100

#: A host name in samples and in ``?host=``: 1-253 characters of letters, digits, ``.``, ``_``,
#: ``-``, starting with a letter or digit (DNS names, plus the underscore some hosts use).
HOST_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,252}$"
#: Samples one request may carry (an agent's backlog is sent in several requests).
MAX_SAMPLES = 1000
