"""The one Server-Sent Events encoder (WHATWG HTML, "Server-sent events").

Deliberate choices, do not "fix" without reading why:
- Lines end with ``\\n`` only. The spec accepts ``\\r\\n``, ``\\r`` and ``\\n``; one byte is cheaper.
- ``data`` is split on every line break (``\\r\\n``, ``\\r``, ``\\n``) into several ``data:`` lines,
  so a fragment of HTML can never end a message early with a blank line.
- ``id`` and ``event`` must be one line: line breaks in them are removed, and a NUL in ``id`` is
  removed too, because browsers ignore an id that holds one.
- ``data=""`` still writes one ``data:`` line (an empty message that clients see); ``data=None``
  writes none (a message of ``id``/``retry`` only, or a comment).
"""

from __future__ import annotations

import re

_LINE_BREAK = re.compile(r"\r\n|\r|\n")
HEARTBEAT = b": ping\n\n"


def _one_line(value: str) -> str:
    return _LINE_BREAK.sub("", value)


def encode(
    data: str | None = None,
    *,
    event: str | None = None,
    id: int | str | None = None,  # noqa: A002 - the SSE field's own name
    retry: int | None = None,
    comment: str | None = None,
) -> bytes:
    """Encode one SSE message (or a comment) as UTF-8 bytes ending with the blank line.

    :param data: the payload; several lines become several ``data:`` fields.
    :param event: the event name; omitted for unnamed messages (htmx swaps those).
    :param id: the log id; the browser echoes it back as ``Last-Event-ID`` on reconnect.
    :param retry: reconnection delay in milliseconds (a non-negative integer).
    :param comment: comment text; each line becomes ``: text`` (heartbeats use this).
    :raise ValueError: for a negative ``retry`` or a message with no field at all.
    """
    out: list[str] = []
    if comment is not None:
        out.extend(f": {line}" if line else ":" for line in _LINE_BREAK.split(comment))
    if id is not None:
        out.append(f"id: {_one_line(str(id)).replace(chr(0), '')}")
    if event is not None:
        out.append(f"event: {_one_line(event)}")
    if retry is not None:
        if retry < 0:
            raise ValueError("retry must be a non-negative number of milliseconds")
        out.append(f"retry: {int(retry)}")
    if data is not None:
        out.extend(f"data: {line}" if line else "data:" for line in _LINE_BREAK.split(data))
    if not out:
        raise ValueError("an SSE message needs at least one field or a comment")
    return ("\n".join(out) + "\n\n").encode()
