"""Regions sent in parts: when only some parts of a region changed, send those parts alone.

A region such as the fleet row or the fleet table is mostly a list of rows or cards, of which
a few change between two renders. Its template writes each part (an element with a stable
``id``) through :meth:`Parts.put`, which leaves a placeholder in the region's text: the text
with placeholders is the region's *skeleton*. When the skeleton is the same as last time (same
parts in the same order, same surroundings), the change is sent as the changed parts alone,
each an out-of-band swap of the element with its id; otherwise the whole region goes.

A list whose items are parts (``put(..., into=<the list's id>)``), newest first, such as the
events feed, changes by new items at its top and old ones falling off its end: when that is all
that changed around the parts, the change is the new items prepended (an out-of-band
``afterbegin`` swap of the list) and the old ones deleted (``delete`` swaps), not the region.

Parts carry ``hx-swap-oob`` only when sent alone: htmx pulls every ``[hx-swap-oob]`` element
out of a message, nested ones included, so the whole region must not hold any.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable

from markupsafe import Markup

from .catalog import BROKEN

log = logging.getLogger(__name__)

#: Seconds between two LIVE badges in a page's stream messages. The badge's CSS animation turns
#: it red when no new badge came for three of these (``static/dashboard.css``); each message
#: carrying it costs every viewer some 200 bytes, so not every message does. A stream's first
#: message (its snapshot) always does: that is what swaps CONNECTING or POLLING for LIVE.
LIVE_BADGE_EVERY = 15.0
#: A newline between two tags: the stream writes each line of a message as ``data: <line>``, so
#: each costs 6 bytes per viewer; a space renders the same (outside ``<pre>``).
_BETWEEN_TAGS = re.compile(r">[ \t]*\n\s*<")

#: Brackets of a placeholder: NUL cannot occur in rendered HTML (templates escape text, and
#: no name that reaches a template may hold it: ``app.sources.sample.HOST_PATTERN``).
_MARK = "\x00"


class Parts:
    """The parts of one render of a region, and the change since the previous render.

    Call :meth:`start` before rendering, :meth:`put` from the template for each part, then
    :meth:`finish` with the rendered text.
    """

    def __init__(self) -> None:
        self._parts: dict[str, str] = {}
        self._skeleton: str | None = None
        self._previous: dict[str, str] = {}
        #: The list's id and its items' ids in order, in this render and the previous one.
        self._list: tuple[str | None, list[str]] = (None, [])
        self._previous_list: tuple[str | None, list[str]] = (None, [])
        #: The previous skeleton without the list's items.
        self._frame: str | None = None
        #: What to send for the last change: the whole region or its changed parts.
        self.change = ""

    def start(self) -> None:
        """Begin a render (the parts of the previous one are kept to compare with)."""
        self._parts = {}
        self._list = (None, [])

    def put(self, part_id: str, html: str, into: str | None = None) -> Markup:
        """Keep the part ``html`` (its root element has ``id="<part_id>"``) and return its
        placeholder for the template to write. ``into``: the id of the list (newest first)
        whose item it is (module docstring); one such list per region.

        :raise ValueError: two parts of one render have the same id, or items of two lists.
        """
        if part_id in self._parts:
            raise ValueError(f"part id {part_id!r} twice in one render")
        if into is not None:
            if self._list[0] not in (None, into):
                raise ValueError(f"items of two lists in one render: {self._list[0]!r}, {into!r}")
            self._list = (into, [*self._list[1], part_id])
        self._parts[part_id] = str(html)
        return Markup(f"{_MARK}{part_id}{_MARK}")

    def finish(self, skeleton: str) -> str:
        """The region's whole HTML from the rendered ``skeleton``; sets :attr:`change`."""
        pieces = skeleton.split(_MARK)
        # Odd pieces are part ids.
        whole = "".join(self._parts[piece] if n % 2 else piece for n, piece in enumerate(pieces))
        items = set(self._list[1])
        frame = "".join(piece for n, piece in enumerate(pieces) if not n % 2 or piece not in items)
        shifted = self._shifted() if frame == self._frame else None
        if skeleton == self._skeleton or shifted is not None:
            added, dropped = shifted or ([], [])
            self.change = "".join([
                *([f'<ol id="{Markup.escape(self._list[0])}" hx-swap-oob="afterbegin">',
                   *(self._parts[item] for item in added), "</ol>"] if added else []),
                *(f'<li id="{Markup.escape(item)}" hx-swap-oob="delete"></li>'
                  for item in dropped),
                *(_oob(part_id, html) for part_id, html in self._parts.items()
                  if part_id not in added and self._previous.get(part_id) != html)])
        else:
            self.change = whole
        self._skeleton, self._previous, self._frame = skeleton, self._parts, frame
        self._previous_list = self._list
        return whole

    def _shifted(self) -> tuple[list[str], list[str]] | None:
        """(new items at the list's top, old items off its end) if that is how the list went
        from the previous render to this one, and something changed; else None."""
        (name, now), (before_name, before) = self._list, self._previous_list
        if name is None or name != before_name or now == before:
            return None
        new = 0
        while new < len(now) and now[new] not in self._previous:
            new += 1
        kept = now[new:]
        if kept != before[:len(kept)] or (new and not kept and before):
            return None  # reordered, or every item replaced: the whole region is as small
        return now[:new], before[len(kept):]


def _oob(part_id: str, html: str) -> str:
    """``html`` marked as an out-of-band swap of the element with its id."""
    anchor = f' id="{Markup.escape(part_id)}"'
    return html.replace(anchor, anchor + ' hx-swap-oob="true"', 1)


class RenderedRegions:
    """Each region's HTML as last rendered, the change of each still to send, and the
    connection badges: what a host's page (``app.view.regions``) and a fleet page
    (``app.view.overview``) hand to their streams and polls.

    :param env: the Jinja environment; ``query``: what the page adds to its URLs; ``poll``:
        the poll endpoint its badge fetches (``/poll`` when None); ``label``: the page in the
        log; ``on_error``: called with a region's name each time it fails to render.
    """

    def __init__(self, env, query: str, poll: str | None = None, label: str = "",
                 on_error: Callable[[str], None] | None = None) -> None:
        self.label, self.on_error = label, on_error
        #: region -> its HTML, as last rendered.
        self.html: dict[str, str] = {}
        #: Regions whose last render raised (their previous HTML is shown meanwhile).
        self.failing: set[str] = set()
        #: region -> what the next message sends of it, where less than the whole region.
        self._changes: dict[str, str] = {}
        #: region -> its :class:`Parts` (:meth:`parts`), for regions that draw parts.
        self._parts: dict[str, Parts] = {}
        self._badge_at = float("-inf")  # time.monotonic() of the last change with the badge
        badge = env.get_template("_badge.html")
        self._badges = {state: badge.render(state=state, query=query, poll=poll)
                        for state in ("connecting", "live", "polling", "signed-out")}

    def render(self, name: str, draw: Callable[[], str], parts: Parts | None = None) -> bool:
        """Render region ``name`` with ``draw`` and :meth:`keep` it (its changed ``parts``
        alone where it has them); return whether its HTML changed. If ``draw`` raises, the
        region keeps its last HTML (a placeholder saying so if it has none): one region's bug
        must not stop every other update. Logged once until it renders again."""
        try:
            html = draw()
        except Exception:  # noqa: BLE001 - see the docstring
            if name not in self.failing:
                log.exception("region %r of %s failed to render; keeping its last HTML",
                              name, self.label)
            self.failing.add(name)
            if self.on_error is not None:
                self.on_error(name)
            return name not in self.html and self.keep(name, BROKEN.format(name=name))
        self.failing.discard(name)
        parts = parts if parts is not None else self._parts.get(name)
        return self.keep(name, html, parts.change if parts is not None else None)

    def parts(self, name: str) -> Parts:
        """Region ``name``'s :class:`Parts`, started for a render (made on first use): a
        template that puts its changing elements through it sends those alone."""
        parts = self._parts.setdefault(name, Parts())
        parts.start()
        return parts

    def keep(self, name: str, html: str, change: str | None = None) -> bool:
        """Keep ``html`` as region ``name``'s; return False if it is what it was. ``change``:
        what to send of it (its changed parts, :attr:`Parts.change`); None: the whole region.
        Two changes before one send: the first one's parts would be lost, so the whole goes."""
        html = _BETWEEN_TAGS.sub("> <", html)
        if html == self.html.get(name):
            return False
        self.html[name] = html
        if change is not None:
            change = _BETWEEN_TAGS.sub("> <", change)
            self._changes[name] = html if name in self._changes else change
        return True

    def forget_changes(self) -> None:
        """Nobody was sent the changes kept so far (a poll or a page load drew them)."""
        self._changes.clear()

    def badge(self, state: str) -> str:
        """The connection badge's HTML for ``connecting``, ``live``, ``polling`` or
        ``signed-out`` (the last message of a stream whose person was signed out)."""
        return self._badges[state]

    def fragments(self, names, badge: str) -> str:
        """The whole HTML of the regions ``names`` and the ``badge``: a snapshot, a poll."""
        return "".join([*(self.html[name] for name in names), self._badges[badge]])

    def changes(self, names) -> str:
        """What to send for the regions ``names`` that just changed (each its change, else its
        whole HTML), and the LIVE badge if the last one went :data:`LIVE_BADGE_EVERY` seconds
        ago or more; the changes are taken."""
        now = time.monotonic()
        badge = now - self._badge_at >= LIVE_BADGE_EVERY
        if badge:
            self._badge_at = now
        return "".join([*(self._changes.pop(name, None) or self.html[name]
                          for name in dict.fromkeys(names)), self._badges["live"] if badge else ""])
