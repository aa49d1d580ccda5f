"""Third-party front-end files, served from where npm installed them (nothing is committed).

Only the files named in :data:`VENDOR` are reachable; versions come from ``package-lock.json``.
"""

from __future__ import annotations

from flask import Blueprint, abort, current_app, send_from_directory

from app.config import ROOT
from .access import needs

bp = Blueprint("assets", __name__)

NODE_MODULES = ROOT / "node_modules"

#: URL name -> path under ``node_modules``.
VENDOR = {
    "htmx.min.js": "htmx.org/dist/htmx.min.js",
    "hx-sse.min.js": "htmx.org/dist/ext/hx-sse.min.js",
    "pico.classless.min.css": "@picocss/pico/css/pico.classless.min.css",
}


@bp.get("/vendor/<name>")
@needs("open")
def vendor(name: str):
    """Serve one whitelisted npm file; 404 for anything else."""
    relative = VENDOR.get(name)
    if relative is None:
        abort(404)
    if not (NODE_MODULES / relative).is_file():
        current_app.logger.error("%s is missing: run `npm ci` (the start script does)", relative)
        abort(404)
    return send_from_directory(NODE_MODULES, relative, max_age=86400)
