"""What an alert rule's ``metric`` may name, and its value in a sample.

A key is a flat sample key (``cpu_percent``, ``swap_percent``...: ``app.sources.sample.METRICS``
but ``cpu_count``) or a per-item key ``<family>:<item>``:

- ``disk_percent:<mount>``: the usage of the file system mounted there (``disk_percent:/var``);
- ``temperature:<label>``: one sensor's reading in °C (``temperature:coretemp Core 0``);
- ``cpu_core:<n>``: logical CPU ``n``'s busy percent (from 0);
- ``interface_rx_bps:<name>``, ``interface_tx_bps:<name>``: one interface's rates (bytes/s).

An item the sample does not list (an unmounted disk, a host without sensors) has no value, and
a rule on it neither fires nor keeps firing.
"""

from __future__ import annotations

import re

from app.sources.sample import METRICS, MOUNT_PATTERN, NAME_PATTERN, Metric

#: Flat keys a rule may watch: every number a sample carries but the CPU count.
FLAT_KEYS = tuple(key for key in METRICS if key != "cpu_count")
#: Per-item families: (sample list, the field naming an item, the field read, item grammar, metric).
FAMILIES: dict[str, tuple[str, str, str, str, Metric]] = {
    "disk_percent": ("disks", "mount", "percent", MOUNT_PATTERN,
                     Metric("Disk", "%", "psutil.disk_usage(mount).percent")),
    "temperature": ("sensors", "label", "celsius", NAME_PATTERN,
                    Metric("Temperature", "°C", "psutil.sensors_temperatures()")),
    "interface_rx_bps": ("interfaces", "name", "rx_bps", NAME_PATTERN,
                         Metric("Received", "bytes/s", "psutil.net_io_counters(pernic=True)")),
    "interface_tx_bps": ("interfaces", "name", "tx_bps", NAME_PATTERN,
                         Metric("Sent", "bytes/s", "psutil.net_io_counters(pernic=True)")),
    "cpu_core": ("cpu_cores", "", "", r"^[0-9]{1,4}$",
                 Metric("CPU core", "%", "psutil.cpu_percent(percpu=True)")),
}


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


def known_keys() -> str:
    """The keys in words, for an error message."""
    return ", ".join(FLAT_KEYS) + ", " + ", ".join(f"{family}:<{fields[1] or 'n'}>"
                                                   for family, fields in FAMILIES.items())
