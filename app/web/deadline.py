"""WSGI middleware: a request's body must arrive within ``DASHBOARD_BODY_TIMEOUT`` seconds.

Why: a client that announces a body (``Content-Length``, or chunked) and never sends it would
hold its connection and greenlet for as long as it likes; a few thousand of them fill a
worker's ``worker_connections``. Every read of ``wsgi.input`` runs under one deadline counted
from the request's start; past it the client socket is shut down (nothing more can be read or
written) and the read raises Werkzeug's ``RequestTimeout`` (408), which ends the request.
"""

from __future__ import annotations

import logging
import socket
import time

import gevent
from werkzeug.exceptions import RequestTimeout

log = logging.getLogger(__name__)


class BodyDeadline:
    """Wrap ``wsgi_app`` so that reading a request body takes at most ``seconds``."""

    def __init__(self, wsgi_app, seconds: float) -> None:
        self.wsgi_app = wsgi_app
        self.seconds = seconds

    def __call__(self, environ, start_response):
        if environ.get("CONTENT_LENGTH") not in (None, "", "0") or \
                "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower():
            environ["wsgi.input"] = _TimedInput(environ["wsgi.input"],
                                                time.monotonic() + self.seconds,
                                                environ.get("gunicorn.socket"), self.seconds)
        return self.wsgi_app(environ, start_response)


class _TimedInput:
    """``wsgi.input`` whose reads give up at ``deadline`` (``time.monotonic()``)."""

    def __init__(self, stream, deadline: float, sock: socket.socket | None,
                 seconds: float) -> None:
        self._stream = stream
        self._deadline = deadline
        self._sock = sock
        self._seconds = seconds

    def read(self, *args):
        return self._timed(self._stream.read, *args)

    def readline(self, *args):
        return self._timed(self._stream.readline, *args)

    def readlines(self, *args):
        return self._timed(self._stream.readlines, *args)

    def __iter__(self):
        return iter(self.readline, b"")

    def _timed(self, read, *args):
        timeout = gevent.Timeout(max(self._deadline - time.monotonic(), 0))
        timeout.start()
        try:
            return read(*args)
        except gevent.Timeout as exc:
            if exc is not timeout:
                raise
            log.warning("a request body did not arrive within %g s; closing the connection",
                        self._seconds)
            if self._sock is not None:
                try:
                    self._sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
            raise RequestTimeout(f"the request body did not arrive within {self._seconds:g} s") \
                from None
        finally:
            timeout.close()
