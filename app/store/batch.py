"""Writes of a whole batch of samples at once: the ingest API's path (``POST /api/v1/samples``).

A mixin of :class:`app.store.Store`: the plain version below makes one call per item, history
row and lease; a backend that can do it in one round trip (Redis: one ``MULTI`` of scripts,
:mod:`.redis_batch`) overrides :meth:`BatchWrites.append_batch`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

#: One log item to append: (kind, data, state key or None), as ``Store.append`` takes them.
Entry = tuple[str, dict, str | None]
#: One history row: (host, Unix seconds, {key: value}), as ``Store.record_history`` takes it.
HistoryRow = tuple[str, float, dict[str, float]]


class BatchWrites:
    """``append_batch`` for a :class:`~app.store.Store` (whose ``holder``, ``append`` and
    ``record_history`` it uses)."""

    def append_batch(self, entries: Sequence[Entry], history: Iterable[HistoryRow] = (),
                     unless_held: Iterable[str] = ()) -> list[int] | None:
        """Log each ``(kind, data, state key or None)`` of ``entries`` (as ``append``, in
        order) and keep each history row (as ``record_history``); return the new ids, in order.

        ``unless_held``: lease names (``sampler:<host>``). If any of them is held when the
        batch is written, nothing is written and None is returned. A backend that writes the
        batch in one transaction checks the leases in it; this plain version checks them
        first, then writes item by item.

        :raise StoreUnavailable: part of the batch may have been written (the caller answers
            503 and the client sends the batch again: at least once).
        """
        holder = self.holder  # type: ignore[attr-defined]
        if any(holder(name) is not None for name in unless_held):
            return None
        ids = [self.append(kind, data, state_key)  # type: ignore[attr-defined]
               for kind, data, state_key in entries]
        for host, ts, values in history:
            self.record_history(host, ts, values)  # type: ignore[attr-defined]
        return ids
