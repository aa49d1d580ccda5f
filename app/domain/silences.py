"""Silences: alerts that match one still show but send no notification until it ends.

A silence is the state ``silence:<id>`` and a ``silence`` log item (so every page marks the
alerts it covers at once)::

    {"id": "9c1e...", "matchers": {"name": "cpu-*", "host": "web1", "level": "warning"},
     "starts_at": unix s, "ends_at": unix s, "created_by": "page"|"api"|str,
     "comment": str|None}

Each matcher present must match (``name`` and ``host`` are shell-style patterns, ``level`` is
exact); a silence with no matchers is refused by the schemas, not here. Deleting a silence ends
it at once (``ends_at`` = now) rather than forgetting it, like Alertmanager's "expire"; the
janitor forgets silences a day after they ended.
"""

from __future__ import annotations

import fnmatch
import time
import uuid

from app.store import Store

STATE_PREFIX = "silence:"
#: Seconds after its end at which a silence is forgotten (``app.domain.retention``).
KEPT_AFTER_END = 86400.0
#: Silences that may be active at once: each is matched against every alert.
MAX_ACTIVE = 1000
#: Of those, what one creator (a person, a key, the loopback rule) may hold, so that one page
#: or program cannot use them all up and leave nobody able to silence anything.
MAX_PER_CREATOR = 100


class SilenceLimit(ValueError):
    """A new silence would pass :data:`MAX_ACTIVE` or its creator's :data:`MAX_PER_CREATOR`."""


def literal(text: str) -> str:
    """A pattern that matches ``text`` only: its ``*``, ``?`` and ``[`` bracketed."""
    return "".join(f"[{c}]" if c in "*?[" else c for c in text)


def matches(silence: dict, alert: dict, now: float) -> bool:
    """Whether ``silence`` covers ``alert`` at Unix time ``now``."""
    if not silence["starts_at"] <= now < silence["ends_at"]:
        return False
    m = silence["matchers"]
    return (("name" not in m or fnmatch.fnmatchcase(alert.get("name") or "", m["name"]))
            and ("host" not in m or fnmatch.fnmatchcase(alert.get("host") or "", m["host"]))
            and ("level" not in m or alert.get("level") == m["level"]))


def covering(silences, alert: dict, now: float) -> dict | None:
    """The silence among ``silences`` that covers ``alert`` longest, or None."""
    found = [s for s in silences if matches(s, alert, now)]
    return max(found, key=lambda s: s["ends_at"]) if found else None


def create(store: Store, matchers: dict, ends_at: float, by: str, comment: str | None = None,
           now: float | None = None) -> tuple[dict, bool]:
    """Store a silence from ``now`` to ``ends_at`` (Unix s); return it and whether it is new.

    An active silence with the same ``matchers`` is extended instead (its end becomes the later
    of the two, its comment the new one if given), so that pressing Silence again, or a
    program that re-sends its silence, does not pile up copies.

    :raise ValueError: ``ends_at`` is not in the future.
    :raise SilenceLimit: :data:`MAX_ACTIVE` are active, or :data:`MAX_PER_CREATOR` of ``by``'s.
    :raise StoreUnavailable: nothing was written.
    """
    now = time.time() if now is None else now
    if ends_at <= now:
        raise ValueError("the silence would end before it starts")
    current = active(store, now)
    same = next((s for s in current if s["matchers"] == matchers), None)
    if same is not None:
        silence = {**same, "ends_at": max(same["ends_at"], ends_at),
                   "comment": comment if comment is not None else same["comment"]}
        if silence != same:
            store.append("silence", silence, state_key=STATE_PREFIX + silence["id"])
        return silence, False
    if len(current) >= MAX_ACTIVE:
        raise SilenceLimit(f"{MAX_ACTIVE} silences are active already; end some first "
                           "(DELETE /api/v1/silences/<id>)")
    if sum(s["created_by"] == by for s in current) >= MAX_PER_CREATOR:
        raise SilenceLimit(f"{by} has {MAX_PER_CREATOR} active silences already, its share "
                           f"of {MAX_ACTIVE}; end some first or widen one with a pattern")
    silence = {"id": uuid.uuid4().hex[:16], "matchers": dict(matchers), "starts_at": now,
               "ends_at": ends_at, "created_by": by, "comment": comment}
    store.append("silence", silence, state_key=STATE_PREFIX + silence["id"])
    return silence, True


def expire(store: Store, silence_id: str, now: float | None = None) -> dict | None:
    """End the silence now (a no-op if it ended already); None for an unknown id."""
    silence = store.get_state(STATE_PREFIX + silence_id)
    now = time.time() if now is None else now
    if silence is None or silence["ends_at"] <= now:
        return silence
    silence = {**silence, "ends_at": now}
    store.append("silence", silence, state_key=STATE_PREFIX + silence_id)
    return silence


def active(store: Store, now: float | None = None) -> list[dict]:
    """The silences that have not ended at ``now``, the latest ending first."""
    now = time.time() if now is None else now
    found = [s for s in store.states(STATE_PREFIX).values() if s["ends_at"] > now]
    return sorted(found, key=lambda s: s["ends_at"], reverse=True)
