"""The interface's languages: words through gettext catalogs, figures and times through Babel.

A :class:`Language` is one language of the interface: its Babel ``Locale``, its catalog
(``translations/<code>/LC_MESSAGES/messages.mo``, compiled by ``scripts/setup`` from the
``.po`` file beside it; English is the source and has none) and a Jinja environment that
renders templates in it, with ``{% trans %}``, ``_()`` and the figure filters bound to it. The
live views render their regions with their language's environment, so a region is rendered
once per language in use, never per viewer (``app.live.pages``). Pages rendered per request
use Flask-Babel, which reads the same catalogs (``app.web.language``).

Figures: the locale's decimal mark (``babel.numbers.get_decimal_symbol``), no grouping; sizes in IEC
units (``1.5 GiB``, the unit itself is not translated, as Chinese ops tools write it too);
times of day and dates in the dashboard's zone (``DASHBOARD_TIMEZONE``, else the server's);
relative times (``3 分钟前``) by ``babel.dates.format_timedelta``.
"""

from __future__ import annotations

import functools
import gettext
from datetime import datetime, tzinfo
from pathlib import Path

from babel import Locale
from babel.dates import format_datetime, format_timedelta
from babel.numbers import get_decimal_symbol
from babel.support import Translations
from jinja2 import BytecodeCache, Environment, FileSystemBytecodeCache

from app.domain.i18n import N_, Say, said, source  # noqa: F401 - N_: marked here as in the domain

#: The language of the source texts: it needs no catalog.
SOURCE = "en"
#: The language's own name, in its catalog (``中文 (简体)``): what the footer's links say. Not
#: Babel's display names, whose data for one locale weighs megabytes in every worker.
OWN_NAME = N_("English")
_UNITS = ("", "Ki", "Mi", "Gi", "Ti")


def duration(seconds: float | None, say: Say = source) -> str:
    """A duration in seconds to minutes' precision in ``say``'s language:
    ``93784 -> '1 d 2 h 3 min'``; ``–`` for None."""
    if seconds is None:
        return "–"
    minutes = int(seconds) // 60
    days, minutes = divmod(minutes, 1440)
    hours, minutes = divmod(minutes, 60)
    parts = [say(N_("%(days)d d"), days=days)] if days else []
    if days or hours:
        parts.append(say(N_("%(hours)d h"), hours=hours))
    parts.append(say(N_("%(minutes)d min"), minutes=minutes))
    return " ".join(parts)


@functools.cache
def compiled_templates(kind: str = "regions") -> BytecodeCache | None:
    """Jinja's cache of compiled templates, in a private folder of this user's under the
    system's temporary one: each environment of ``kind``, in every worker and after a restart,
    compiles a template once rather than each time (the 30 regions: about half a second).
    A template's code depends on its environment's settings, which Jinja's cache key does not
    hold: only environments that compile alike share a ``kind`` (``regions``: every
    :class:`Language`'s; ``pages``: the Flask app's). None (no cache) when the folder cannot
    be made."""
    try:
        return FileSystemBytecodeCache(pattern=f"__dashboard_{kind}_%s.cache")
    except (OSError, RuntimeError):
        return None


def gettext_of(language: Language | None) -> Say:
    """``gettext(message, **values)`` of ``language``, or of the source texts (None): the
    message with its ``%(name)s`` placeholders filled."""
    return language.gettext if language is not None else source


class Language:
    """One language of the interface.

    :param code: its catalog's name: ``en``, ``zh_Hans`` (a Babel locale identifier).
    :param translations: its gettext catalog (an empty one for :data:`SOURCE`).
    :param base: the Jinja environment the language's own is made from (the app's: its
        filters, globals and autoescaping).
    :param zone: the zone of times of day and dates.
    """

    def __init__(self, code: str, translations: gettext.NullTranslations, base: Environment,
                 zone: tzinfo) -> None:
        self.code = code
        self.locale = Locale.parse(code)
        #: For ``<html lang>``: BCP 47 (``zh-Hans``).
        self.tag = code.replace("_", "-")
        self.translations = translations
        self.zone = zone
        #: The zone's abbreviation now (``UTC``, ``CET``), as the pages say which zone times are in.
        self.zone_name = datetime.now(zone).tzname() or str(zone)
        # An environment of its own, not an overlay: an overlay shares the base's template
        # cache (templates compiled with the base's words) and its i18n extension (installing
        # this language's catalog would change the base's).
        env = Environment(loader=base.loader, autoescape=base.autoescape,
                          undefined=base.undefined, auto_reload=base.auto_reload,
                          extensions=["jinja2.ext.i18n"], bytecode_cache=compiled_templates())
        env.globals.update({**base.globals, "language": self})
        env.filters.update({**base.filters, **self.filters()})
        env.tests.update(base.tests)
        env.install_gettext_translations(translations, newstyle=True)  # type: ignore[attr-defined]
        self.env = env

    @functools.cached_property
    def _decimal(self) -> str:
        # Asked on first use: Babel loads a locale's whole data (megabytes) at its first
        # question, which a worker that renders no figure never pays.
        return get_decimal_symbol(self.locale)

    def filters(self) -> dict:
        """The figure filters bound to this language (the names the templates use)."""
        return {"bytes": self.bytes, "duration": self.duration, "clock": self.clock,
                "stamp": self.stamp, "number": self.number, "ago": self.ago, "word": self.word,
                "said": self.said}

    def gettext(self, message: str, **values) -> str:
        """``message`` in this language, with ``%(name)s`` placeholders filled from ``values``."""
        text = self.translations.gettext(message)
        return text % values if values else text

    def word(self, value) -> str:
        """A word that came as data (a level, a state, a role: :mod:`app.view.words`) in this
        language, as plain text: the template escapes it. Jinja's ``_()`` would return it as
        safe markup, which text from outside (a process state an agent sent) must never be."""
        return self.translations.gettext(str(value)) if value else ""  # "": the header

    def said(self, record: dict) -> str:
        """A stored event's or alert's sentence in this language, as plain text (the template
        escapes it): its structured text if the server made it (:func:`app.domain.i18n.said`),
        else its ``message`` as stored (a program's words, an old row)."""
        return said(record, self.gettext)

    def number(self, value: float | None, digits: int = 1) -> str:
        """``value`` with ``digits`` decimals and the locale's decimal mark;
        ``–`` for None."""
        if value is None:
            return "–"
        # Python's own formatting with the locale's decimal mark, which Babel looked up once:
        # format_decimal costs 60 times as much, and a region writes dozens of figures a second.
        text = f"{value:.{digits}f}"  # no grouping: 1000.0 MiB
        return text if self._decimal == "." else text.replace(".", self._decimal)

    def bytes(self, value: float | None, suffix: str = "B") -> str:
        """Bytes with IEC units: ``1536 -> '1.5 KiB'``; ``–`` for None."""
        if value is None:
            return "–"
        for unit in _UNITS:
            if abs(value) < 1024 or unit == "Ti":
                return f"{self.number(value, 1 if unit else 0)} {unit}{suffix}"
            value /= 1024
        raise AssertionError("unreachable")

    def duration(self, seconds: float | None) -> str:
        """A duration in seconds to minutes' precision: ``93784 -> '1 d 2 h 3 min'``."""
        return duration(seconds, self.gettext)

    def clock(self, ts: float) -> str:
        """Unix seconds as the time of day in the dashboard's zone, ``'14:03:07'``."""
        return format_datetime(datetime.fromtimestamp(ts, self.zone), "HH:mm:ss",
                               locale=self.locale)

    def stamp(self, ts: float) -> str:
        """Unix seconds as a date and time of day in the dashboard's zone,
        ``'2025-03-01 14:03:07'`` (the same digits in every language: a table's column)."""
        return format_datetime(datetime.fromtimestamp(ts, self.zone), "yyyy-MM-dd HH:mm:ss",
                               locale=self.locale)

    def ago(self, seconds: float) -> str:
        """How long ago, in words: ``'3 minutes ago'``, ``'3分钟前'``."""
        return format_timedelta(-seconds, add_direction=True, locale=self.locale)


class Languages:
    """The languages this dashboard speaks: :data:`SOURCE` and every compiled catalog under
    ``directory``.

    :param base: the app's Jinja environment. :param default: ``DASHBOARD_LANGUAGE``.
    :param zone: the zone of times (``DASHBOARD_TIMEZONE``).
    :raise ValueError: ``default`` is neither :data:`SOURCE` nor a compiled catalog.
    """

    def __init__(self, base: Environment, directory: Path, default: str, zone: tzinfo) -> None:
        self.directory = directory
        self._base = base
        self._zone = zone
        found = sorted(p.parent.parent.name for p in directory.glob("*/LC_MESSAGES/messages.mo"))
        #: Codes, the source first.
        self.codes: tuple[str, ...] = (SOURCE, *(c for c in found if c != SOURCE))
        if default not in self.codes:
            raise ValueError(f"no catalog for {default!r}; known: {', '.join(self.codes)}")
        self.default = default

    @functools.cache
    def get(self, code: str | None = None) -> Language:
        """The language ``code`` (None or unknown: the default), made on first use."""
        code = code if code in self.codes else self.default
        translations = (gettext.NullTranslations() if code == SOURCE
                        else Translations.load(str(self.directory), [code]))
        return Language(code, translations, self._base, self._zone)

    @property
    def names(self) -> dict[str, str]:
        """Code -> the language's own name (``中文 (简体)``), for the footer's links."""
        return {code: OWN_NAME if code == SOURCE else
                Translations.load(str(self.directory), [code]).gettext(OWN_NAME)
                for code in self.codes}
