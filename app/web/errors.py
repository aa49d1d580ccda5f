"""One error split: JSON for programs (always English), and for people a small HTML fragment
(htmx) or an error page, in the request's language.

A sentence for people is given as a :class:`~app.domain.i18n.Text` (:func:`fail`, or an
:class:`~app.domain.approvals.ApprovalError` made with one): the page says it in the reader's
language, the JSON answer in English. A description that is only English (Werkzeug's own, or
a message from a library) is shown under the translated title, marked ``lang="en"``.
"""

from __future__ import annotations

from typing import NoReturn

from flask import Flask, current_app, jsonify, render_template, request
from flask_babel import gettext
from werkzeug.exceptions import HTTPException, default_exceptions

from app.domain.approvals import ApprovalError
from app.domain.i18n import N_, Text
from app.domain.payloads import BadPayload
from app.store import StoreUnavailable

#: The title of an error page or fragment, by status (others: :data:`OTHER`).
TITLES = {400: N_("Bad request"), 401: N_("Sign-in needed"), 403: N_("Not allowed"),
          404: N_("Not found"), 405: N_("Method not allowed"), 409: N_("Conflict"),
          410: N_("No longer possible"), 413: N_("Request too large"),
          415: N_("Unsupported content type"), 422: N_("Invalid input"),
          429: N_("Too many requests"), 500: N_("Server error"),
          503: N_("Temporarily unavailable")}
OTHER = N_("Error")


def error_response(status: int, message: str, **extra):
    """Return ``({"error": message, ...}, status)`` as a JSON response."""
    response = jsonify({"error": message, **extra})
    response.status_code = status
    return response


def fail(status: int, message: str | Text, **values) -> NoReturn:
    """Abort the request with ``status`` (a 4xx or 5xx that Werkzeug knows) and the sentence
    ``message`` (:func:`~app.domain.i18n.N_`-marked, ``%(name)s`` placeholders filled from
    ``values``; or a :class:`~app.domain.i18n.Text` made already): English in a JSON answer,
    the request's language on a page or fragment.

    :raise HTTPException: always.
    """
    text = message if isinstance(message, Text) else Text(message, **values)
    exc = default_exceptions[status](description=str(text))
    exc.text = text  # type: ignore[attr-defined] - read by the handler below
    raise exc


def for_programs() -> bool:
    """Whether the request goes to a program's route: under ``/api/`` or ``/simulator/``, or
    the agent backend's paths under ``DASHBOARD_COMPAT_PREFIX`` (``/agent_backend/api/...``)."""
    prefix = current_app.config["SETTINGS"].compat_prefix
    return request.path.startswith(("/api/", "/simulator/", f"{prefix}/api/"))


def _wants_json() -> bool:
    return for_programs() or request.accept_mimetypes.best == "application/json"


def _for_people(status: int, text: Text | None, english: str | None, headers=()):
    """The fragment (htmx) or page of an error: its title and sentence in the request's
    language; ``english``, a description with no :class:`Text`, under it as it is."""
    context = {"status": status, "title": gettext(TITLES.get(status, OTHER)),
               "message": text.say(gettext) if text is not None else None,
               "english": None if text is not None else english}
    template = "_error.html" if request.htmx else "error.html"
    return render_template(template, **context), status, list(headers)


def register(app: Flask) -> None:
    """Install the handlers for HTTP errors, bad payloads, refused approval answers (404, 409,
    410) and an unreachable store (503)."""
    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        # The exception's own headers (Retry-After, Allow) go along; its Content-Type does not.
        headers = [(k, v) for k, v in exc.get_headers() if k.lower() != "content-type"]
        if _wants_json():
            response = error_response(exc.code or 500, exc.description or exc.name)
            response.headers.extend(headers)
            return response
        if exc.code is None or exc.code < 400:  # a redirect or the like raised as one
            return exc
        own = exc.description != type(exc).description  # not Werkzeug's English boilerplate
        return _for_people(exc.code, getattr(exc, "text", None),
                           exc.description if own else None, headers)

    @app.errorhandler(BadPayload)
    def bad_payload(exc: BadPayload):
        extra = {"details": exc.details} if exc.details is not None else {}
        return error_response(exc.status, str(exc), **extra)

    @app.errorhandler(ApprovalError)
    def approval_refused(exc: ApprovalError):
        # 403 (a key answering its own), 404, 409, 410; a 409 or 410 carries the approval
        # that stands.
        if request.htmx and not _wants_json():
            return _for_people(exc.status, exc.text, str(exc))
        extra = {"approval": exc.approval} if exc.approval is not None else {}
        return error_response(exc.status, str(exc), **extra)

    @app.errorhandler(StoreUnavailable)
    def store_down(exc: StoreUnavailable):
        app.logger.warning("store unavailable: %s", exc)
        response = error_response(503, "the store is unavailable; nothing was written, retry later")
        response.headers["Retry-After"] = "1"
        return response
