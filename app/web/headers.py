"""The headers of every stream (:data:`STREAM_HEADERS`), and security headers on every answer: a strict Content-Security-Policy on HTML, ``nosniff`` and
``Referrer-Policy`` everywhere.

The policy allows no inline script, no ``eval`` and nothing from another origin. htmx 4 needs no
more: it adds its indicator CSS as a constructed style sheet, which ``style-src`` does not
govern, and this project uses no ``hx-on`` or ``js:`` values (the browser tests fail on any
console error, CSP reports included). ``img-src data:`` is for the empty favicon.
"""

from __future__ import annotations

from flask import Flask, Response

#: DESIGN.md, "The wire". No ``Connection`` header: PEP 3333 forbids hop-by-hop headers.
#: ``no-transform`` (RFC 9111, 5.2.2.6): a proxy must not re-encode the stream, as gzip would
#: hold its bytes in the compressor's buffers.
STREAM_HEADERS = {"Cache-Control": "no-cache, no-transform", "X-Accel-Buffering": "no"}

CSP = ("default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; "
       "form-action 'self'; base-uri 'none'; object-src 'none'")


def _add(response: Response) -> Response:
    headers = response.headers
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "same-origin")
    if response.mimetype == "text/html":
        headers.setdefault("Content-Security-Policy", CSP)
    return response


def register(app: Flask) -> None:
    """Add the headers to every response ``app`` makes."""
    app.after_request(_add)
