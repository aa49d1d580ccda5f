"""How the stores read and write the JSON they hold: the log's items, the state, the audit
entries.

Every worker's tailer decodes every item of the log (a host's sample with its process table is
about 3 KB of JSON); orjson decodes such an item about 5 times faster than the standard
library's ``json`` (54 against 10 microseconds on this machine), which was 15 % of the
dashboards' CPU in ``bench.fleetload``. The ingest path's batches are written with orjson too
(:func:`dumps_finite`); other writes use :func:`dumps` (``json.dumps``), which keeps ``NaN``.
"""

from __future__ import annotations

import json

import orjson


def loads(text: str | bytes):
    """The value of the JSON ``text`` (dicts, lists, str, int, float, bool, None).

    What orjson refuses and ``json`` takes goes to ``json``: ``NaN`` and ``Infinity``, which
    ``json.dumps`` writes for such floats, and a lone surrogate. An integer beyond 64 bits
    comes back a float, where ``json`` gives it exactly; no payload schema lets one in (their
    counts stop at 2**63 - 1, ``app.domain.hostsample``).

    :raise ValueError: neither takes it (``json.JSONDecodeError``).
    """
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return json.loads(text)


def dumps(value) -> str:
    """``value`` as compact JSON (``json.dumps``: ``NaN`` and ``Infinity`` are kept, and
    :func:`loads` reads them back).

    :raise TypeError: a value JSON cannot hold.
    """
    return json.dumps(value, separators=(",", ":"))


def dumps_finite(value) -> bytes:
    """``value`` as compact JSON (UTF-8), for a value whose floats are all finite: what a
    payload schema let in (``allow_inf_nan=False``), as the samples of ``POST /api/v1/samples``.

    orjson writes a ``NaN`` or an infinity as ``null``, so it must not get one; what it refuses
    (an integer beyond 64 bits, a lone surrogate, a key that is not a string) goes to ``json``.

    :raise TypeError: ``json`` cannot write it either.
    """
    try:
        return orjson.dumps(value)
    except orjson.JSONEncodeError:
        return dumps(value).encode()
