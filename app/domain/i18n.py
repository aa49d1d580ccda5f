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
