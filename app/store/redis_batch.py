"""A batch of samples in one round trip to Redis: the Redis half of
:meth:`app.store.batch.BatchWrites.append_batch` (a mixin of :class:`app.store.redis.RedisStore`).

Before, each sample of ``POST /api/v1/samples`` cost a lease look-up (``GET``), the log's
append script and the history's record script: three round trips, each a few hundred
microseconds of the worker's CPU (issue 29's profile). Here the whole batch is one ``MULTI``:
one append script for all of its items (``APPEND_MANY``: the key types checked and the id
counter repaired once) and the history's record script per host and row group (each chunk
rewritten once for all the samples it holds), each preceded by a guard
that returns -1, writing nothing, while one of the batch's leases is held. ``MULTI`` runs them
with no other client's command in between, so either every script sees no lease and writes, or
none writes.

The scripts go by ``EVALSHA`` alone: redis-py's ``Script`` objects in a pipeline would first
ask ``SCRIPT EXISTS`` (one more round trip each time). They are loaded once per process, and
again after a ``NOSCRIPT`` answer (a Redis restarted or flushed: then no script of the batch
ran, as both are loaded together).
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence

import redis

from . import codec
from .batch import Entry, HistoryRow
from .redis_history_lua import RECORD
from .redis_scripts import APPEND_MANY

#: Runs first in both scripts: KEYS after the script's own three are lease keys.
_GUARD = """
for i = 4, #KEYS do
  if redis.call('EXISTS', KEYS[i]) == 1 then return -1 end
end
"""
_SCRIPTS = {"append": _GUARD + APPEND_MANY, "record": _GUARD + RECORD}


class RedisBatch:
    """``append_batch`` of :class:`app.store.redis.RedisStore` (a mixin: it uses the store's
    binary client ``_bin``, its log keys, ``_record_calls`` and ``_errors``)."""

    prefix: str
    log_size: int
    _log: str
    _seq: str
    _state: str
    _bin: redis.Redis
    _batch_shas: dict[str, str] | None = None

    def _load_batch_scripts(self) -> dict[str, str]:
        with self._errors():  # type: ignore[attr-defined]
            return {name: self._bin.script_load(text) for name, text in _SCRIPTS.items()}

    def append_batch(self, entries: Sequence[Entry], history: Iterable[HistoryRow] = (),
                     unless_held: Iterable[str] = ()) -> list[int] | None:
        guards = [f"{self.prefix}lease:{name}" for name in unless_held]
        log = [self._log, self._seq, self._state]
        stamp = repr(time.time())
        # The samples were validated (no NaN): orjson writes them about 8 times faster.
        appends = [part for kind, data, state_key in entries
                   for part in (kind, codec.dumps_finite(data), state_key or "")]
        records = self._record_calls(history)  # type: ignore[attr-defined]
        for attempt in (1, 2):
            shas = self._batch_shas = self._batch_shas or self._load_batch_scripts()
            try:
                with self._errors():  # type: ignore[attr-defined]
                    pipe = self._bin.pipeline(transaction=True)
                    if appends:
                        pipe.evalsha(shas["append"], 3 + len(guards), *log, *guards,
                                     self.log_size, stamp, *appends)
                    for keys, args in records:
                        pipe.evalsha(shas["record"], 3 + len(guards), *keys, *guards, *args)
                    results = pipe.execute()
                break
            except Exception as exc:  # noqa: BLE001 - re-raised unless a NOSCRIPT (docstring)
                cause = exc.__cause__ or exc
                if attempt == 2 or not isinstance(cause, redis.exceptions.NoScriptError):
                    raise
                self._batch_shas = None
        if -1 in results:  # a lease is held: no script wrote anything
            return None
        return [int(n) for n in results[0]] if appends else []
