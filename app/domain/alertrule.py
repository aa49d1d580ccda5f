"""Alert rules: what a threshold rule is (:class:`AlertRule`), the defaults, and the checks a
rule list must pass. Rules are evaluated by :class:`app.domain.alerts.Evaluator`.

A rule is a plain dataclass, not a pydantic model: a worker at rest (sampler on, nobody
viewing) builds, stores, loads and evaluates rules without importing pydantic, which would cost
it about 9 MB. Pydantic still validates every rule that comes from outside
(``DASHBOARD_ALERT_RULES``, ``PUT /api/v1/rules``, :func:`app.domain.rules.parse`) by the
constraints in the annotations of :class:`AlertRule`. Those are strings (``from __future__
import annotations``) that pydantic reads only when it first builds a schema holding a rule,
so the pydantic names they use are imported then (:func:`_import_annotation_names`), not here.
"""

from __future__ import annotations

import dataclasses
import fnmatch
from typing import TYPE_CHECKING, Annotated, Literal

from .i18n import N_, Text
from .samplekeys import FAMILIES, FLAT_KEYS, known_keys, metric_of, valid_key

if TYPE_CHECKING:
    from pydantic import AfterValidator, Field

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


def _known(metric: str) -> str:
    """``metric`` if a rule may watch it. :raise ValueError: naming the keys it may."""
    if not valid_key(metric):
        raise ValueError(f"unknown metric {metric!r}; known: {known_keys()}")
    return metric


def _import_annotation_names() -> None:
    """Import the pydantic names that the annotations of :class:`AlertRule` use, into this
    module, where pydantic looks them up when it reads them."""
    global AfterValidator, Field  # noqa: PLW0603 - see the module docstring
    from pydantic import AfterValidator, Field


@dataclasses.dataclass(frozen=True, kw_only=True)
class AlertRule:
    """One threshold rule: ``{"metric", "op", "value", "for", "level", "name", "hosts"}``.

    ``for`` is in seconds (0 fires on the first sample that matches); ``metric`` is a key of a
    host sample (``app.sources.sample.METRICS``) or a per-item key such as ``disk_percent:/var``
    (``app.domain.samplekeys``), compared in that metric's unit; ``hosts`` is a shell-style
    pattern (``web*``, ``db[12]``) of the host names the rule watches, every host by default.
    """

    # A plain dataclass, validated by pydantic at the edges, so that a worker at rest never
    # imports pydantic (module docstring). Said here, not in the docstring above: that one is
    # the rule's description in the OpenAPI document.
    __pydantic_config__ = {"extra": "forbid", "populate_by_name": True}

    metric: Annotated[str, Field(json_schema_extra=_METRIC_SCHEMA), AfterValidator(_known)]
    op: Literal[">", ">=", "<", "<="]
    value: Annotated[float, Field(allow_inf_nan=False)]
    for_: Annotated[float, Field(alias="for", ge=0, allow_inf_nan=False)] = 0.0
    level: AlertLevel = "warning"
    name: Annotated[str, Field(min_length=1, max_length=200)]
    hosts: Annotated[str, Field(min_length=1, max_length=253)] = "*"

    def __post_init__(self) -> None:
        """Check what evaluating needs, for a rule built in Python (``for_=``, or
        :meth:`from_stored`); pydantic has checked the rest of those that came from outside.
        ``value`` and ``for_`` become floats.

        :raise ValueError: an unknown ``metric`` or ``op``, or a ``value`` or ``for_`` that
            ``float()`` refuses (TypeError if it is neither number nor string).
        """
        _known(self.metric)
        if self.op not in _OPS:
            raise ValueError(f"unknown op {self.op!r}; known: {', '.join(_OPS)}")
        object.__setattr__(self, "value", float(self.value))  # frozen: as its __init__ does
        object.__setattr__(self, "for_", float(self.for_))

    @classmethod
    def from_stored(cls, data: dict) -> AlertRule:
        """The rule :meth:`stored` wrote, not validated again (it was when it came in).

        :raise TypeError: ``data`` is no dict, or a key is unknown or a required one missing.
        :raise ValueError: as the constructor (:meth:`__post_init__`).
        """
        if not isinstance(data, dict):
            raise TypeError(f"a rule is a JSON object, not {type(data).__name__}")
        return cls(**{("for_" if key == "for" else key): value for key, value in data.items()})

    def stored(self) -> dict:
        """The rule as a JSON object (what :meth:`from_stored` reads): ``for`` under its own
        name, ``value`` and ``for`` floats, as pydantic dumps a rule by alias."""
        return {("for" if key == "for_" else key): value for key, value in vars(self).items()}

    @classmethod
    def __get_pydantic_core_schema__(cls, source, handler):
        """How pydantic validates a rule: as a dict of the fields it reads from the annotations
        (``typed_dict_schema``), then built by the constructor; dumped and described in JSON
        Schema as pydantic does the dataclass.

        Why not pydantic's own schema of the dataclass: validating strictly, as the API does
        its payloads (``app.web.payload``), it takes an instance only, never a dict
        (``dataclass_exact_type``); and of an unknown key it says "Unexpected keyword
        argument", where a dict says "Extra inputs are not permitted" as the models do.
        """
        from pydantic_core import core_schema

        _import_annotation_names()
        # The class's ref moves to the schema made here: pydantic reuses the schema under it
        # wherever a rule appears again (a second field), and names it so in JSON Schema.
        own = dict(handler.resolve_ref_schema(handler(source)))
        ref = own.pop("ref")
        fields = {field["name"]: core_schema.typed_dict_field(
                      field["schema"], required=field["schema"]["type"] != "default",
                      validation_alias=field.get("validation_alias"),
                      serialization_alias=field.get("serialization_alias"),
                      metadata=field.get("metadata"))
                  for field in own["schema"]["fields"]}
        as_dict = core_schema.typed_dict_schema(fields, cls=cls, config=own.get("config"))
        return core_schema.no_info_wrap_validator_function(
            cls._from_dict, as_dict, ref=ref,
            # Else the serializer of a dict would be asked to dump a rule.
            serialization=core_schema.wrap_serializer_function_ser_schema(
                lambda rule, serialize: serialize(rule), schema=own))

    @classmethod
    def _from_dict(cls, data, validate) -> AlertRule:
        """``data`` if it is a rule, else the rule its fields make once ``validate`` passed
        them."""
        return data if isinstance(data, cls) else cls(**validate(data))

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
    AlertRule(metric="cpu_percent", op=">", value=90, for_=30, level="warning", name="cpu-high"),
    AlertRule(metric="mem_percent", op=">", value=95, for_=60, level="critical",
              name="memory-high"),
    AlertRule(metric="disk_percent", op=">", value=95, for_=60, level="critical",
              name="disk-full"),
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
