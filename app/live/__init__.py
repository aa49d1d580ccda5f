"""The engine of one process: the tailer and sampler greenlets, the pages (view and hub per
viewed host), the hubs that fan bytes out, the SSE encoder, delivery to sockets, and the JSON
and task streams. No Flask: the web layer hands it sockets and reads its bytes.
"""
