"""``python -m app.mcp --to URL``: the MCP server over stdio (:mod:`app.mcp.cli`)."""

from .cli import main

main(prog_name="python -m app.mcp")
