"""Words for people in any language, for the layers that know no catalog (``app.view.language``
has them): messages are marked with :func:`N_` for ``pybabel extract`` and said through a
``say(message, **values)`` callable that the caller passes (a language's ``gettext``), or
:func:`source` (English, the catalog's source).
"""

from __future__ import annotations

from collections.abc import Callable

#: ``say(message, **values) -> str``: ``message`` in some language, placeholders filled.
Say = Callable[..., str]


def N_(message: str) -> str:  # noqa: N802 - gettext's own name for it
    """Mark ``message`` for the catalog without translating it (``gettext_noop``): for words
    kept in tables, or said later through a :data:`Say`."""
    return message


def source(message: str, **values) -> str:
    """``message`` as written (English), with its ``%(name)s`` placeholders filled."""
    return message % values if values else message


class Text:
    """A sentence for people made on the server and said later, in each reader's language: an
    :func:`N_`-marked ``message`` with ``%(name)s`` placeholders and their ``values``. A value
    that is itself a :class:`Text` (a word such as an approval's state) is said in the same
    language. ``str()`` is the English sentence: what the JSON API, logs and old readers get.

    Stored as :meth:`stored` (``{"message": str, "values": {name: str | int | float | dict}}``,
    JSON) and read back with :meth:`from_stored`.
    """

    __slots__ = ("message", "values")

    def __init__(self, message: str, **values) -> None:
        self.message = message
        self.values = values

    def say(self, say: Say = source) -> str:
        """The sentence through ``say`` (a language's ``gettext``; default: English); the bare
        message if its placeholders and values do not match (a row made by other code)."""
        values = {name: value.say(say) if isinstance(value, Text) else value
                  for name, value in self.values.items()}
        try:
            return say(self.message, **values)
        except (KeyError, ValueError, TypeError):
            return self.message

    def __str__(self) -> str:
        return self.say()

    def __repr__(self) -> str:
        return f"Text({self.message!r}, **{self.values!r})"

    def __eq__(self, other) -> bool:
        return (isinstance(other, Text) and (self.message, self.values)
                == (other.message, other.values))

    def __hash__(self) -> int:
        return hash(self.message)

    def stored(self) -> dict:
        """The JSON form: ``{"message": ..., "values": {...}}``, nested texts as the same."""
        return {"message": self.message,
                "values": {name: value.stored() if isinstance(value, Text) else value
                           for name, value in self.values.items()}}

    @classmethod
    def from_stored(cls, data) -> Text | None:
        """The text :meth:`stored` gave, or None if ``data`` is not one (an old row's absent
        field, or something else): the caller then shows the English it kept."""
        if not (isinstance(data, dict) and isinstance(data.get("message"), str)
                and isinstance(data.get("values", {}), dict)):
            return None
        values = {}
        for name, value in data.get("values", {}).items():
            values[name] = cls.from_stored(value) if isinstance(value, dict) else value
            if values[name] is None and value is not None:
                return None
        return cls(data["message"], **values)


class TextError(Exception):
    """A refusal whose message may be a :class:`Text`: ``str()`` is the English (the JSON API,
    logs, the ``flask`` commands), :attr:`text` the sentence a page says in its reader's
    language, or None when there is only the English."""

    def __init__(self, message: str | Text, *args) -> None:
        super().__init__(str(message), *args)
        self.text = message if isinstance(message, Text) else None


#: The field of a stored event or alert that holds its sentence as :meth:`Text.stored`,
#: beside ``message`` (the English). Rows stored before it existed have only ``message``.
TEXT = "text"


def with_text(record: dict, text: Text, field: str = "message") -> dict:
    """``record`` with ``text`` kept twice: English in ``field`` (what the JSON API, logs and
    old readers get) and structured in :data:`TEXT` (what a page says in its language)."""
    return {**record, field: str(text), TEXT: text.stored()}


def said(record: dict, say: Say = source, field: str = "message") -> str:
    """A stored record's sentence through ``say``: its :data:`TEXT` if it has a valid one,
    else its ``field`` as it was stored (an old row, or one a program sent); ``""`` for none."""
    text = Text.from_stored(record.get(TEXT))
    return text.say(say) if text is not None else (record.get(field) or "")


def public(record: dict) -> dict:
    """``record`` without its :data:`TEXT`: what the JSON API answers (English only)."""
    return {key: value for key, value in record.items() if key != TEXT} \
        if TEXT in record else record
