"""The language of each request, with Flask-Babel: the pages rendered per request (sign-in,
admin, audit, errors) translate through it, and the request's language picks which language's
live page (``app.live.pages``) its regions come from.

The language is, in order: a signed-in person's own choice, kept with their account (the
footer's buttons post it to ``/ui/language``: :func:`choose_for_me`); ``?lang=<code>`` on any
page (which also sets the ``lang`` cookie for a year: the footer's links for everyone else);
the ``lang`` cookie; the browser's ``Accept-Language``; and ``DASHBOARD_LANGUAGE``. Only the
codes of :class:`app.view.language.Languages` count; anything else is ignored. JSON answers,
logs and the ``flask`` commands stay English.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, Flask, current_app, g, redirect, request
from flask_babel import Babel, get_locale

from app.domain import accounts
from app.domain.i18n import N_
from app.store import StoreUnavailable
from app.view.language import Language, Languages

from .access import needs
from .auth import record
from .credentials import Refused, principal
from .errors import error_response, fail

bp = Blueprint("language", __name__)

COOKIE = "lang"
_YEAR = 365 * 86400


def _languages() -> Languages:
    return current_app.extensions["languages"]


def choose() -> str:
    """The request's language code (module docstring); Flask-Babel's locale selector."""
    known = _languages().codes
    for asked in (_own(), request.args.get("lang"), request.cookies.get(COOKIE)):
        if asked in known:
            return asked
    # Browsers send BCP 47 tags (zh-CN, zh-Hans-CN, zh): a tag this dashboard has no catalog
    # for reads the catalog of its language (every Chinese one reads zh_Hans, the only one).
    tags = {code.replace("_", "-").lower(): code for code in known}
    primary = {code.split("_")[0].lower(): code for code in known}
    for tag, _quality in request.accept_languages:
        tag = tag.lower()
        found = tags.get(tag) or primary.get(tag.split("-")[0])
        if found:
            return found
    return _languages().default


def _own() -> str | None:
    """The signed-in person's own choice (None: not a person, or none made)."""
    try:
        who = principal()
    except (Refused, StoreUnavailable):  # answered elsewhere; its page still needs words
        return None
    if who.kind != "person":
        return None
    account = current_app.extensions["dashboard"].accounts.account(who.name)
    return account.get("language") if account else None


@bp.post("/ui/language")
@needs("read")
def choose_for_me():
    """A signed-in person's choice of language (form field ``lang``: a known code), kept with
    their account and recorded in the audit log; ``303`` back to the page it came from. For
    anyone else the footer has plain ``?lang=`` links (a cookie) instead.

    :raise 400: an unknown code. :raise 403: not a signed-in person (a key, the view token).
    """
    who = principal()
    if who.kind != "person":
        return error_response(403, "this needs a signed-in person (a language of their own); "
                                   "use a ?lang= link")
    code = request.form.get("lang", "")
    if code not in _languages().codes:
        fail(400, N_("unknown language '%(code)s'; known: %(known)s"), code=code,
             known=", ".join(_languages().codes))
    live = current_app.extensions["dashboard"]
    accounts.set_language(live.store, who.name, code)
    live.accounts.forget(who.name)  # this process reads it at once, others from the log
    record("account-language", who.name, detail={"language": code})
    came = urlsplit(request.referrer or "")
    same = came.netloc == request.host and came.path.startswith("/")
    return redirect((came.path + (f"?{came.query}" if came.query else "")) if same else "/", 303)


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

    app.register_blueprint(bp)

    @app.context_processor
    def language_context():
        return {"language": current(), "languages": names}
