"""What the command-line clients of a dashboard (the agent, ``ask``) share: an HTTP opener that
follows no redirect, and the ``--to`` / ``--token`` options."""

from __future__ import annotations

import urllib.request

import click


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """Follow no redirect: urllib would repeat the ``Authorization`` header to wherever it
    points, another host included (and turn a POST into a GET without its body)."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None  # urllib then raises HTTPError with the 3xx status


#: ``OPENER.open(request, timeout=...)``, in place of ``urllib.request.urlopen``.
OPENER = urllib.request.build_opener(_NoRedirects)


def dashboard_options(command):
    """Add ``--to URL`` (required) and ``--token`` (default: ``DASHBOARD_INGEST_TOKEN``)."""
    command = click.option(
        "--token", envvar="DASHBOARD_INGEST_TOKEN", default="", show_default=False,
        help="The dashboard's DASHBOARD_INGEST_TOKEN (default: that variable, which keeps it "
             "out of the process list).")(command)
    return click.option("--to", "url", required=True, metavar="URL",
                        help="Base URL of a dashboard, e.g. http://dashboard.lan:8000.")(command)
