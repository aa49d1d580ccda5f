"""A throw-away Debian nginx on 127.0.0.1 in front of a test's gunicorn, stopped by PID."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

from tests.servers import ROOT, START_TIMEOUT, answers, terminate

#: The manual's nginx block (docs/deploying.md, "nginx in front"), as a user copies it.
MANUAL_BLOCK = re.search(r"## nginx in front.*?```nginx\n(.*?)```",
                         (ROOT / "docs" / "deploying.md").read_text(), re.S).group(1)

#: A proxy that holds the stream's bytes: gzip over text/event-stream (nginx keeps them in the
#: compressor's buffers) and buffering that ignores X-Accel-Buffering (FACTS.md, "Proxies").
HOLDING_BLOCK = """location / {
    proxy_pass http://127.0.0.1:8000;
    proxy_http_version 1.1;
    proxy_set_header Connection "";
    proxy_set_header Host $host;
    proxy_buffering on;
    proxy_ignore_headers X-Accel-Buffering;
    gzip on;
    gzip_types text/event-stream text/html;
    gzip_min_length 0;
}
"""

CONF = """daemon off;
master_process off;
pid {dir}/nginx.pid;
error_log {dir}/error.log warn;
events {{ worker_connections 256; }}
http {{
    access_log off;
    client_body_temp_path {dir}/body;
    proxy_temp_path {dir}/proxy;
    fastcgi_temp_path {dir}/fastcgi;
    uwsgi_temp_path {dir}/uwsgi;
    scgi_temp_path {dir}/scgi;
    server {{
        listen 127.0.0.1:{port};
        {block}
    }}
}}
"""


class Nginx:
    """nginx on 127.0.0.1:``port`` with ``block`` (a ``location``), its upstream
    ``127.0.0.1:8000`` replaced by ``upstream``; a context manager."""

    def __init__(self, port: int, upstream: int, block: str, folder: Path) -> None:
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        self.conf = folder / "nginx.conf"
        self.conf.write_text(CONF.format(dir=folder, port=port,
                                         block=block.replace("127.0.0.1:8000", f"127.0.0.1:{upstream}")))
        self.proc: subprocess.Popen | None = None

    def __enter__(self) -> "Nginx":
        binary = shutil.which("nginx") or "/usr/sbin/nginx"
        self.proc = subprocess.Popen([binary, "-c", str(self.conf), "-p", str(self.folder)],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        try:
            if answers(self.proc, self.url + "/healthz", START_TIMEOUT):
                return self
        except RuntimeError as exc:
            raise RuntimeError(f"{exc}: {(self.folder / 'error.log').read_text()}") from None
        self.__exit__()
        raise RuntimeError(f"nginx did not answer within {START_TIMEOUT} s")

    def __exit__(self, *exc) -> None:
        if self.proc is not None:
            terminate(self.proc, grace=5)
