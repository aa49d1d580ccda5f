"""What produces host samples: the psutil sampler, the simulated host and the agent; and the
clients of a dashboard that run beside the agent on other machines: ``ask``, the command-line
client of approvals, and ``mcp``, the MCP server through which AI agents use a dashboard.

The bottom layer beside the store: it imports nothing else of the app (``sample`` says what a
sample is, for the layers above to check).
"""
