"""Regions sent in parts: when only some parts of a region changed, send those parts alone.

A region such as the fleet row or the fleet table is mostly a list of rows or cards, of which
a few change between two renders. Its template writes each part (an element with a stable
``id``) through :meth:`Parts.put`, which leaves a placeholder in the region's text: the text
with placeholders is the region's *skeleton*. When the skeleton is the same as last time (same
parts in the same order, same surroundings), the change is sent as the changed parts alone,
each an out-of-band swap of the element with its id; otherwise the whole region goes.

Parts carry ``hx-swap-oob`` only when sent alone: htmx pulls every ``[hx-swap-oob]`` element
out of a message, nested ones included, so the whole region must not hold any.
"""

from __future__ import annotations

from markupsafe import Markup

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
        #: What to send for the last change: the whole region or its changed parts.
        self.change = ""

    def start(self) -> None:
        """Begin a render (the parts of the previous one are kept to compare with)."""
        self._parts = {}

    def put(self, part_id: str, html: str) -> Markup:
        """Keep the part ``html`` (its root element has ``id="<part_id>"``) and return its
        placeholder for the template to write.

        :raise ValueError: two parts of one render have the same id.
        """
        if part_id in self._parts:
            raise ValueError(f"part id {part_id!r} twice in one render")
        self._parts[part_id] = str(html)
        return Markup(f"{_MARK}{part_id}{_MARK}")

    def finish(self, skeleton: str) -> str:
        """The region's whole HTML from the rendered ``skeleton``; sets :attr:`change`."""
        pieces = skeleton.split(_MARK)
        # Odd pieces are part ids.
        whole = "".join(self._parts[piece] if n % 2 else piece for n, piece in enumerate(pieces))
        if skeleton == self._skeleton:
            self.change = "".join(
                _oob(part_id, html) for part_id, html in self._parts.items()
                if self._previous.get(part_id) != html)
        else:
            self.change = whole
        self._skeleton, self._previous = skeleton, self._parts
        return whole


def _oob(part_id: str, html: str) -> str:
    """``html`` marked as an out-of-band swap of the element with its id."""
    anchor = f' id="{Markup.escape(part_id)}"'
    return html.replace(anchor, anchor + ' hx-swap-oob="true"', 1)
