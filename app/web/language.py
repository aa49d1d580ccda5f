"""The language of each request, with Flask-Babel: the pages rendered per request (sign-in,
admin, audit, errors) translate through it, and the request's language picks which language's
live page (``app.live.pages``) its regions come from.

The language is, in order: ``?lang=<code>`` on any page (which also sets the ``lang`` cookie
for a year: the footer's links), the ``lang`` cookie, the browser's ``Accept-Language``, and
``DASHBOARD_LANGUAGE``. Only the codes of :class:`app.view.language.Languages` count; anything
else is ignored. JSON answers, logs and the ``flask`` commands stay English.
"""

from __future__ import annotations

from flask import Flask, current_app, g, request
from flask_babel import Babel, get_locale

from app.view.language import Language, Languages

COOKIE = "lang"
_YEAR = 365 * 86400


def _languages() -> Languages:
    return current_app.extensions["languages"]


def choose() -> str:
    """The request's language code (module docstring); Flask-Babel's locale selector."""
    known = _languages().codes
    for asked in (request.args.get("lang"), request.cookies.get(COOKIE)):
        if asked in known:
            return asked
    # Browsers send BCP 47 tags (zh-CN, zh-Hans-CN, zh): each Chinese one reads Simplified
    # Chinese here, the only Chinese catalog.
    tags = {code.replace("_", "-").lower(): code for code in known}
    for tag, _quality in request.accept_languages:
        tag = tag.lower()
        if tag in tags:
            return tags[tag]
        if tag.split("-")[0] == "zh" and "zh_Hans" in known:
            return "zh_Hans"
        if tag.split("-")[0] in tags:
            return tags[tag.split("-")[0]]
    return _languages().default


def current() -> Language:
    """The request's :class:`~app.view.language.Language`."""
    if "language" not in g:
        g.language = _languages().get(str(get_locale()))
    return g.language


def _remember(response):
    """Keep a ``?lang=`` choice in the cookie (module docstring)."""
    asked = request.args.get("lang")
    if asked in _languages().codes and request.cookies.get(COOKIE) != asked:
        response.set_cookie(COOKIE, asked, max_age=_YEAR, samesite="Lax", httponly=True,
                            secure=request.is_secure)
    return response


def _of_request(name: str):
    def figure(*args, **kwargs):
        return getattr(current(), name)(*args, **kwargs)
    return figure


def register(app: Flask, languages: Languages) -> None:
    """Install Flask-Babel on ``app`` (catalogs under ``languages.directory``), the cookie of
    a ``?lang=`` choice, and the templates' ``language`` (the request's) and ``languages``
    (code -> own name, for the footer)."""
    app.extensions["languages"] = languages
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = str(languages.directory)
    app.config["BABEL_DEFAULT_LOCALE"] = languages.default
    Babel(app, locale_selector=choose)
    app.after_request(_remember)
    names = languages.names
    # The figure filters of the request's language, for pages rendered per request.
    for name in languages.get().filters():
        app.jinja_env.filters[name] = _of_request(name)

    @app.context_processor
    def language_context():
        return {"language": current(), "languages": names}
