"""What an alert rule's ``metric`` may name, and its value in a sample.

A key is a flat sample key (``cpu_percent``, ``swap_percent``...: ``app.sources.sample.METRICS``
but ``cpu_count``) or a per-item key ``<family>:<item>``:

- ``disk_percent:<mount>``: the usage of the file system mounted there (``disk_percent:/var``);
- ``temperature:<label>``: one sensor's reading in °C (``temperature:coretemp Core 0``);
- ``cpu_core:<n>``: logical CPU ``n``'s busy percent (from 0);
- ``interface_rx_bps:<name>``, ``interface_tx_bps:<name>``: one interface's rates (bytes/s);
- ``container_state:<name>`` (1 when the container is anything but running, else 0),
  ``container_health:<name>`` (1 when unhealthy), ``container_cpu:<name>`` (percent of one
  CPU), ``container_memory:<name>`` (percent of its memory limit): read from a host's containers
  list (:func:`app.domain.containers.rule_sample`), never from a host sample. Their ``<name>``
  may be a shell-style pattern (``*``, ``web-?``): the rule then watches every container whose
  name matches, each alert on its own (:func:`expand`).

An item the sample does not list (an unmounted disk, a host without sensors) has no value, and
a rule on it neither fires nor keeps firing.
"""

from __future__ import annotations

import fnmatch
import re

from app.sources.sample import METRICS, MOUNT_PATTERN, NAME_PATTERN, Metric

from .i18n import N_

#: A container name as a rule names it: the engine's characters, and pattern characters.
CONTAINER_PATTERN = r"^[A-Za-z0-9_.*?\[\]-]{1,128}$"
#: Flat keys a rule may watch: every number a sample carries but the CPU count.
FLAT_KEYS = tuple(key for key in METRICS if key != "cpu_count")
#: Per-item families: (sample list, the field naming an item, the field read, item grammar, metric).
#: Their labels are marked for the catalog: an alert's condition names them (app.domain.alertrule).
FAMILIES: dict[str, tuple[str, str, str, str, Metric]] = {
    "disk_percent": ("disks", "mount", "percent", MOUNT_PATTERN,
                     Metric(N_("Disk"), "%", "psutil.disk_usage(mount).percent")),
    "temperature": ("sensors", "label", "celsius", NAME_PATTERN,
                    Metric(N_("Temperature"), "°C", "psutil.sensors_temperatures()")),
    "interface_rx_bps": ("interfaces", "name", "rx_bps", NAME_PATTERN,
                         Metric(N_("Received"), "bytes/s", "psutil.net_io_counters(pernic=True)")),
    "interface_tx_bps": ("interfaces", "name", "tx_bps", NAME_PATTERN,
                         Metric(N_("Sent"), "bytes/s", "psutil.net_io_counters(pernic=True)")),
    "cpu_core": ("cpu_cores", "", "", r"^[0-9]{1,4}$",
                 Metric(N_("CPU core"), "%", "psutil.cpu_percent(percpu=True)")),
    "container_state": ("containers", "name", "not_running", CONTAINER_PATTERN,
                        Metric(N_("Container"), "", "Docker Engine API: State.Status")),
    "container_health": ("containers", "name", "unhealthy", CONTAINER_PATTERN,
                         Metric(N_("Container"), "", "Docker Engine API: State.Health.Status")),
    "container_cpu": ("containers", "name", "cpu_percent", CONTAINER_PATTERN,
                      Metric(N_("CPU of container"), "%",
                             "Docker Engine API: stats, as docker stats")),
    "container_memory": ("containers", "name", "mem_percent", CONTAINER_PATTERN,
                         Metric(N_("Memory of container"), "%",
                                "Docker Engine API: stats, usage less inactive cache / limit")),
}
#: The families read from a containers list rather than a host sample.
CONTAINER_FAMILIES = tuple(f for f in FAMILIES if f.startswith("container_"))


def _split(key: str) -> tuple[str, str] | None:
    family, sep, item = key.partition(":")
    if not sep or family not in FAMILIES or not re.fullmatch(FAMILIES[family][3], item):
        return None
    return family, item


def valid_key(key: str) -> bool:
    """Whether a rule may watch ``key`` (module docstring)."""
    return key in FLAT_KEYS or _split(key) is not None


def metric_of(key: str) -> Metric:
    """Label and unit of a valid ``key``: ``disk_percent:/var`` -> ``Disk /var``, ``%``.

    :raise KeyError: ``key`` is not valid.
    """
    if key in METRICS:
        return METRICS[key]
    split = _split(key)
    if split is None:
        raise KeyError(key)
    family, item = split
    metric = FAMILIES[family][4]
    return Metric(f"{metric.label} {item}", metric.unit, metric.source)


def value_of(sample: dict, key: str) -> float | None:
    """The number ``key`` names in ``sample``, or None where the sample has none."""
    if ":" not in key:
        value = sample.get(key)
        return None if value is None else float(value)
    split = _split(key)
    if split is None:
        return None
    family, item = split
    entries, name_field, value_field, _, _ = FAMILIES[family]
    listed = sample.get(entries) or ()
    if family == "cpu_core":
        index = int(item)
        return float(listed[index]) if index < len(listed) else None
    for entry in listed:
        if entry.get(name_field) == item:
            value = entry.get(value_field)
            return None if value is None else float(value)
    return None


def is_container_key(key: str) -> bool:
    """Whether ``key`` is read from a containers list (:data:`CONTAINER_FAMILIES`)."""
    return key.partition(":")[0] in CONTAINER_FAMILIES


def expand(sample: dict, key: str) -> dict[str, float | None] | None:
    """For a key whose item is a pattern (``container_state:*``), each matching item's own key
    and value (``{"container_state:web": 0.0, ...}``); None for a key naming one item."""
    split = _split(key)
    if split is None or not any(c in split[1] for c in "*?["):
        return None
    family, item = split
    entries, name_field, value_field, _, _ = FAMILIES[family]
    return {f"{family}:{entry[name_field]}": (None if entry.get(value_field) is None
                                              else float(entry[value_field]))
            for entry in sample.get(entries) or ()
            if fnmatch.fnmatchcase(str(entry.get(name_field, "")), item)}


def known_keys() -> str:
    """The keys in words, for an error message."""
    return ", ".join(FLAT_KEYS) + ", " + ", ".join(f"{family}:<{fields[1] or 'n'}>"
                                                   for family, fields in FAMILIES.items())
