"""``python -m app.sources.mcp --to URL`` (:func:`main`) and ``flask --app wsgi mcp --to
URL`` (:data:`command`, which execs the former): the same options, one process with no gevent.

``flask --app wsgi`` builds the whole app (gevent, the store) before it runs a command, so the
Flask command does nothing but replace its process with a clean interpreter running
``python -m app.sources.mcp``; the key goes along in the environment, never on the command
line.
"""

from __future__ import annotations

import os
import sys
from urllib.parse import urlsplit

import click

#: Seconds each answer of the dashboard may take (an approval's stream waits longer).
DEFAULT_TIMEOUT = 10.0
KEY_VARIABLE = "DASHBOARD_API_KEY"


def _options(command):
    command = click.option(
        "--timeout", type=click.FloatRange(1, 300), default=DEFAULT_TIMEOUT, show_default=True,
        help="Seconds to wait for each answer of the dashboard (request_approval waits for "
             "the person as long as it asked).")(command)
    command = click.option(
        "--source", default=None,
        help="Who the agent's events and approvals come from, as the page shows it (default: "
             "mcp:<the MCP client's name>@<this machine's name>).")(command)
    command = click.option(
        "--key", envvar=KEY_VARIABLE, default="", show_default=False,
        help=f"An API key of the dashboard (default: {KEY_VARIABLE}, which keeps it out of "
             "the process list): scopes read, ingest and ask. None where the dashboard "
             "trusts local clients.")(command)
    return click.option("--to", "url", required=True, metavar="URL",
                        help="Base URL of the dashboard, e.g. http://127.0.0.1:8000.")(command)


def _check(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise click.BadParameter("must be http://host:port or https://host", param_hint="--to")
    return url.rstrip("/")


@click.command("mcp")
@_options
def main(url: str, key: str, source: str | None, timeout: float) -> None:
    """Serve the dashboard at URL to an MCP client over stdin and stdout (JSON-RPC)."""
    url = _check(url)
    if "gevent" in sys.modules:  # the package's docstring: asyncio and gevent do not mix
        raise click.ClickException("gevent is imported in this process; run the MCP server "
                                   "as python -m app.sources.mcp, in an interpreter of its own")
    from .server import serve  # the SDK: only once the options are good

    serve(url, key, source=source, timeout=timeout)


@click.command("mcp")
@_options
def command(url: str, key: str, source: str | None, timeout: float) -> None:
    """MCP server for AI agents over stdio: runs python -m app.sources.mcp (no gevent in it)."""
    url = _check(url)
    args = [sys.executable, "-m", "app.sources.mcp", "--to", url, "--timeout", f"{timeout:g}"]
    if source:
        args += ["--source", source]
    env = {**os.environ, KEY_VARIABLE: key} if key else dict(os.environ)
    sys.stdout.flush()
    sys.stderr.flush()
    os.execve(sys.executable, args, env)
