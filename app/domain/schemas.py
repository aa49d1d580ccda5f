"""Payload schemas of the API, validated with pydantic; one place for their limits.

Nothing here knows HTTP: ``app.web.payload`` reads the request and turns a payload that fails
into :class:`~app.domain.payloads.BadPayload` (the status and message it deserves), and
``app.web.errors`` answers.

Loaded by the first request that needs a schema, not at start (``docs/performance.md``): what
code loaded at start needs (``BadPayload``, ``FINAL_STATES``, ``TASK_ID_PATTERN``) lives in the
pydantic-free ``app.domain.payloads``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Literal

from pydantic import (BaseModel, ConfigDict, Field, StringConstraints, field_validator,
                      model_validator)

from app.domain.history import CUSTOM_PREFIX, HISTORY_KEYS, RANGES
from app.sources.sample import HOST_PATTERN, METRICS

from .alerts import AlertRule, check_names
from .payloads import TASK_ID_PATTERN
from .rules import MAX_RULES

Level = Literal["info", "warning", "error", "critical"]
TaskState = Literal["pending", "running", "succeeded", "failed"]
#: Text with something besides white space (which is stripped). The pattern says so in the
#: OpenAPI document, with Python's white space spelled out: JSON Schema's ``\s`` (ECMAScript's)
#: leaves out some that ``str.strip`` removes, such as U+0085.
Text = Annotated[str, StringConstraints(
    strip_whitespace=True, min_length=1,
    pattern=r"[^\t\n\x0b\x0c\r\x1c-\x20\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]")]
#: A log id: what both stores can hold (SQLite's INTEGER is 64-bit signed).
LogId = Annotated[int, Field(ge=0, le=2**63 - 1)]


def _whole(value: float) -> int:
    if not value.is_integer():
        raise ValueError("a fraction")
    return int(value)


@dataclass(frozen=True)
class WholeNumber:
    """An integer from ``ge`` to ``le``, as ``Annotated[int, WholeNumber(0, 100)]``.

    JSON (and the JSON Schema of the OpenAPI document) counts a number without a fraction as an
    integer, so ``4.0`` is ``4``; ``"4"``, ``true`` and ``4.5`` are refused, in strict mode or
    not, with pydantic's own errors (``int_type``, ``greater_than_equal``, ...). Built from
    pydantic-core's validators alone: an agent's batch holds hundreds of such numbers, and a
    Python validator called for each cost several percent of a fleet's ingest CPU (issue 29).
    """

    ge: int
    le: int

    def __get_pydantic_core_schema__(self, _source, _handler):
        from pydantic_core import core_schema as cs

        # An int as is (no Python call); else a JSON number, never a string or a bool, with no
        # fraction. Not a lax int_schema: the API validates in strict mode, which makes it strict.
        number = cs.union_schema(
            [cs.int_schema(strict=True),
             cs.no_info_after_validator_function(
                 _whole, cs.float_schema(strict=True, allow_inf_nan=False))],
            mode="left_to_right", custom_error_type="int_type")
        return cs.chain_schema([number, cs.int_schema(ge=self.ge, le=self.le)])

    def __get_pydantic_json_schema__(self, _schema, handler):
        from pydantic_core import core_schema as cs

        return handler(cs.int_schema(ge=self.ge, le=self.le))


class Strict(BaseModel):
    """A payload model: no unknown field, immutable, compiled on first use."""

    # defer_build: a model is compiled when first used, so an idle worker holds none of them.
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)


class NoBy(Strict):
    """A payload of an action whose author the server sets from the credential: a ``by`` in
    the body is refused with a message that says so (422)."""

    @model_validator(mode="before")
    @classmethod
    def _no_by(cls, data):
        if isinstance(data, dict) and "by" in data:
            raise ValueError("'by' is set by the server from your credential (the signed-in "
                             "person or the API key); leave it out")
        return data


class EventIn(Strict):
    """An event for the feed: ``{"level": "info", "message": "...", "source": "..."}``."""

    level: Level = "info"
    message: Annotated[Text, Field(max_length=2000)]
    source: Annotated[Text, Field(max_length=200)] | None = None


class SimulatedEvents(Strict):
    """``POST /simulator/events``: ``count`` events, random unless level/message are given."""

    count: Annotated[int, Field(ge=1, le=1000)] = 1
    level: Level | None = None
    message: Annotated[Text, Field(max_length=2000)] | None = None
    source: Annotated[Text, Field(max_length=200)] = "simulator"


class MetricOverride(Strict):
    """``POST /simulator/metrics``: replace sampled values for ``seconds`` seconds.

    ``values`` maps a sample key (``cpu_percent``, ``mem_percent``, ...: see
    ``app.sources.sample.METRICS``) to the number the dashboard shows instead of psutil's.
    """

    values: dict[str, Annotated[float, Field(allow_inf_nan=False)]] = Field(min_length=1)
    seconds: Annotated[float, Field(gt=0, le=3600)] = 30.0

    @field_validator("values")
    @classmethod
    def _known(cls, values: dict[str, float]) -> dict[str, float]:
        unknown = sorted(set(values) - set(METRICS))
        if unknown:
            raise ValueError(f"unknown metric(s) {', '.join(unknown)}; known: {', '.join(METRICS)}")
        return values


class TaskIn(Strict):
    """``PUT /api/v1/tasks/<task_id>``: the task's whole current state.

    ``progress`` is a percentage, 0-100; ``estimated_seconds`` the seconds the sender expects
    the task still needs (optional); ``message`` a line of text shown next to the bar;
    ``source`` who runs it (optional: an agent's session, whose stream shows it, as events'
    and approvals' ``source`` do: ``app.live.compat``).
    """

    state: TaskState
    progress: Annotated[float, Field(ge=0, le=100, allow_inf_nan=False)]
    message: Annotated[Text, Field(max_length=500)] | None = None
    estimated_seconds: Annotated[float, Field(ge=0, le=10_000_000, allow_inf_nan=False)] | None = None
    source: Annotated[Text, Field(max_length=200)] | None = None


class Task(TaskIn):
    """A stored task as the API returns it: :class:`TaskIn` plus its id and ``updated_at``
    (Unix seconds at which the dashboard accepted the update)."""

    task_id: Annotated[str, Field(pattern=TASK_ID_PATTERN)]
    updated_at: float


class EventQuery(Strict):
    """Query string of ``GET /api/v1/events``: ``level``, ``since`` (a log id), ``limit``."""

    level: Level | None = None
    since: LogId = 0
    limit: Annotated[int, Field(ge=1, le=500)] = 100


#: ``metric`` of a history query: a kept sample key, or ``custom:`` and a series key.
HISTORY_METRIC_PATTERN = (rf"^({'|'.join(HISTORY_KEYS)}|{CUSTOM_PREFIX}.+"
                          r"|container_(cpu|memory):[A-Za-z0-9_.-]{1,128})$")
#: Latest Unix time a history query may name (the end of year 9999).
MAX_TIME = 253402300799.0
UnixTime = Annotated[float, Field(ge=0, le=MAX_TIME, allow_inf_nan=False)]


class HistoryQuery(Strict):
    """Query string of ``GET /api/v1/history``: ``metric`` (a sample key, ``custom:<series
    key>`` or ``container_cpu:<name>`` / ``container_memory:<name>``), then either ``range`` (``5m`` ... ``1y``, back from now; ``1h`` when neither is
    given) or ``from`` and ``to`` (Unix seconds; ``to`` defaults to now); optional ``host``
    (default: the dashboard's own) and ``step`` (seconds per point, at least)."""

    metric: Annotated[str, Field(max_length=400, pattern=HISTORY_METRIC_PATTERN)]
    range: Literal[tuple(RANGES)] | None = None  # type: ignore[valid-type]
    from_: Annotated[UnixTime | None, Field(alias="from")] = None
    to: UnixTime | None = None
    host: Annotated[str, Field(pattern=HOST_PATTERN)] | None = None
    step: Annotated[float, Field(gt=0, le=10 * 365 * 86400, allow_inf_nan=False)] | None = None


class TaskQuery(Strict):
    """Query string of ``GET /api/v1/tasks``: ``limit`` (newest first)."""

    limit: Annotated[int, Field(ge=1, le=1000)] = 100


class ScenarioIn(Strict):
    """``POST /simulator/scenarios/<name>``, optional body: ``{"seconds": N}``, its duration."""

    seconds: Annotated[float, Field(gt=0, le=3600, allow_inf_nan=False)] | None = None


class SimulatedHost(Strict):
    """``POST /simulator/host``: ``{"enabled": true}`` replaces psutil readings with generated ones."""

    enabled: bool


class AlertIn(Strict):
    """``POST /api/v1/alerts``: ``{"name", "level", "message", "source"}`` raises a firing alert."""

    name: Annotated[Text, Field(max_length=200)]
    level: Literal["warning", "error", "critical"] = "warning"
    message: Annotated[Text, Field(max_length=2000)]
    source: Annotated[Text, Field(max_length=200)] | None = None


class AckIn(NoBy):
    """``POST /api/v1/alerts/<id>/ack``: an empty object or no body; who acknowledged it comes
    from the credential."""


class RulesIn(NoBy):
    """``PUT /api/v1/rules``: ``{"rules": [rule, ...]}``, the whole list (the shape of
    ``DASHBOARD_ALERT_RULES``; names unique; ``[]`` turns rules off)."""

    rules: Annotated[list[AlertRule], Field(max_length=MAX_RULES)]

    @field_validator("rules")
    @classmethod
    def _unique(cls, value: list[AlertRule]) -> list[AlertRule]:
        check_names(tuple(value))
        return value


#: Prometheus' metric-name grammar; label names follow its label grammar.
METRIC_NAME = r"^[a-zA-Z_:][a-zA-Z0-9_:]*$"
LABEL_NAME = r"^[a-zA-Z_][a-zA-Z0-9_]*$"
LabelName = Annotated[str, StringConstraints(pattern=LABEL_NAME, max_length=100)]
LabelValue = Annotated[str, StringConstraints(max_length=200)]


class CustomMetric(Strict):
    """One reading: ``{"name", "value", "type", "unit", "labels"}``; ``value`` is finite."""

    name: Annotated[str, StringConstraints(pattern=METRIC_NAME, max_length=200)]
    value: Annotated[float, Field(allow_inf_nan=False)]
    type: Literal["gauge", "counter"] = "gauge"
    unit: Annotated[str, StringConstraints(strip_whitespace=True, max_length=30)] = ""
    # The JSON schema pydantic writes would let keys outside the pattern through with any value:
    # say what the validation does (a test fuzzes the API from this document).
    labels: Annotated[dict[LabelName, LabelValue], Field(max_length=20, json_schema_extra={
        "additionalProperties": False,
        "propertyNames": {"pattern": LABEL_NAME, "maxLength": 100}})] = {}


class MetricsIn(Strict):
    """``POST /api/v1/metrics``: ``{"metrics": [CustomMetric, ...]}``, 1 to 1000 of them."""

    metrics: Annotated[list[CustomMetric], Field(min_length=1, max_length=1000)]
