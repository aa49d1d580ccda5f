"""``python -m app.sources.mcp --to URL``: the MCP server over stdio (:mod:`.cli`)."""

from .cli import main

main(prog_name="python -m app.sources.mcp")
