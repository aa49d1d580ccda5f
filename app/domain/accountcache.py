"""Each process's cache of accounts and API keys (``app.domain.accounts``,
``app.domain.apikeys``): what a request's credential check reads, so that it costs a dictionary
look-up, not a store round trip."""

from __future__ import annotations

import time

from app.store import Store

from .accounts import _NAME, _key


def any_exist(store: Store) -> bool:
    """Whether the store holds any account or API key. :raise StoreUnavailable:"""
    return bool(store.states("account:")) or bool(store.states("apikey:"))


class Accounts:
    """This process's cache of accounts and keys: what a request's credential check reads, so
    that it costs a dictionary look-up, not a store round trip.

    An entry is read from the store when missing or older than :attr:`max_age` seconds (so a
    change made elsewhere holds within that even if the log is slow to tell), and dropped at
    once when the tailer hands over an ``account`` or ``apikey`` item (:meth:`apply`).
    :meth:`configured` says whether any account or key exists (the loopback rule and open
    viewing end then), checked at most every :attr:`max_age` seconds while none does, and every
    :attr:`max_age_configured` seconds once one does.

    :raise StoreUnavailable: (from the readers) the store did not answer and nothing is cached.
    """

    max_age = 0.5
    #: A "yes" is the answer that keeps the dashboard closed, so it may be older: the look
    #: walks the store's whole state hash (three keys per host of a fleet), and every worker
    #: made it twice a second. An account or key item from the log starts over at once.
    max_age_configured = 10.0

    def __init__(self, store: Store, clock=time.monotonic) -> None:
        self.store = store
        self.clock = clock
        self._entries: dict[str, tuple[float, dict | None]] = {}
        self._configured: tuple[float, bool] = (float("-inf"), False)

    def _cached(self, key: str) -> dict | None:
        now = self.clock()
        held = self._entries.get(key)
        if held is None or now - held[0] > self.max_age:
            held = (now, self.store.get_state(key))
            if len(self._entries) > 10_000:  # guessed names must not grow it for ever
                self._entries.clear()
            self._entries[key] = held
        return held[1]

    def account(self, name: str) -> dict | None:
        """The account ``name`` as the store had it at most :attr:`max_age` seconds ago."""
        return self._cached(_key(name)) if _NAME.match(name) else None

    def key(self, key_id: str) -> dict | None:
        """The stored key ``key_id`` (with its hash), as :meth:`account` does."""
        return self._cached(f"apikey:{key_id}")

    def configured(self) -> bool:
        """Whether any account or API key exists (:func:`any_exist`, at most :attr:`max_age`
        seconds ago, or :attr:`max_age_configured` if it did then)."""
        now = self.clock()
        checked, value = self._configured
        if now - checked > (self.max_age_configured if value else self.max_age):
            value = any_exist(self.store)
            self._configured = (now, value)
        return value

    def apply(self, items) -> list[dict]:
        """Forget what the ``account`` and ``apikey`` items of ``items`` changed; return the
        accounts among them (the tailer ends the streams of those whose sessions ended)."""
        changed = []
        for item in items:
            if item.kind == "account":
                self._entries.pop(_key(item.data["name"]), None)
                self._configured = (float("-inf"), False)
                changed.append(item.data)
            elif item.kind == "apikey":
                self._entries.pop(f"apikey:{item.data['id']}", None)
                self._configured = (float("-inf"), False)
        return changed

    def forget(self, name: str) -> None:
        """Drop ``name``'s cached account (and whether any exists): this process changed it
        (a sign-out, the first account made on the admin page: they hold for the very next
        request, not half a second later)."""
        self._entries.pop(_key(name), None)
        self._configured = (float("-inf"), False)

    def forget_key(self, key_id: str) -> None:
        """Drop the cached key ``key_id``: this process revoked it, and the very next request
        with it must be refused."""
        self._entries.pop(f"apikey:{key_id}", None)
        self._configured = (float("-inf"), False)

    def touch_key(self, key_id: str, now: float) -> None:
        """Record that the key was used at ``now`` (Unix seconds): written at most once a
        minute per key and process, so a busy program does not write once per request."""
        record = self.key(key_id)
        if record is not None and (record.get("last_used") or 0) < now - 60:
            record["last_used"] = now  # the cached copy: no second write within the minute
            fresh = self.store.get_state(f"apikey:{key_id}")
            if fresh is not None and not fresh.get("revoked"):
                self.store.set_state(f"apikey:{key_id}", {**fresh, "last_used": now})
