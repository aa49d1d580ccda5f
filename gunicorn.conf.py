"""gunicorn settings (DESIGN.md, "Deployment"). Command-line flags (-b, -w, ...) override these.

Environment: GUNICORN_BIND (default 127.0.0.1:8000), GUNICORN_WORKERS (default 1: one worker with
the SQLite store), GUNICORN_WORKER_CONNECTIONS (requests in progress per worker, and as many
streams again once their request is over: StreamWorker).
"""

import gc
import logging
import os
import re
import resource
import shutil
import tempfile
import time

import gevent
from gunicorn.glogging import Logger
from gunicorn.workers.ggevent import GeventWorker

# prometheus-client's multiprocess mode (app/web/ops.py): workers write their metric values to
# files in this folder and /metrics adds them up. It must be set before any worker imports the
# client. A fresh folder per arbiter, removed when it exits; a reload (SIGHUP) re-reads this file
# in the same arbiter and keeps the folder, a new arbiter (USR2 upgrade) makes its own. A folder
# given in the environment is used as it is: clearing it between runs is then up to whoever set
# it.
_OWNER = "_DASHBOARD_METRICS_DIR_OWNER"  # pid of the arbiter that made the folder
_given = "PROMETHEUS_MULTIPROC_DIR" in os.environ and _OWNER not in os.environ
_ours = os.environ.get(_OWNER) == str(os.getpid())
if not (_given or _ours):
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="dashboard-metrics-")
    os.environ[_OWNER] = str(os.getpid())

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("GUNICORN_WORKERS", "1"))


class StreamWorker(GeventWorker):
    """gunicorn's gevent worker, letting a stream leave its request's greenlet.

    Once the dashboard's Hub owns a stream's connection (``app.live.delivery``), the stream
    raises ``Detached``; this worker then ends the request's greenlet as gunicorn ends a
    connection (``StopIteration``), neither writing to nor closing it. An open stream then
    costs no greenlet, stack or request objects (``bench/RESULTS.md``: RSS per connection).
    The Hub owns at most ``worker_connections`` streams; gunicorn's pool bounds the rest.
    """

    def load_wsgi(self):
        super().load_wsgi()
        from app.live import delivery  # the app is loaded now: nothing new in the arbiter

        self.detached = delivery.Detached
        self.handover = delivery.HANDOVER
        self.handover.limit = self.worker_connections

    def handle_request(self, listener_name, req, sock, addr):
        try:
            return super().handle_request(listener_name, req, sock, addr)
        except self.detached:
            raise StopIteration from None  # gunicorn's way to end a connection's loop quietly

    def run(self):
        super().run()
        # gunicorn returns once no request is in progress, but the streams the Hub owns are
        # not requests: post_worker_init's watch ends them with their farewell (within a
        # second of the stop); give those last writes until graceful_timeout.
        deadline = time.monotonic() + self.cfg.graceful_timeout
        while self.handover.owned and time.monotonic() < deadline:
            self.notify()
            gevent.sleep(0.1)


class _NoQueryKeys(logging.Filter):
    """Redact ``token=<key>`` from a log line: the key the agent backend's browser client
    sends in the query string of its session stream (``DASHBOARD_QUERY_TOKENS``; the app takes
    it as exactly ``token=``, after ``?`` or ``&``). Every line of gunicorn's error and access
    logs passes here: the access log's request line (``%(r)s``) and query (``%(q)s``), and
    "Error handling request <uri>"."""

    KEY = re.compile(r"""(?:^|(?<=[?&\s"']))token=[^&\s"']*""")

    def filter(self, record):
        line = record.getMessage()
        if "token=" in line:
            record.msg, record.args = self.KEY.sub("token=[redacted]", line), None
        return True


class RedactingLogger(Logger):
    """gunicorn's logger, with :class:`_NoQueryKeys` on its error and access logs."""

    def setup(self, cfg):
        super().setup(cfg)
        for log in (self.error_log, self.access_log):
            if not any(isinstance(f, _NoQueryKeys) for f in log.filters):  # a reload sets up again
                log.addFilter(_NoQueryKeys())


worker_class = StreamWorker
logger_class = RedactingLogger
worker_connections = int(os.environ.get("GUNICORN_WORKER_CONNECTIONS", "10000"))
# For gevent workers `timeout` is a liveness heartbeat of the worker loop, not a request limit:
# a stream lives on; only a blocked event loop gets the worker restarted.
timeout = 30
# Streams end promptly at shutdown (see post_worker_init), so a short grace is enough.
graceful_timeout = 10
keepalive = 5
max_requests = 0  # a stream counts as a request: recycling workers would cut viewers off
preload_app = False  # the app must be imported after gevent patched the worker
control_socket_disable = True  # several instances on one machine would share one socket path
accesslog = os.environ.get("GUNICORN_ACCESSLOG")  # unset: no access log (streams are long)
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOGLEVEL", "info")


def on_starting(server):
    """Raise the open-file limit to its hard limit: every viewer holds a socket, and the usual
    soft limit of 1024 would cap a worker far below ``worker_connections``."""
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    wanted = server.cfg.worker_connections + 64  # a worker's own files and the store
    if hard < wanted:
        server.log.warning("open-file hard limit %d is below worker_connections; raise it "
                           "(systemd: LimitNOFILE=%d)", hard, wanted)


def pre_fork(server, worker):
    """Move what the arbiter holds into the garbage collector's permanent generation just
    before the fork (``gc.freeze``, Python's advice for a fork without exec): the worker's
    collections then never write to those objects, so more of their pages stay shared with the
    arbiter instead of being copied (about 2.5 MB less PSS at rest, ``bench.run``)."""
    gc.freeze()


def post_worker_init(worker):
    """Start the sampler and tailer now instead of on the first request, and end every stream
    as soon as the worker is told to stop (SIGTERM, SIGHUP reload) so it exits within
    graceful_timeout instead of waiting for clients that never hang up.

    First the garbage collector is set for a long-lived server. What the worker loaded
    (modules, templates, settings) goes into its permanent generation too: it lives as long
    as the worker, and each full collection traversed it, several times a minute under an
    agents' load. And a young collection waits for 10,000 new objects rather than 700: a
    batch of samples makes a few thousand that are freed as soon as it is stored, and each
    batch set off collections that found nothing to free. At 400 agents the collector's CPU
    per worker fell from about 0.4 to 0.1 s a minute (``bench/profile_conf.py``)."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(10_000, 10, 10)
    live = worker.wsgi.extensions["dashboard"]
    live.start()

    def watch():
        while worker.alive:
            gevent.sleep(1.0)  # gunicorn itself looks at `alive` once a second
        live.stop()

    gevent.spawn(watch)


def child_exit(server, worker):
    """Drop the exited worker's live gauges (viewers) from /metrics; its counters stay summed."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def on_exit(server):
    """Remove the metrics folder this arbiter made."""
    if os.environ.get(_OWNER) == str(os.getpid()):
        shutil.rmtree(os.environ["PROMETHEUS_MULTIPROC_DIR"], ignore_errors=True)
