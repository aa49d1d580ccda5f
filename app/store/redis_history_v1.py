"""The Redis history's first format, read until it ages out (never written any more).

``<prefix>hist:<host>:<tier>:<group>`` sorted sets hold one point per member: an 8-byte time
(raw: Unix milliseconds; buckets: Unix seconds of the start) then the row's packed figures
(:func:`app.store.tiers.encode_raw` / :func:`~app.store.tiers.encode_rolled`, doubles), scored
by that time. :mod:`.redis_history` reads them beside the chunks of the new format and merges
the two (:func:`merge`); the janitor trims them as before, so once every point is older than
its tier's retention the keys are gone and this costs one empty read per row group and read.
"""

from __future__ import annotations

from .tiers import STAMP, TIERS, Point, Reader, group

_PAGE = 2000  # members per read round trip


def read(client, zset_prefix: str, wanted: list[tuple[str, int]], tier: str, start: float,
         end: float) -> dict[str, list[Point]]:
    """``{key name: points}`` of ``wanted`` (``[(key name, key id)]``) in the old sorted sets
    ``<zset_prefix><group>`` (:func:`app.store.tiers.group`) with ``start <= t < end``, oldest
    first (``[]`` where the key is gone). The first page of every group comes in one round
    trip: once the old keys aged out, this is all it costs.

    :raise redis.RedisError: the backend did not answer (the caller maps it).
    """
    rolled, scale = TIERS[tier] > 0, (1 if TIERS[tier] else 1000)
    by_group: dict[str, list[tuple[str, int]]] = {}
    for key, kid in wanted:
        by_group.setdefault(group(key), []).append((key, kid))
    low, high = repr(start * scale), "(" + repr(end * scale)
    pipe = client.pipeline(transaction=False)
    for grp in by_group:
        pipe.zrangebyscore(zset_prefix + grp, low, high, start=0, num=_PAGE)
    found: dict[str, list[Point]] = {}
    for (grp, keys), page in zip(by_group.items(), pipe.execute() if by_group else []):
        reader = Reader(keys, rolled, offset=STAMP.size)
        while True:
            for member in page:
                stamp = STAMP.unpack_from(member)[0]
                reader.add(stamp if rolled else stamp / 1000, member)
            if len(page) < _PAGE:
                break
            after = "(" + str(STAMP.unpack_from(page[-1])[0])
            page = client.zrangebyscore(zset_prefix + grp, after, high, start=0, num=_PAGE)
        found.update(reader.found)
    return found


def trim(client, zset: bytes, tier: str, cut: float) -> None:
    """Drop the old sorted set's points before ``cut`` (raw, Unix milliseconds) or at or before
    it (buckets, Unix seconds of their start)."""
    client.zremrangebyscore(zset, "-inf", f"({cut!r}" if tier == "raw" else repr(cut))


def merge(new: list[Point], old: list[Point], raw: bool) -> list[Point]:
    """One list of points, oldest first, from the new format's and the old one's: a time both
    hold (the bucket that was open when the format changed) becomes one point (min of the
    mins, max of the maxes, average weighted by count, counts added); a raw time, the old one."""
    by_time: dict[float, Point] = {p[0]: p for p in new}
    for t, low, avg, high, count in old:
        other = by_time.get(t)
        if other is None or raw:
            by_time[t] = (t, low, avg, high, count)
        else:
            total = count + other[4]
            by_time[t] = (t, min(low, other[1]), (avg * count + other[2] * other[4]) / total,
                          max(high, other[3]), total)
    return [by_time[t] for t in sorted(by_time)]
