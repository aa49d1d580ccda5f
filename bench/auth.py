"""What knowing who asks costs: the credential check per request, per stream message, and in
idle memory.

    .venv/bin/python -m bench.auth            # about a minute
    .venv/bin/python -m bench.auth --base REV # idle RSS against another commit (default: the
                                              # last commit before accounts, 7117238)

1. **Per request**: what a request with a credential costs on top of one without: its context
   pushed (the session cookie opened) and ``app.web.access.check_access`` run, against a
   context without a cookie and no check, for four credentials: none while nothing is
   configured (the loopback rule), a person's session cookie, an API key, and the view token's
   session. Medians of 7 rounds of 2,000, in microseconds; the rest of a request (routing, the
   view) is the same with or without the check.
2. **Per stream message**: ``Hub.publish`` to 2,000 queued subscribers with and without an
   owner (the signed-in person whose sign-out ends the stream): nothing is checked per message,
   so the two should match.
3. **Idle RSS**: gunicorn's arbiter and worker (``-w 1``, sampler on) 15 s after start, at this
   checkout and at ``--base``, alternated three times; medians in MB.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from werkzeug.test import EnvironBuilder

from app import create_app
from app.domain import accounts
from app.domain import apikeys
from app.live.hub import Hub
from app.web.access import check_access
from bench.procstat import tree_rss_bytes
from bench.run import GUNICORN, ROOT, Server

PATH = "/fragments/viewers"
ROUNDS, REQUESTS = 7, 2000


def _app(tmp: str, name: str, **config):
    return create_app({"TESTING": False, "SAMPLER": False, "SECRET_KEY": "b" * 32,
                       "STORE_URL": f"sqlite:///{tmp}/{name}.sqlite3", **config})


def _check_us(app, environ_of, check: bool) -> float:
    """The median over rounds of one request's credential work, in microseconds: pushing its
    context (which opens the session cookie, if any) and, with ``check``, running
    :func:`~app.web.access.check_access`; without, only pushing a cookie-less context."""
    rounds = []
    for _ in range(ROUNDS):
        started = time.perf_counter()
        for _ in range(REQUESTS):
            ctx = app.request_context(environ_of())
            ctx.push()
            try:
                if check:
                    refused = check_access()
                    assert refused is None, refused.get_data(as_text=True)
            finally:
                ctx.pop()
        rounds.append((time.perf_counter() - started) / REQUESTS * 1e6)
    return statistics.median(rounds)


def _environ(headers=None, cookie=None):
    builder = EnvironBuilder(path=PATH, headers=headers or {},
                             environ_base={"REMOTE_ADDR": "127.0.0.1"})
    base = builder.get_environ()
    if cookie:
        base["HTTP_COOKIE"] = f"dashboard_session={cookie}"
    return lambda: dict(base)


def _signed_in(app, form: dict) -> str:
    client = app.test_client()
    assert client.post("/login", data=form).status_code == 303
    return client.get_cookie("dashboard_session").value


def per_request(tmp: str) -> list[tuple[str, float]]:
    """(credential, microseconds the check adds to a request) for each credential, and the
    baseline (a request context without a cookie, no check) first."""
    plain = _app(tmp, "plain")
    people = _app(tmp, "people", VIEW_TOKEN="view-token-view-token")
    store = people.extensions["dashboard"].store
    accounts.add(store, "bench", "viewer", "bench-password-1")
    _, key = apikeys.add_key(store, "bench-bot", ["read"], by="bench")
    cases = {
        "none (the loopback rule)": (plain, _environ()),
        "a person's session": (people, _environ(cookie=_signed_in(
            people, {"name": "bench", "password": "bench-password-1"}))),
        "an API key": (people, _environ({"Authorization": f"Bearer {key}"})),
        "the view token's session": (people, _environ(cookie=_signed_in(
            people, {"token": "view-token-view-token"}))),
    }
    # Each against its own app without the credential and the check: the app with people has
    # the throttle's hooks, which both sides then pay alike.
    bases = {id(app): _check_us(app, _environ(), check=False) for app in (plain, people)}
    found = [("request context alone (baseline)", bases[id(plain)])]
    for name, (app, environ_of) in cases.items():
        found.append((name, _check_us(app, environ_of, check=True) - bases[id(app)]))
    for app in (plain, people):
        app.extensions["dashboard"].stop()
    return found


def per_message() -> tuple[float, float]:
    """Microseconds per ``Hub.publish`` to 2,000 subscribers without and with owners."""
    times = []
    for owned in (False, True):
        hub = Hub(queue_size=10_000)
        subs = [hub.subscribe(b"s", owner=("ann", f"{i:016x}") if owned else None)
                for i in range(2000)]
        rounds = []
        for _ in range(ROUNDS):
            started = time.perf_counter()
            for _ in range(200):
                hub.publish(b"data: x\n\n")
            rounds.append((time.perf_counter() - started) / 200 * 1e6)
            for sub in subs:
                sub.queue.drain()
        times.append(statistics.median(rounds))
    return times[0], times[1]


def idle_rss(base: str) -> tuple[float, float]:
    """Median idle RSS in MB (arbiter and worker) at this checkout and at ``base``."""
    with tempfile.TemporaryDirectory(prefix="bench-base-") as where:
        tree = Path(where) / "tree"
        subprocess.run(["git", "worktree", "add", "--detach", str(tree), base], cwd=ROOT,
                       check=True, capture_output=True)
        (tree / "node_modules").symlink_to(ROOT / "node_modules")
        try:
            ours, theirs = [], []
            for _ in range(3):
                for cwd, found in ((ROOT, ours), (tree, theirs)):
                    with Server([str(GUNICORN), "-c", "gunicorn.conf.py", "-b",
                                 "127.0.0.1:{port}", "-w", "1", "wsgi:app"],
                                {"GUNICORN_LOGLEVEL": "warning"}, cwd=cwd) as server:
                        time.sleep(15)
                        found.append(tree_rss_bytes(server.pid) / 2**20)
        finally:
            subprocess.run(["git", "worktree", "remove", "--force", str(tree)], cwd=ROOT,
                           check=False, capture_output=True)
    return statistics.median(ours), statistics.median(theirs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", default="7117238", help="commit to compare idle RSS with")
    parser.add_argument("--no-rss", action="store_true", help="skip the idle RSS comparison")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-auth-") as tmp:
        rows = per_request(tmp)
    print(f"credential check, per request (median of {ROUNDS} x {REQUESTS}):")
    for name, micros in rows:
        print(f"  {name:34s} {micros:8.1f} µs" + ("" if "baseline" in name else
                                                  "  added (target ≤ 50)"))
    plain, owned = per_message()
    print(f"Hub.publish to 2,000 subscribers: {plain:.0f} µs without owners, {owned:.0f} µs "
          f"with ({owned / plain:.2f}x; nothing is checked per message)")
    if args.no_rss:
        return
    ours, theirs = idle_rss(args.base)
    print(f"idle RSS, arbiter + worker: {ours:.1f} MB here, {theirs:.1f} MB at {args.base} "
          f"({ours - theirs:+.1f} MB; target ≤ +3)")


if __name__ == "__main__":
    main()
