"""The query strings of the JSON streams (``app.web.api.stream``, and the SSE demo's paths in
``app.web.compat.demo``), validated with pydantic like the payloads of ``app.domain.schemas``;
loaded by the first stream request, not at start (``docs/performance.md``)."""

from __future__ import annotations

from pydantic import field_validator

from app.domain.schemas import LogId, Strict
from app.live.jsonstream import CHANNELS

from .stream import channel_set


class ResumeQuery(Strict):
    """Query of the JSON streams: where to resume when the client has no ``Last-Event-ID``."""

    last_event_id: LogId | None = None


class StreamQuery(ResumeQuery):
    """``GET /api/v1/stream``: ``channels``, comma-separated (default: all four)."""

    channels: str = ",".join(CHANNELS)

    @field_validator("channels")
    @classmethod
    def _known(cls, value: str) -> str:
        channel_set(value)
        return value
