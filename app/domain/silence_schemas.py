"""The payloads of silences: ``POST /api/v1/silences`` (:class:`SilenceIn`) and the page's
Silence buttons (:class:`SilenceForm`)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import ConfigDict, Field, model_validator
from pydantic.json_schema import SkipJsonSchema

from .payloads import SILENCE_MAX
from .schemas import NoBy, Strict, Text


def _absent():
    """The default of a field that may be left out but not sent as null: its schema says no
    ``default: null``, which its own ``type`` forbids (openapi-spec-validator refuses it)."""
    return Field(default=None, json_schema_extra=lambda schema: schema.pop("default", None))


def _refuse_nulls(data, names: tuple[str, ...]):
    """``data`` as it came, unless it sends null for one of ``names`` (fields declared with
    :func:`_absent`, whose schema does not allow null).

    :raise ValueError: naming those fields.
    """
    if isinstance(data, dict):
        sent = [name for name in names if name in data and data[name] is None]
        if sent:
            raise ValueError(f"{', '.join(sent)}: leave it out rather than send null")
    return data


class SilenceMatchers(Strict):
    """What a silence covers: every matcher given (at least one) must match. ``name`` and
    ``host`` are shell-style patterns (``cpu-*``), ``level`` is exact."""

    model_config = ConfigDict(json_schema_extra={"minProperties": 1})

    name: Annotated[Text, Field(max_length=200)] | SkipJsonSchema[None] = _absent()
    host: Annotated[Text, Field(max_length=253)] | SkipJsonSchema[None] = _absent()
    level: Literal["warning", "error", "critical"] | SkipJsonSchema[None] = _absent()

    @model_validator(mode="before")
    @classmethod
    def _no_nulls(cls, data):
        return _refuse_nulls(data, ("name", "host", "level"))

    @model_validator(mode="after")
    def _some(self):
        if self.name is None and self.host is None and self.level is None:
            raise ValueError("give at least one of name, host, level")
        return self


class SilenceIn(NoBy):
    """``POST /api/v1/silences``: ``matchers`` and either ``duration`` (seconds, 1 s to a year)
    or ``ends_at`` (Unix seconds, in the future; the server caps it a year ahead); ``comment`` is for people. Who made it comes
    from the credential."""

    model_config = ConfigDict(json_schema_extra={
        "oneOf": [{"required": ["duration"]}, {"required": ["ends_at"]}]})

    matchers: SilenceMatchers
    duration: (Annotated[float, Field(ge=1, le=SILENCE_MAX, allow_inf_nan=False)]
               | SkipJsonSchema[None]) = _absent()
    ends_at: Annotated[float, Field(gt=0, le=2**53, allow_inf_nan=False)] | SkipJsonSchema[None] = _absent()
    comment: Annotated[Text, Field(max_length=500)] | None = None

    @model_validator(mode="before")
    @classmethod
    def _no_nulls(cls, data):
        return _refuse_nulls(data, ("duration", "ends_at"))

    @model_validator(mode="after")
    def _one_end(self):
        if (self.duration is None) == (self.ends_at is None):
            raise ValueError("give either duration or ends_at")
        return self


class SilenceForm(Strict):
    """The page's Silence buttons (``POST /ui/alerts/<id>/silence``), form-encoded."""

    hours: Literal["1", "4", "24"]
