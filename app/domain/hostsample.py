"""What a host sample may hold: the payloads of ``POST /api/v1/samples`` (an agent's samples,
with their per-core, disk, interface, sensor and process details) and ``GET /api/v1/processes``.

Limits and grammars come from :mod:`app.sources.sample`, shared with what produces samples.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from app.sources.sample import (HOST_PATTERN, MAX_CORES, MAX_DISKS, MAX_INTERFACES,
                                MAX_PROCESSES, MAX_SAMPLES, MAX_SENSORS, MOUNT_PATTERN,
                                NAME_PATTERN)

from .container_schemas import AgentContainers
from .schemas import Strict, WholeNumber


# strict: JSON numbers only, never "12" or true read as 12 / 1.
Percent = Annotated[float, Field(ge=0, le=100, allow_inf_nan=False, strict=True)]



Amount = Annotated[float, Field(ge=0, allow_inf_nan=False, strict=True)]
Count = Annotated[int, WholeNumber(0, 2**63 - 1)]
Name = Annotated[str, Field(pattern=NAME_PATTERN)]
Celsius = Annotated[float, Field(ge=-273.15, le=10_000, allow_inf_nan=False, strict=True)]


class Disk(Strict):
    """One mounted file system: usage in bytes and percent."""

    mount: Annotated[str, Field(pattern=MOUNT_PATTERN)]
    device: Name
    fstype: Annotated[str, Field(pattern=r"^[^\x00-\x1f\x7f]{0,100}$")]
    percent: Percent
    used: Amount
    total: Amount


class DiskIO(Strict):
    """One whole disk's I/O over the last interval: bytes and operations per second."""

    device: Name
    read_bps: Amount
    write_bps: Amount
    read_iops: Amount
    write_iops: Amount
    busy_percent: Percent | None = None


class Interface(Strict):
    """One network interface: bytes per second, error and drop counts since boot, up or down."""

    name: Name
    rx_bps: Amount
    tx_bps: Amount
    errors: Count
    drops: Count
    up: Annotated[bool, Field(strict=True)]


class Sensor(Strict):
    """One temperature sensor in °C; ``high`` and ``critical`` where the sensor says."""

    label: Name
    celsius: Celsius
    high: Celsius | None = None
    critical: Celsius | None = None


class CpuTimes(Strict):
    """Percent of time in each CPU mode (``app.sources.sample.CPU_MODES``) the platform reports;
    the others are absent."""

    user: Percent | None = None
    nice: Percent | None = None
    system: Percent | None = None
    irq: Percent | None = None
    softirq: Percent | None = None
    iowait: Percent | None = None
    steal: Percent | None = None
    idle: Percent | None = None


class Process(Strict):
    """One process of a host's top list (``app.sources.processes.ProcessScanner.scan``):
    ``cpu_percent`` is of one CPU (so up to 100 x CPUs), ``rss`` bytes, ``runtime`` seconds."""

    pid: Annotated[int, WholeNumber(0, 2**31 - 1)]
    name: Annotated[str, Field(max_length=100)]
    user: Annotated[str, Field(max_length=100)] = ""
    cpu_percent: Amount
    mem_percent: Percent
    rss: Amount
    state: Annotated[str, Field(max_length=20)] = ""
    runtime: Amount | None = None
    cmdline: Annotated[str, Field(max_length=500)] | None = None


class SampleIn(Strict):
    """One host sample as ``app.sources.sampler.HostSampler`` makes it: ``host``, ``ts`` and every key
    of ``app.sources.sample.METRICS`` (a test keeps the two in step). Units: percents 0-100, bytes,
    bytes per second, seconds; ``ts`` is Unix seconds on the sampled machine's clock (shown
    nowhere as "last seen": see ``app.domain.fleet``); ``temperature`` is °C or null without a sensor.
    """

    host: Annotated[str, Field(pattern=HOST_PATTERN)]
    ts: Annotated[float, Field(gt=0, allow_inf_nan=False, strict=True)]
    cpu_percent: Percent
    cpu_count: Annotated[int, WholeNumber(1, 1_000_000)]
    mem_percent: Percent
    mem_used: Amount
    mem_total: Amount
    disk_percent: Percent
    disk_used: Amount
    disk_total: Amount
    net_rx_bps: Amount
    net_tx_bps: Amount
    load1: Amount
    load5: Amount
    load15: Amount
    uptime: Amount
    temperature: Annotated[float, Field(ge=-273.15, allow_inf_nan=False, strict=True)] | None
    # What an older agent does not send is absent (None), and shown as unknown.
    swap_percent: Percent | None = None
    swap_used: Amount | None = None
    swap_total: Amount | None = None
    cpu_cores: Annotated[list[Percent], Field(max_length=MAX_CORES)] | None = None
    cpu_times: CpuTimes | None = None
    disks: Annotated[list[Disk], Field(max_length=MAX_DISKS)] | None = None
    disk_io: Annotated[list[DiskIO], Field(max_length=MAX_DISKS)] | None = None
    interfaces: Annotated[list[Interface], Field(max_length=MAX_INTERFACES)] | None = None
    sensors: Annotated[list[Sensor], Field(max_length=MAX_SENSORS)] | None = None
    #: The agent's ``--processes`` scan, in some samples only; stored apart (``app.domain.processes``).
    processes: Annotated[list[Process], Field(max_length=MAX_PROCESSES)] | None = None
    #: The agent's ``--containers`` list, in some samples only; stored apart
    #: (``app.domain.containers``).
    containers: AgentContainers | None = None


class ProcessQuery(Strict):
    """Query string of ``GET /api/v1/processes``: ``host`` (default: the dashboard's own) and
    ``sort`` (``cpu`` or ``mem``, highest first)."""

    host: Annotated[str, Field(pattern=HOST_PATTERN)] | None = None
    sort: Literal["cpu", "mem"] = "cpu"


class ProcessList(Strict):
    """A host's latest process list: taken at ``ts`` (Unix seconds, the host's clock)."""

    host: Annotated[str, Field(pattern=HOST_PATTERN)]
    ts: float
    processes: list[Process]


class SamplesIn(Strict):
    """``POST /api/v1/samples``: ``{"samples": [SampleIn, ...]}``, 1 to :data:`MAX_SAMPLES`."""

    samples: Annotated[list[SampleIn], Field(min_length=1, max_length=MAX_SAMPLES)]
