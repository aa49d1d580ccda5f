"""Alert rules: what a threshold rule is (:class:`AlertRule`), the defaults, and the checks a
rule list must pass. Rules are evaluated by :class:`app.domain.alerts.Evaluator`.
"""

from __future__ import annotations

import fnmatch
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from .i18n import N_, Text
from .samplekeys import FAMILIES, FLAT_KEYS, known_keys, metric_of, valid_key

AlertLevel = Literal["warning", "error", "critical"]
_OPS = {">": (float.__gt__, N_("%(metric)s above %(value)s for %(seconds)s s")),
        ">=": (float.__ge__, N_("%(metric)s at or above %(value)s for %(seconds)s s")),
        "<": (float.__lt__, N_("%(metric)s below %(value)s for %(seconds)s s")),
        "<=": (float.__le__, N_("%(metric)s at or below %(value)s for %(seconds)s s"))}
#: Flat sample keys a rule may watch (per-item keys too: ``app.domain.samplekeys``).
RULE_METRICS = FLAT_KEYS
#: What ``metric`` may be, for the JSON Schema of rules (OpenAPI): a flat key, or
#: ``<family>:<item>`` with the item's grammar (``valid_key`` checks the same).
_METRIC_SCHEMA = {"anyOf": [{"enum": list(RULE_METRICS)}]
                  + [{"pattern": f"^{family}:{grammar[1:]}"}
                     for family, (*_, grammar, _metric) in FAMILIES.items()]}


class AlertRule(BaseModel):
    """One threshold rule: ``{"metric", "op", "value", "for", "level", "name", "hosts"}``.

    ``for`` is in seconds (0 fires on the first sample that matches); ``metric`` is a key of a
    host sample (``app.sources.sample.METRICS``) or a per-item key such as ``disk_percent:/var``
    (``app.domain.samplekeys``), compared in that metric's unit; ``hosts`` is a shell-style
    pattern (``web*``, ``db[12]``) of the host names the rule watches, every host by default.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True,
                              defer_build=True)

    metric: Annotated[str, Field(json_schema_extra=_METRIC_SCHEMA)]
    op: Literal[">", ">=", "<", "<="]
    value: Annotated[float, Field(allow_inf_nan=False)]
    for_: Annotated[float, Field(alias="for", ge=0, allow_inf_nan=False)] = 0.0
    level: AlertLevel = "warning"
    name: Annotated[str, Field(min_length=1, max_length=200)]
    hosts: Annotated[str, Field(min_length=1, max_length=253)] = "*"

    @field_validator("metric")
    @classmethod
    def _known(cls, value: str) -> str:
        if not valid_key(value):
            raise ValueError(f"unknown metric {value!r}; known: {known_keys()}")
        return value

    def applies_to(self, host: str) -> bool:
        """Whether the rule watches ``host`` (its ``hosts`` pattern, case-sensitive)."""
        return fnmatch.fnmatchcase(host, self.hosts)

    def holds(self, value: float | None) -> bool:
        """Whether ``value`` meets the condition; a missing value (no sensor) never does."""
        return value is not None and _OPS[self.op][0](float(value), self.value)

    def describe(self, key: str | None = None) -> str:
        """The condition in English words: ``"CPU above 90 % for 30 s"``; ``key``: the item a
        pattern matched (``container_state:web`` for ``container_state:*``).

        :raise KeyError: ``key`` is not a valid metric key."""
        return str(self.condition(key))

    def condition(self, key: str | None = None) -> Text:
        """The condition as a sentence for any language (:class:`~app.domain.i18n.Text`):
        what :meth:`describe` says in English. :raise KeyError: ``key`` is not valid."""
        key = key or self.metric
        family, _, item = key.partition(":")
        seconds = f"{self.for_:g}"
        if family == "container_state":
            return Text(N_("Container %(name)s not running for %(seconds)s s"), name=item,
                        seconds=seconds)
        if family == "container_health":
            return Text(N_("Container %(name)s unhealthy for %(seconds)s s"), name=item,
                        seconds=seconds)
        metric = metric_of(key)
        label = (Text(N_("%(metric)s %(item)s"), metric=Text(FAMILIES[family][4].label),
                      item=item) if family in FAMILIES and item else Text(metric.label))
        unit = f" {metric.unit}" if metric.unit else ""
        return Text(_OPS[self.op][1], metric=label, value=f"{self.value:g}{unit}",
                    seconds=seconds)

    def worse(self, a: float, b: float) -> float:
        """The value further into the alert zone: the max for ``>``/``>=``, else the min."""
        return max(a, b) if self.op.startswith(">") else min(a, b)


DEFAULT_RULES: tuple[AlertRule, ...] = (
    AlertRule(metric="cpu_percent", op=">", value=90, **{"for": 30}, level="warning", name="cpu-high"),
    AlertRule(metric="mem_percent", op=">", value=95, **{"for": 60}, level="critical", name="memory-high"),
    AlertRule(metric="disk_percent", op=">", value=95, **{"for": 60}, level="critical", name="disk-full"),
)


def check_names(rules: tuple[AlertRule, ...]) -> tuple[AlertRule, ...]:
    """Return ``rules`` if their names are unique (the evaluator keys its timers by name).

    :raise ValueError: naming the repeated names.
    """
    names = [rule.name for rule in rules]
    doubles = sorted({name for name in names if names.count(name) > 1})
    if doubles:
        raise ValueError(f"rule names must be unique; repeated: {', '.join(doubles)}")
    return rules
