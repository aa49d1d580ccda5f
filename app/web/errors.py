"""One error split: JSON for programs, a small HTML fragment for htmx, Werkzeug's page otherwise."""

from __future__ import annotations

from flask import Flask, current_app, jsonify, request
from markupsafe import escape
from werkzeug.exceptions import HTTPException

from app.domain.approvals import ApprovalError
from app.domain.schemas import BadPayload
from app.store import StoreUnavailable


def error_response(status: int, message: str, **extra):
    """Return ``({"error": message, ...}, status)`` as a JSON response."""
    response = jsonify({"error": message, **extra})
    response.status_code = status
    return response


def for_programs() -> bool:
    """Whether the request goes to a program's route: under ``/api/`` or ``/simulator/``, or
    the agent backend's paths under ``DASHBOARD_COMPAT_PREFIX`` (``/agent_backend/api/...``)."""
    prefix = current_app.config["SETTINGS"].compat_prefix
    return request.path.startswith(("/api/", "/simulator/", f"{prefix}/api/"))


def _wants_json() -> bool:
    return for_programs() or request.accept_mimetypes.best == "application/json"


def register(app: Flask) -> None:
    """Install the handlers for HTTP errors, bad payloads, refused approval answers (404, 409,
    410) and an unreachable store (503)."""
    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        # The exception's own headers (Retry-After, Allow) go along; its Content-Type does not.
        headers = [(k, v) for k, v in exc.get_headers() if k.lower() != "content-type"]
        if request.htmx and not _wants_json():
            return f'<p class="error" role="alert">{escape(exc.description)}</p>', exc.code, headers
        if _wants_json():
            response = error_response(exc.code or 500, exc.description or exc.name)
            response.headers.extend(headers)
            return response
        return exc

    @app.errorhandler(BadPayload)
    def bad_payload(exc: BadPayload):
        extra = {"details": exc.details} if exc.details is not None else {}
        return error_response(exc.status, str(exc), **extra)

    @app.errorhandler(ApprovalError)
    def approval_refused(exc: ApprovalError):
        # 403 (a key answering its own), 404, 409, 410; a 409 or 410 carries the approval
        # that stands.
        if request.htmx and not _wants_json():
            return f'<p class="error" role="alert">{escape(str(exc))}</p>', exc.status
        extra = {"approval": exc.approval} if exc.approval is not None else {}
        return error_response(exc.status, str(exc), **extra)

    @app.errorhandler(StoreUnavailable)
    def store_down(exc: StoreUnavailable):
        app.logger.warning("store unavailable: %s", exc)
        response = error_response(503, "the store is unavailable; nothing was written, retry later")
        response.headers["Retry-After"] = "1"
        return response
