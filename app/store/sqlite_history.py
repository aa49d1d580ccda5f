"""History tiers on SQLite: one ``WITHOUT ROWID`` table beside the log (layout in :mod:`.tiers`).

Rows are keyed ``(series, tier, t)`` with integer times, so a year of a host's default retention
is about 86,400 raw rows and 52,000 bucket rows of a hundred to four hundred bytes each. A sample
costs one transaction of a few short primary-key statements (read the raw row and the two
buckets, write them back, trim); long reads and bulk writes go in batches with a
``gevent.sleep(0)`` between them, so no statement holds the event loop for long.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterable

import gevent

from . import StoreUnavailable
from .tiers import (TIERS, MAX_KEY_ID, Point, Reader, Retention, bucket, decode, encode_raw,
                    encode_rolled, fold, group, raw_stamp)

HISTORY_SCHEMA = """
CREATE TABLE IF NOT EXISTS history_key (
    id   INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE
);
CREATE TABLE IF NOT EXISTS history_series (
    id   INTEGER PRIMARY KEY,
    host TEXT NOT NULL,
    grp  TEXT NOT NULL,  -- '' for a host's plain keys, else the one ':' key of the series
    UNIQUE (host, grp)
);
CREATE TABLE IF NOT EXISTS history (
    series INTEGER NOT NULL,
    tier   INTEGER NOT NULL,  -- 0 raw, 1 one minute, 2 one hour
    t      INTEGER NOT NULL,  -- raw: Unix milliseconds; buckets: Unix seconds of the start
    v      BLOB NOT NULL,     -- the keys' figures, packed (app.store.tiers)
    PRIMARY KEY (series, tier, t)
) WITHOUT ROWID;
"""
_TIER = {name: n for n, name in enumerate(TIERS)}
_BATCH = 2000  # rows per statement batch of a long read, bulk write or delete


class SQLiteHistory:
    """The history half of :class:`app.store.sqlite.SQLiteStore` (a mixin on its ``_db``)."""

    _db: sqlite3.Connection
    history_retention: Retention

    def _history_init(self) -> None:
        self._db.executescript(HISTORY_SCHEMA)
        self._key_ids: dict[str, int] = {}

    def _key_id(self, name: str, learned: dict | None = None) -> int | None:
        """The id of key ``name``; created (and noted in ``learned``) when ``learned`` is given."""
        if name in self._key_ids:
            return self._key_ids[name]
        if learned is not None:
            self._db.execute("INSERT OR IGNORE INTO history_key (name) VALUES (?)", (name,))
        row = self._db.execute("SELECT id FROM history_key WHERE name = ?", (name,)).fetchone()
        if row is None or row[0] > MAX_KEY_ID:
            return None
        # Ids created in a transaction are cached only once it committed (see the callers).
        (self._key_ids if learned is None else learned)[name] = row[0]
        return row[0]

    def _series_id(self, host: str, grp: str, create: bool = False) -> int | None:
        """The id of ``host``'s series ``grp``; created if ``create``. Not cached: series come
        and go with hosts (:meth:`trim_history`, :meth:`forget_history`) and a per-process
        cache would outlive a row another process deleted. The lookup is one probe of the
        ``(host, grp)`` index, in the caller's write transaction where it writes."""
        row = self._db.execute("SELECT id FROM history_series WHERE host = ? AND grp = ?",
                               (host, grp)).fetchone()
        if row is None and create:
            # Ids are never reused while the newest row stays (see _prune_series), so a read
            # that yields between batches never finds another host's rows under its id.
            return self._db.execute("INSERT INTO history_series (host, grp) VALUES (?, ?)",
                                    (host, grp)).lastrowid
        return None if row is None else row[0]

    def record_history(self, host: str, ts: float, values: dict[str, float]) -> None:
        groups: dict[str, dict[str, float]] = {}
        for key, value in values.items():
            groups.setdefault(group(key), {})[key] = float(value)
        keys: dict[str, int] = {}
        try:
            with self._db:
                self._db.execute("BEGIN IMMEDIATE")
                for grp, figures in groups.items():
                    sid = self._series_id(host, grp, create=True)
                    by_id = {kid: v for k, v in figures.items()
                             if (kid := self._key_id(k, keys)) is not None}
                    if by_id:
                        self._record(sid, ts, by_id)
        except sqlite3.Error as exc:
            raise StoreUnavailable(f"SQLite write failed: {exc}") from exc
        self._key_ids.update(keys)

    def _record(self, sid: int, ts: float, values: dict[int, float]) -> None:
        db, now, keep = self._db, time.time(), self.history_retention
        ms = raw_stamp(ts)
        row = db.execute("SELECT v FROM history WHERE series = ? AND tier = 0 AND t = ?",
                         (sid, ms)).fetchone()
        raw = {k: f[0] for k, f in decode(row[0], False).items()} if row else {}
        fresh = {k: v for k, v in values.items() if k not in raw}
        if not fresh:
            return  # this sample was recorded already
        cut = now - keep.raw
        if ts >= cut:
            raw.update(fresh)
            db.execute("INSERT OR REPLACE INTO history VALUES (?, 0, ?, ?)",
                       (sid, ms, encode_raw(raw)))
        db.execute("DELETE FROM history WHERE series = ? AND tier = 0 AND t < ?",
                   (sid, cut * 1000))
        for tier in ("1m", "1h"):
            n, step, start = _TIER[tier], TIERS[tier], bucket(ts, tier)
            cut = now - keep.of(tier) - step  # a bucket is kept while any of it is
            if start <= cut:
                continue
            row = db.execute("SELECT v FROM history WHERE series = ? AND tier = ? AND t = ?",
                             (sid, n, start)).fetchone()
            aggs = {k: list(f) for k, f in decode(row[0], True).items()} if row else {}
            fold(aggs, fresh)
            db.execute("INSERT OR REPLACE INTO history VALUES (?, ?, ?, ?)",
                       (sid, n, start, encode_rolled(aggs)))
            if row is None:  # a new bucket: the oldest may have left the retention
                db.execute("DELETE FROM history WHERE series = ? AND tier = ? AND t <= ?",
                           (sid, n, cut))

    def history(self, host: str, key: str, tier: str, start: float, end: float) -> list[Point]:
        return self.history_many(host, [key], tier, start, end)[key]

    def history_many(self, host: str, keys: Iterable[str], tier: str, start: float,
                     end: float) -> dict[str, list[Point]]:
        n = _TIER[tier]
        found: dict[str, list[Point]] = {key: [] for key in keys}
        by_series: dict[int, list[tuple[str, int]]] = {}
        for key in found:
            sid, kid = self._series_id(host, group(key)), self._key_id(key)
            if sid is not None and kid is not None:
                by_series.setdefault(sid, []).append((key, kid))
        for sid, wanted in by_series.items():
            reader = Reader(wanted, rolled=n > 0)
            low = start * 1000 if n == 0 else start
            high = end * 1000 if n == 0 else end
            while True:
                rows = self._db.execute(
                    "SELECT t, v FROM history WHERE series = ? AND tier = ? AND t >= ? AND t < ? "
                    "ORDER BY t LIMIT ?", (sid, n, low, high, _BATCH)).fetchall()
                for t, v in rows:
                    reader.add(t / 1000 if n == 0 else t, v)
                if len(rows) < _BATCH:
                    break
                low = rows[-1][0] + 1
                gevent.sleep(0)
            found.update(reader.found)
        return found

    def write_history(self, host: str, tier: str,
                      rows: Iterable[tuple[float, dict[str, float | tuple]]]) -> None:
        n = _TIER[tier]
        batch: list[tuple] = []
        for t, figures in rows:
            if any(":" in key for key in figures):
                groups: dict[str, dict[str, float | tuple]] = {}
                for key, figure in figures.items():
                    groups.setdefault(group(key), {})[key] = figure
                batch.extend((grp, t, members) for grp, members in groups.items())
            else:  # a host sample's keys: one row
                batch.append(("", t, figures))
            if len(batch) >= _BATCH:
                self._write_batch(host, n, batch)
                batch = []
                gevent.sleep(0)
        if batch:
            self._write_batch(host, n, batch)

    def _write_batch(self, host: str, n: int, batch: list[tuple]) -> None:
        keys: dict[str, int] = {}
        memo: dict[str, int | None] = {}  # the batch's key ids, without a call per value
        sids: dict[str, int | None] = {}  # and its series ids (one transaction: no row goes)
        try:
            with self._db:
                self._db.execute("BEGIN IMMEDIATE")
                out = []
                for grp, t, figures in batch:
                    if grp not in sids:
                        sids[grp] = self._series_id(host, grp, create=True)
                    sid = sids[grp]
                    for k in figures.keys() - memo.keys():
                        memo[k] = self._key_id(k, keys)
                    by_id = {memo[k]: f for k, f in figures.items() if memo[k] is not None}
                    if n == 0:
                        out.append((sid, 0, round(t * 1000), encode_raw(by_id)))
                    else:
                        out.append((sid, n, int(t), encode_rolled(by_id)))
                self._db.executemany("INSERT OR REPLACE INTO history VALUES (?, ?, ?, ?)", out)
        except sqlite3.Error as exc:
            raise StoreUnavailable(f"SQLite write failed: {exc}") from exc
        self._key_ids.update(keys)

    def trim_history(self) -> None:
        now, keep = time.time(), self.history_retention
        sid = -1
        # Every series that holds rows, by an index seek per series (rows of a series whose
        # row went are trimmed too), then the series left with no rows: host names that come
        # and go (short-lived containers) would otherwise add rows to history_series forever.
        while row := self._db.execute("SELECT series FROM history WHERE series > ? "
                                      "ORDER BY series LIMIT 1", (sid,)).fetchone():
            sid = row[0]
            self._delete("series = ? AND tier = 0 AND t < ?", (sid, (now - keep.raw) * 1000))
            for tier in ("1m", "1h"):
                self._delete("series = ? AND tier = ? AND t <= ?",
                             (sid, _TIER[tier], now - keep.of(tier) - TIERS[tier]))
        self._prune_series("")

    def forget_history(self, host: str) -> None:
        for (sid,) in self._db.execute("SELECT id FROM history_series WHERE host = ?",
                                       (host,)).fetchall():
            self._delete("series = ?", (sid,))
        self._prune_series("AND host = ?", (host,))

    def _prune_series(self, where: str, args: tuple = ()) -> None:
        """Delete the series rows (matching ``where``) that hold no history rows, but the
        newest: SQLite gives a new row the highest id plus one, so keeping it means no id is
        ever reused."""
        try:  # one statement: a writer's transaction sees the row and its rows, or neither
            self._db.execute(
                "DELETE FROM history_series WHERE id < (SELECT MAX(id) FROM history_series) "
                f"{where} AND NOT EXISTS (SELECT 1 FROM history WHERE series = "
                "history_series.id)", args)
        except sqlite3.Error as exc:
            raise StoreUnavailable(f"SQLite write failed: {exc}") from exc

    def _delete(self, where: str, args: tuple) -> None:
        """Delete the history rows matching ``where``, :data:`_BATCH` rows per statement."""
        while True:
            try:
                cur = self._db.execute(
                    f"DELETE FROM history WHERE (series, tier, t) IN (SELECT series, tier, t "
                    f"FROM history WHERE {where} LIMIT {_BATCH})", args)
            except sqlite3.Error as exc:
                raise StoreUnavailable(f"SQLite write failed: {exc}") from exc
            if cur.rowcount < _BATCH:
                return
            gevent.sleep(0)
