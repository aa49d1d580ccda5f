"""What a containers list may hold: ``GET /api/v1/containers`` answers with it, and an agent run
with ``--containers`` sends it in ``POST /api/v1/samples`` (``app.domain.hostsample``).

Rows are as :func:`app.sources.containers.row_of` and
:meth:`app.sources.containers.Engine.read_stats` make them; see :mod:`app.domain.containers`.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from app.sources.sample import HOST_PATTERN

from .schemas import Strict, WholeNumber

#: Containers one list may hold.
MAX_CONTAINERS = 1000
Amount = Annotated[float, Field(ge=0, allow_inf_nan=False, strict=True)]
Text = Annotated[str, Field(pattern=r"^[^\x00-\x1f\x7f]{0,200}$")]


class Container(Strict):
    """One container. ``state`` is the engine's word (running, restarting, paused, exited,
    created, dead); ``exit_code`` once it exited; ``health`` healthy, unhealthy, starting or
    none; ``started`` and ``ts`` Unix seconds; ``uptime`` seconds (running ones; answers only);
    ``cpu_percent`` percent of one CPU (up to 100 x CPUs, as ``docker stats``); ``mem_used``,
    ``mem_limit`` bytes and ``mem_percent`` of the limit; ``net_rx_bps``, ``net_tx_bps``,
    ``block_read_bps``, ``block_write_bps`` bytes per second. The figures are present only when
    statistics were read (while someone views the host or a rule needs them); ``command`` only
    with ``DASHBOARD_SHOW_CMDLINE=1``. Labels and environment are never kept."""

    id: Annotated[str, Field(pattern=r"^[0-9a-f]{1,64}$")]
    name: Annotated[str, Field(pattern=r"^[^\x00-\x1f\x7f]{1,128}$")]
    image: Text = ""
    state: Annotated[str, Field(pattern=r"^[a-z]{1,20}$")]
    exit_code: Annotated[int, WholeNumber(-(2**31), 2**31 - 1)] | None = None
    oom_killed: bool = False
    health: Literal["healthy", "unhealthy", "starting", "none"] = "none"
    started: Amount | None = None
    uptime: Amount | None = None
    restarts: Annotated[int, WholeNumber(0, 2**31 - 1)] = 0
    cpu_percent: Amount | None = None
    mem_used: Amount | None = None
    mem_limit: Amount | None = None
    mem_percent: Amount | None = None
    net_rx_bps: Amount | None = None
    net_tx_bps: Amount | None = None
    block_read_bps: Amount | None = None
    block_write_bps: Amount | None = None
    command: Annotated[str, Field(max_length=500)] | None = None


class ContainerQuery(Strict):
    """Query string of ``GET /api/v1/containers``: ``host`` (default: the dashboard's own),
    ``sort`` (``cpu`` or ``memory``: running ones first, highest first)."""

    host: Annotated[str, Field(pattern=HOST_PATTERN)] | None = None
    sort: Literal["cpu", "memory"] = "cpu"


class ContainerList(Strict):
    """A host's latest containers: read at ``ts`` (Unix seconds) from ``engine`` (``Docker
    20.10.24``; null while no engine answers, and then no container is listed)."""

    host: Annotated[str, Field(pattern=HOST_PATTERN)]
    ts: float
    engine: Annotated[str, Field(max_length=100)] | None
    containers: Annotated[list[Container], Field(max_length=MAX_CONTAINERS)]


class AgentContainers(Strict):
    """What an agent run with ``--containers`` adds to some samples: ``engine`` (null while
    none answers on its machine) and its ``containers``."""

    engine: Annotated[str, Field(max_length=100)] | None
    containers: Annotated[list[Container], Field(max_length=MAX_CONTAINERS)]
