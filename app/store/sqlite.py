"""The embedded SQLite backend: one file in WAL mode, shared by every worker on one host.

sqlite3 blocks the gevent loop for each statement, so every statement here is short and indexed
(primary-key range scans, one-row upserts). Writers from other processes are noticed through
``PRAGMA data_version`` on a connection of its own (it changes when *another* connection
commits), checked when another process rings the bell after an append
(:mod:`app.store.sqlite_wake`) and every ``poll_interval`` seconds; writes from this process
also wake the tailer at once through a gevent event.
"""

from __future__ import annotations

import os
import sqlite3
import time

import gevent.event

from . import Item, Store, StoreUnavailable, codec
from .sqlite_history import SQLiteHistory
from .sqlite_wake import Bell
from .tiers import Retention

_SCHEMA = """
CREATE TABLE IF NOT EXISTS log (
    id   INTEGER PRIMARY KEY AUTOINCREMENT,  -- AUTOINCREMENT: ids are never reused after a trim
    kind TEXT NOT NULL,
    ts   REAL NOT NULL,
    data TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS log_kind_id ON log (kind, id);
CREATE TABLE IF NOT EXISTS state (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS lease (
    name    TEXT PRIMARY KEY,
    owner   TEXT NOT NULL,
    expires REAL NOT NULL  -- Unix seconds: every worker on the host shares the clock
);
CREATE TABLE IF NOT EXISTS audit (
    id     INTEGER PRIMARY KEY AUTOINCREMENT,
    ts     REAL NOT NULL,
    who    TEXT NOT NULL,
    action TEXT NOT NULL,
    data   TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS audit_ts ON audit (ts);
"""
#: Appends between two trims of the log: one DELETE per 100 writes keeps writes cheap, so an
#: appending process may leave up to ``log_size + TRIM_EVERY - 1`` items.
TRIM_EVERY = 100


def _connect(path: str) -> sqlite3.Connection:
    # isolation_level=None: autocommit, so no transaction stays open across a greenlet switch.
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=5.0)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    # 512 KiB of page cache instead of 2 MiB per connection: the hot pages (the log's tail, the
    # state table) are few and the OS caches the file anyway; a worker's memory is what counts.
    conn.execute("PRAGMA cache_size=-512")
    return conn


def _item(row: tuple) -> Item:
    return Item(row[0], row[1], row[2], codec.loads(row[3]))


class SQLiteStore(SQLiteHistory, Store):
    """:class:`Store` on one SQLite file at ``path`` (created with its folder if missing); its
    history methods are :class:`app.store.sqlite_history.SQLiteHistory`'s."""

    def __init__(self, path: str, *, log_size: int, poll_interval: float,
                 history_retention: Retention = Retention()) -> None:
        os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
        self.path = path
        self.log_size = log_size
        self.poll_interval = poll_interval
        self.history_retention = history_retention
        try:
            self._db = _connect(path)
            self._db.executescript(_SCHEMA)
            self._history_init()
            self._tail = _connect(path)
        except sqlite3.Error as exc:
            raise StoreUnavailable(f"cannot open SQLite store {path}: {exc}") from exc
        self._version = self._data_version()
        self._wake = gevent.event.Event()
        self._bell = Bell(path + "-bell", self._wake, self)
        self._appends = 0

    def _data_version(self) -> int:
        return self._tail.execute("PRAGMA data_version").fetchone()[0]

    def append(self, kind: str, data: dict, state_key: str | None = None, *,
               replicated: bool = False) -> int:
        text = codec.dumps(data)
        try:
            with self._db:  # one transaction: the log row and the state change land together
                self._db.execute("BEGIN IMMEDIATE")
                cur = self._db.execute(
                    "INSERT INTO log (kind, ts, data) VALUES (?, ?, ?)", (kind, time.time(), text))
                if state_key is not None:
                    self._db.execute(
                        "INSERT OR REPLACE INTO state (key, value) VALUES (?, ?)", (state_key, text))
        except sqlite3.Error as exc:
            raise StoreUnavailable(f"SQLite write failed: {exc}") from exc
        return self._appended(cur.lastrowid)

    def append_if(self, kind: str, data: dict, state_key: str, field: str,
                  expected: str, *, replicated: bool = False) -> int | None:
        text = codec.dumps(data)
        try:
            # BEGIN IMMEDIATE takes the write lock before the read: no other connection (of
            # any process) can change the state between our compare and our write.
            with self._db:
                self._db.execute("BEGIN IMMEDIATE")
                row = self._db.execute("SELECT value FROM state WHERE key = ?",
                                       (state_key,)).fetchone()
                if row is None or codec.loads(row[0]).get(field) != expected:
                    return None  # the with block commits an empty transaction
                cur = self._db.execute(
                    "INSERT INTO log (kind, ts, data) VALUES (?, ?, ?)", (kind, time.time(), text))
                self._db.execute("INSERT OR REPLACE INTO state (key, value) VALUES (?, ?)",
                                 (state_key, text))
        except sqlite3.Error as exc:
            raise StoreUnavailable(f"SQLite write failed: {exc}") from exc
        return self._appended(cur.lastrowid)

    def _appended(self, new_id: int) -> int:
        """Book-keeping after a committed append: the periodic trim, and waking the tailer."""
        self._appends += 1
        if self._appends % TRIM_EVERY == 0:
            self._trim(new_id)
        self._wake.set()
        self._bell.ring()
        return new_id

    def _trim(self, newest: int) -> None:
        try:
            self._db.execute("DELETE FROM log WHERE id <= ?", (newest - self.log_size,))
        except sqlite3.Error:
            pass  # a trim that loses a lock race runs again 100 appends later

    def since(self, after_id: int, limit: int = 1000) -> list[Item]:
        rows = self._db.execute(
            "SELECT id, kind, ts, data FROM log WHERE id > ? ORDER BY id LIMIT ?",
            (after_id, limit)).fetchall()
        return [_item(row) for row in rows]

    def recent(self, kind: str, count: int) -> list[Item]:
        rows = self._db.execute(
            "SELECT id, kind, ts, data FROM log WHERE kind = ? ORDER BY id DESC LIMIT ?",
            (kind, count)).fetchall()
        return [_item(row) for row in rows]

    def find(self, kind: str, *, after_id: int = 0, limit: int = 100,
             where: dict[str, str] | None = None) -> list[Item]:
        # The (kind, id) index bounds the scan; json_extract filters rows within it.
        sql = "SELECT id, kind, ts, data FROM log WHERE kind = ? AND id > ?"
        args: list = [kind, after_id]
        for key, value in (where or {}).items():
            if not key.isidentifier():
                raise ValueError(f"not a field name: {key!r}")
            sql += " AND json_extract(data, ?) = ?"
            args += [f"$.{key}", value]
        rows = self._db.execute(sql + " ORDER BY id DESC LIMIT ?", (*args, limit)).fetchall()
        return [_item(row) for row in rows]

    def latest_id(self) -> int:
        row = self._db.execute("SELECT max(id) FROM log").fetchone()
        return row[0] or 0

    def first_id(self) -> int:
        row = self._db.execute("SELECT min(id) FROM log").fetchone()
        return row[0] or 0

    def wait(self, after_id: int, timeout: float, poll: float | None = None) -> list[Item]:
        deadline = time.monotonic() + timeout
        poll = self.poll_interval if poll is None else poll
        # Look once on entry whatever the version says: a previous call may have left items
        # behind (``since`` returns at most 1000), and nothing would change the version for them.
        look = True
        while True:
            self._wake.clear()
            version = self._data_version()
            if look or version != self._version:
                look = False
                self._version = version
                items = self.since(after_id)
                if items:
                    return items
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return []
            self._wake.wait(min(poll, remaining))

    def get_state(self, key: str) -> dict | None:
        row = self._db.execute("SELECT value FROM state WHERE key = ?", (key,)).fetchone()
        return codec.loads(row[0]) if row else None

    def set_state(self, key: str, value: dict | None, *, replicated: bool = False) -> None:
        try:
            if value is None:
                self._db.execute("DELETE FROM state WHERE key = ?", (key,))
            else:
                self._db.execute("INSERT OR REPLACE INTO state (key, value) VALUES (?, ?)",
                                 (key, codec.dumps(value)))
        except sqlite3.Error as exc:
            raise StoreUnavailable(f"SQLite write failed: {exc}") from exc

    def states(self, prefix: str) -> dict[str, dict]:
        # A range on the primary key instead of LIKE, whose wildcards (_ %) a prefix may hold.
        rows = self._db.execute(
            "SELECT key, value FROM state WHERE key >= ? AND key < ? ORDER BY key",
            (prefix, prefix + "\U0010ffff")).fetchall()
        return {key: codec.loads(value) for key, value in rows}

    def lease(self, name: str, owner: str, ttl: float) -> bool:
        now = time.time()
        try:
            # One upsert: it takes a free or expired lease, renews our own, leaves another's.
            self._db.execute(
                "INSERT INTO lease (name, owner, expires) VALUES (?, ?, ?) "
                "ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, "
                "expires = excluded.expires WHERE lease.owner = excluded.owner "
                "OR lease.expires < ?", (name, owner, now + ttl, now))
            row = self._db.execute("SELECT owner FROM lease WHERE name = ?", (name,)).fetchone()
        except sqlite3.Error as exc:
            raise StoreUnavailable(f"SQLite lease failed: {exc}") from exc
        return row is not None and row[0] == owner

    def holder(self, name: str) -> str | None:
        try:
            row = self._db.execute("SELECT owner FROM lease WHERE name = ? AND expires >= ?",
                                   (name, time.time())).fetchone()
        except sqlite3.Error as exc:
            raise StoreUnavailable(f"SQLite read failed: {exc}") from exc
        return row[0] if row else None

    def ping(self) -> None:
        try:
            self._db.execute("SELECT 1").fetchone()
        except sqlite3.Error as exc:
            raise StoreUnavailable(str(exc)) from exc

    def audit_append(self, entry: dict) -> int:
        try:
            cur = self._db.execute(
                "INSERT INTO audit (ts, who, action, data) VALUES (?, ?, ?, ?)",
                (entry["ts"], entry["who"], entry["action"],
                 codec.dumps(entry)))
        except sqlite3.Error as exc:
            raise StoreUnavailable(f"SQLite write failed: {exc}") from exc
        return cur.lastrowid

    def audit_query(self, *, who: str | None = None, action: str | None = None,
                    since: float | None = None, until: float | None = None,
                    before: int | None = None, limit: int = 50) -> list[dict]:
        sql, args = "SELECT id, data FROM audit WHERE 1", []
        for clause, value in (("who = ?", who), ("action = ?", action), ("ts >= ?", since),
                              ("ts < ?", until), ("id < ?", before)):
            if value is not None:
                sql += f" AND {clause}"
                args.append(value)
        try:
            rows = self._db.execute(sql + " ORDER BY id DESC LIMIT ?", (*args, limit)).fetchall()
        except sqlite3.Error as exc:
            raise StoreUnavailable(f"SQLite read failed: {exc}") from exc
        return [{**codec.loads(data), "id": row_id} for row_id, data in rows]

    def audit_trim(self, older_than: float, keep: int) -> int:
        try:
            with self._db:
                self._db.execute("BEGIN IMMEDIATE")
                gone = self._db.execute("DELETE FROM audit WHERE ts < ?", (older_than,)).rowcount
                gone += self._db.execute(
                    "DELETE FROM audit WHERE id <= (SELECT id FROM audit ORDER BY id DESC "
                    "LIMIT 1 OFFSET ?)", (keep,)).rowcount
        except sqlite3.Error as exc:
            raise StoreUnavailable(f"SQLite write failed: {exc}") from exc
        return gone

    def close(self) -> None:
        self._bell.close()
        self._db.close()
        self._tail.close()
