"""The history tiers' shared vocabulary: names, retention, and the compact row encoding.

SQLite keeps a host's history as rows, one per raw sample or per rolled-up bucket, each holding
*all* the keys of that row in one small binary value, so a year of a host fits in tens of
megabytes (``bench/history.py`` measures it). Redis keeps chunks of many such rows per member
in 32-bit floats (:mod:`.redis_chunks`; its first format, still read until it ages out, used
these rows as members). The row values:

- raw value: ``<H n>`` then ``n`` key ids ``<H>`` (ascending), then ``n`` doubles ``<d>``;
- rolled-up value: the same header, then per key ``<dddI>``: min, max, sum, count.

Key names (``cpu_percent``, ``custom:queue_depth``) become small ids through a dictionary the
backend keeps (one id per name, shared by all hosts). Keys of one host without a ``:`` share
rows; each key with a ``:`` (a custom series) has rows of its own, so a hundred custom series
do not make every host sample's row a hundred keys wide.
"""

from __future__ import annotations

import math
import struct
from dataclasses import dataclass
from functools import lru_cache

#: Tier name -> bucket length in seconds (``0``: raw samples, no bucket).
TIERS: dict[str, int] = {"raw": 0, "1m": 60, "1h": 3600}
#: Key ids fit an unsigned short; names beyond this many are not kept (never reached in practice:
#: a host has 11 keys and custom series are capped at 100 at a time).
MAX_KEY_ID = 65535

_COUNT = struct.Struct("<H")
_VALUE = struct.Struct("<d")
_AGG = struct.Struct("<dddI")
#: A Redis member starts with its time (raw: milliseconds; buckets: seconds) so that two rows
#: with equal values stay distinct members.
STAMP = struct.Struct("<q")

#: One point as :meth:`app.store.Store.history` returns it: (t, min, avg, max, count).
Point = tuple[float, float, float, float, int]
#: Rolled-up figures of one key in one bucket: (min, max, sum, count).
Agg = tuple[float, float, float, int]


@dataclass(frozen=True)
class Retention:
    """Seconds each tier keeps, counted back from now (``DASHBOARD_HISTORY_RAW``,
    ``..._MINUTE``, ``..._HOUR``)."""

    raw: float = 86400.0
    minute: float = 30 * 86400.0
    hour: float = 365 * 86400.0

    def of(self, tier: str) -> float:
        """Seconds kept in ``tier`` (``raw``, ``1m`` or ``1h``)."""
        return {"raw": self.raw, "1m": self.minute, "1h": self.hour}[tier]


def group(key: str) -> str:
    """The row group of ``key``: ``""`` for a plain key, the key itself for ``prefix:name``."""
    return key if ":" in key else ""


def raw_stamp(ts: float) -> int:
    """The raw tier's key of a sample taken at ``ts`` (Unix seconds): its whole second, in
    milliseconds. A host keeps at most one raw sample a second: a second one within the same
    second adds nothing (to the raw tier or the rollups), so an agent that sends a sample per
    millisecond costs no more rows, and a read no more work, than one that sends one a second."""
    return int(math.floor(ts)) * 1000


def bucket(ts: float, tier: str) -> int:
    """Start of the ``tier`` bucket holding ``ts`` (Unix seconds), a multiple of its length."""
    step = TIERS[tier]
    return int(math.floor(ts / step)) * step


@lru_cache(maxsize=512)
def _layout(header: bytes, rolled: bool) -> tuple[tuple[int, ...], struct.Struct]:
    n = len(header) // 2
    ids = struct.unpack(f"<{n}H", header)
    return ids, struct.Struct("<" + ("dddI" * n if rolled else f"{n}d"))


def encode_raw(values: dict[int, float]) -> bytes:
    """Pack ``{key id: value}`` as a raw row value."""
    ids = sorted(values)
    return struct.pack(f"<H{len(ids)}H{len(ids)}d", len(ids), *ids, *(values[i] for i in ids))


def encode_rolled(aggs: dict[int, Agg]) -> bytes:
    """Pack ``{key id: (min, max, sum, count)}`` as a rolled-up row value."""
    ids = sorted(aggs)
    flat = [x for i in ids for x in aggs[i]]
    return struct.pack(f"<H{len(ids)}H" + "dddI" * len(ids), len(ids), *ids, *flat)


def decode(value: bytes, rolled: bool, offset: int = 0) -> dict[int, tuple]:
    """Unpack a row value from ``offset``: ``{key id: (value,)}`` or ``{key id: Agg}``."""
    n = _COUNT.unpack_from(value, offset)[0]
    ids, fmt = _layout(bytes(value[offset + 2:offset + 2 + 2 * n]), rolled)
    flat = fmt.unpack_from(value, offset + 2 + 2 * n)
    width = 4 if rolled else 1
    return {key: flat[i * width:(i + 1) * width] for i, key in enumerate(ids)}


class Reader:
    """Turns row values into :data:`Point` lists of some keys, fast: each distinct row header
    (the set of key ids) is planned once, then each row costs one ``unpack_from`` per key.

    :param wanted: ``[(key name, key id), ...]``.
    :param offset: where the packed figures start in a value (Redis members: after the stamp).
    """

    def __init__(self, wanted: list[tuple[str, int]], rolled: bool, offset: int = 0) -> None:
        self.wanted, self.rolled, self.offset = wanted, rolled, offset
        self.found: dict[str, list[Point]] = {key: [] for key, _ in wanted}
        self._plans: dict[bytes, list[tuple[list, int]]] = {}

    def _plan(self, header: bytes) -> list[tuple[list, int]]:
        ids = struct.unpack(f"<{len(header) // 2}H", header)
        base, width = self.offset + 2 + len(header), (28 if self.rolled else 8)
        return [(self.found[key], base + width * ids.index(kid))
                for key, kid in self.wanted if kid in ids]

    def add(self, t: float, value: bytes) -> None:
        """Take one row: its time and its packed value."""
        at = self.offset
        header = value[at + 2:at + 2 + 2 * (value[at] | value[at + 1] << 8)]
        plan = self._plans.get(header)
        if plan is None:
            plan = self._plans[header] = self._plan(header)
        if self.rolled:
            for points, where in plan:
                low, high, total, count = _AGG.unpack_from(value, where)
                points.append((t, low, total / count, high, count))
        else:
            for points, where in plan:
                v = _VALUE.unpack_from(value, where)[0]
                points.append((t, v, v, v, 1))


def fold(aggs: dict[int, list], values: dict[int, float]) -> None:
    """Fold ``{key id: value}`` into ``aggs`` (``{key id: [min, max, sum, count]}``) in place."""
    for key, v in values.items():
        agg = aggs.get(key)
        if agg is None:
            aggs[key] = [v, v, v, 1]
        else:
            agg[0] = v if v < agg[0] else agg[0]
            agg[1] = v if v > agg[1] else agg[1]
            agg[2] += v
            agg[3] += 1
