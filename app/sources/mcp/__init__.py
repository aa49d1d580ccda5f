"""The dashboard's Model Context Protocol (MCP) server: AI agents read the fleet, report what
they do and ask a person before a risky step (``python -m app.sources.mcp --to URL``).

An MCP client (a coding assistant, an agent framework) starts it as a subprocess and speaks
JSON-RPC over its stdin and stdout (the official ``mcp`` SDK, stdio transport). It holds no
state of its own: each tool is one or two calls of the dashboard's HTTP API with the key it
was given (``DASHBOARD_API_KEY``), so the dashboard's scopes decide what an agent may do.

- :mod:`.cli`: ``python -m app.sources.mcp`` and ``flask --app wsgi mcp`` (which execs it);
- :mod:`.dashboard`: the HTTP client (httpx2, async) and the one-line errors an agent acts on;
- :mod:`.server`: the server and its resources; :mod:`.reading` and :mod:`.writing`: the
  tools; :mod:`.approval`: waiting for a person's answer.

Why a process apart, with no gevent in it (do not "simplify" by importing the app): the SDK
runs on asyncio (anyio), and gevent's monkey-patching of sockets, threads and ``select`` under
a running asyncio loop breaks it in ways that show only under load. Nothing here imports Flask,
gevent or the store (``tests/sources/mcp/test_tools.py`` checks the modules a server loads),
``import app`` itself imports nothing (``app.create_app`` imports the layers when called), and
:func:`.cli.main` refuses to start in a process where gevent was imported.
"""
