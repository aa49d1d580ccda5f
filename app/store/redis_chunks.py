"""The Redis history's chunk format (version 2): many points of one series per sorted-set member.

A Redis sorted-set member costs about 60 bytes of bookkeeping besides its bytes, and the first
format held one point per member in doubles: 50 MB per host-year. Here a member is a *chunk*:
the points of one row group (:func:`row_group`) over a fixed stretch of time,

- ``raw``: a minute of samples; ``1m``: 20 minutes of minute buckets; ``1h``: a day of hour
  buckets (:data:`CHUNK`, seconds), each chunk's score its start (raw: Unix milliseconds,
  buckets: Unix seconds), so reads and trims stay ``ZRANGEBYSCORE`` / ``ZREMRANGEBYSCORE``;
- bytes: ``<q start>``, ``<H n>``, ``n`` key ids ``<H>`` (ascending), then the entries, oldest
  first, each ``<H offset>`` and one field per key id: raw ``<f value>`` (NaN: no value for that
  key), minute buckets ``<fffB min max avg count>``, hour buckets ``<fffH ...>`` (count 0:
  none). The offset is milliseconds from the start (raw) or the bucket's index in the chunk.

Figures are 32-bit floats: about 7 significant digits (relative error at most 6e-8 per value),
magnitudes up to 3.4e38 (larger ones are kept as ±3.4e38, smaller than 1.2e-38 as 0). A bucket
keeps its running average rather than its sum: each fold rounds it to 32 bits again, so after an
hour of folds it is within 1e-5 relative of the exact average in practice (2e-4 at worst). A
minute counts at most 255 values, an hour 65,535 (at one a second: 60 and 3,600); beyond, the
average and count stop changing, the min and max still do.

The Lua scripts of :mod:`.redis_history_lua` are the only writers, so two writers never lose each
other's fold.
"""

from __future__ import annotations

import math
import struct
from functools import lru_cache

from .tiers import TIERS, Point, group

#: Tier -> seconds one chunk covers (a multiple of the tier's bucket): lengths that fill the allocator's size classes well for a host's 12 or 13 keys (measured:
#: 20 minutes of minute buckets waste 8 to 17 % to rounding, an hour of them 9 to 21 %).
CHUNK: dict[str, int] = {"raw": 60, "1m": 1200, "1h": 86400}
#: Largest magnitude a 32-bit float holds; figures beyond it are clamped to it.
F32_MAX = 3.4028234663852886e38
#: Tier -> the scripts' kind of chunk (which field format).
KIND: dict[str, int] = {"raw": 1, "1m": 2, "1h": 3}
#: Tier -> one key's field in an entry, and the largest count it holds.
FIELD: dict[str, str] = {"raw": "f", "1m": "fffB", "1h": "fffH"}
MOST: dict[str, int] = {"raw": 1, "1m": 255, "1h": 65535}
#: Prefixes of a container's series (``app.domain.history.CONTAINER_PREFIXES``; the store
#: sits below the domain, so it names them itself).
CONTAINER_FAMILIES = ("container_cpu:", "container_memory:")
_HEAD = struct.Struct("<qH")


def row_group(key: str) -> str:
    """The Redis row group of history key ``key``: :func:`app.store.tiers.group`, but for the
    series of a host's containers (``container_cpu:<name>``, ``container_memory:<name>``, which
    the container watcher records together, at one time) ``containers``: one entry holds them
    all, where a group each paid for its own offsets and chunk bookkeeping (2.7 MB against
    1.8 MB per container-year). A chunk names only the keys it holds, so containers that
    come and go widen only the chunks they share."""
    return "containers" if key.startswith(CONTAINER_FAMILIES) else group(key)


def clamp(value: float) -> float:
    """``value`` within ±:data:`F32_MAX`, so that packing it as a 32-bit float stays finite."""
    return F32_MAX if value > F32_MAX else -F32_MAX if value < -F32_MAX else value


def chunk_start(t: float, tier: str) -> int:
    """The score of the ``tier`` chunk holding time ``t`` (Unix seconds): its start in
    milliseconds (raw) or seconds (buckets)."""
    length = CHUNK[tier]
    start = math.floor(t / length) * length
    return start * 1000 if tier == "raw" else start


def encode_chunk(start: int, tier: str, entries: dict[int, dict[int, float | tuple]]) -> bytes:
    """Pack a chunk starting at score ``start`` with ``{offset: {key id: figure}}``: raw
    figures are values, bucket figures ``(min, max, sum, count)``. Offsets as in the module
    docstring; a key an entry lacks gets the "none" field."""
    ids = sorted({kid for figures in entries.values() for kid in figures})
    rolled, most = TIERS[tier] > 0, MOST[tier]
    fmt = _layout(len(ids), tier)
    none = (0.0, 0.0, 0.0, 0) if rolled else (math.nan,)
    parts = [_HEAD.pack(start, len(ids)), struct.pack(f"<{len(ids)}H", *ids)]
    for off in sorted(entries):
        figures, flat = entries[off], [off]
        for kid in ids:
            f = figures.get(kid)
            if f is None:
                flat.extend(none)
            elif rolled:
                low, high, total, count = f
                count = min(int(count), most)
                flat.extend((clamp(low), clamp(high), clamp(total / count), count))
            else:
                flat.append(clamp(f))
        parts.append(fmt.pack(*flat))
    return b"".join(parts)


@lru_cache(maxsize=256)
def _layout(n: int, tier: str) -> struct.Struct:
    return struct.Struct("<H" + FIELD[tier] * n)


class ChunkReader:
    """Turns chunk members into :data:`Point` lists of some keys.

    :param wanted: ``[(key name, key id), ...]``.
    :param tier: the chunks' tier; points outside ``[start, end)`` are left out.
    """

    def __init__(self, wanted: list[tuple[str, int]], tier: str, start: float,
                 end: float) -> None:
        self.wanted, self.start, self.end = wanted, start, end
        self.tier, self.rolled, self.step = tier, TIERS[tier] > 0, TIERS[tier]
        self.found: dict[str, list[Point]] = {key: [] for key, _ in wanted}
        self._plans: dict[bytes, list[tuple[list, int]]] = {}

    def add(self, member: bytes) -> None:
        """Take one member: its points in range go to :attr:`found`, oldest first (members
        must come oldest first)."""
        stamp, n = _HEAD.unpack_from(member)
        header = member[10:10 + 2 * n]
        plan = self._plans.get(header)
        if plan is None:
            ids = struct.unpack(f"<{n}H", header)
            plan = self._plans[header] = [(self.found[key], ids.index(kid))
                                          for key, kid in self.wanted if kid in ids]
        if not plan:
            return
        layout, low, high = _layout(n, self.tier), self.start, self.end
        rows = layout.iter_unpack(memoryview(member)[10 + 2 * n:])
        if self.rolled:
            for row in rows:
                t = stamp + row[0] * self.step
                if low <= t < high:
                    for points, i in plan:
                        count = row[4 + 4 * i]
                        if count:
                            points.append((t, row[1 + 4 * i], row[3 + 4 * i], row[2 + 4 * i],
                                           count))
        else:
            for row in rows:
                t = (stamp + row[0]) / 1000
                if low <= t < high:
                    for points, i in plan:
                        v = row[1 + i]
                        if v == v:  # NaN: no value of this key here
                            points.append((t, v, v, v, 1))
