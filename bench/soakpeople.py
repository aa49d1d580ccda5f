"""The soak's signed-in people (issue 29): an admin, an operator and a viewer who sign in at
``/login`` with a password and act over HTTP with their session cookie, each keeping one
``/stream`` open, for as long as the soak runs.

Every :data:`EVERY` seconds each person takes one turn (:data:`TURNS`): the operator adds a
silence, ends it, or switches the simulated host on or off (the control panel's form), and reads
the page; the admin reads ``/audit`` and ``/admin`` and writes the alert rules back as they are;
the viewer reads ``/``, ``/fleet`` and the event list. Writes carry this dashboard's ``Origin``
as a browser's do. Every answer but a 2xx counts as a failure (the first few are kept for the
report). A stream the server ends (``DASHBOARD_STREAM_LIFETIME``) is opened again, as htmx does.
"""

from __future__ import annotations

import asyncio
import time

import httpx

from app.domain import accounts, apikeys
from app.store import open_store
from bench import loadgen

PASSWORD = "soak-password-1234"
#: Name and role of each person.
PEOPLE = (("soak-admin", "admin"), ("soak-operator", "operator"), ("soak-viewer", "viewer"))
#: Seconds between two turns of one person.
EVERY = 10.0
#: Failures kept word for word in the result.
KEPT = 5


def prepare(url: str) -> dict:
    """Make the people's accounts and two API keys in the store at ``url`` before the dashboard
    starts; return ``{"read": key, "ingest": key}`` (the viewers' and the posters' keys)."""
    store = open_store(url, log_size=10_000, poll_interval=0.1)
    try:
        for name, role in PEOPLE:
            accounts.add(store, name, role, PASSWORD)
        _, read = apikeys.add_key(store, "soak-viewers", ["read"], by="bench")
        _, ingest = apikeys.add_key(store, "soak-posters", ["ingest"], by="bench")
    finally:
        store.close()
    return {"read": read, "ingest": ingest}


class Person:
    """One signed-in person acting every :data:`EVERY` seconds until :meth:`run`'s ``stop`` is
    set; ``requests``, ``failures`` (non-2xx or no answer) and ``reopened`` (streams the server
    ended and that were opened again) count what happened."""

    def __init__(self, port: int, name: str, role: str) -> None:
        self.port, self.name, self.role = port, name, role
        self.origin = f"http://127.0.0.1:{port}"
        self.requests = self.failures = self.reopened = self.turn = 0
        self.failed: list[str] = []
        self.silence: str | None = None
        self.simulated = False
        self.stream: loadgen.StreamClient | None = None

    async def sign_in(self, client: httpx.AsyncClient) -> str:
        """Sign in with the password; return the session cookie's value.

        :raise RuntimeError: no 303 with a cookie.
        """
        answer = await client.post("/login", data={"name": self.name, "password": PASSWORD},
                                   headers={"Origin": self.origin})
        cookie = answer.cookies.get("dashboard_session")
        if answer.status_code != 303 or not cookie:
            raise RuntimeError(f"{self.name} could not sign in: {answer.status_code}")
        return cookie

    async def _open_stream(self, cookie: str) -> None:
        opened = await loadgen.open_clients(self.port, "/stream", 1, loadgen.Run(),
                                            headers=f"Cookie: dashboard_session={cookie}\r\n")
        self.stream = opened[0]

    async def _call(self, client: httpx.AsyncClient, method: str, path: str, **kw):
        self.requests += 1
        if method != "GET":
            kw["headers"] = {"Origin": self.origin, **kw.get("headers", {})}
        try:
            answer = await client.request(method, path, **kw)
        except httpx.HTTPError as exc:
            answer, status = None, type(exc).__name__
        else:
            status = answer.status_code
        if answer is None or not 200 <= answer.status_code < 300:
            self.failures += 1
            if len(self.failed) < KEPT:
                self.failed.append(f"{self.name} {method} {path}: {status}")
        return answer

    async def act(self, client: httpx.AsyncClient) -> None:
        """One turn of this person's role (module docstring)."""
        self.turn += 1
        if self.role == "operator":
            step = self.turn % 3
            if step == 1:
                made = await self._call(client, "POST", "/api/v1/silences", json={
                    "matchers": {"host": "soak-nowhere"}, "duration": 600,
                    "comment": "soak"})
                if made is not None and made.status_code in (200, 201):
                    self.silence = made.json()["id"]
            elif step == 2 and self.silence:
                await self._call(client, "DELETE", f"/api/v1/silences/{self.silence}")
                self.silence = None
            else:
                self.simulated = not self.simulated
                await self._call(client, "POST", "/ui/simulator/host",
                                 data={"enabled": "true" if self.simulated else "false"})
            await self._call(client, "GET", "/")
        elif self.role == "admin":
            await self._call(client, "GET", "/audit")
            await self._call(client, "GET", "/admin")
            if self.turn % 3 == 0:
                rules = await self._call(client, "GET", "/api/v1/rules")
                if rules is not None and rules.status_code == 200:
                    await self._call(client, "PUT", "/api/v1/rules",
                                     json={"rules": rules.json()["rules"]})
        else:
            for path in ("/", "/fleet", "/api/v1/events?limit=50"):
                await self._call(client, "GET", path)

    async def run(self, stop: asyncio.Event, offset: float) -> None:
        """Sign in, open the stream, then act every :data:`EVERY` seconds (the first after
        ``offset`` seconds) until ``stop`` is set; the stream is closed at the end."""
        async with httpx.AsyncClient(base_url=self.origin, timeout=30,
                                     headers={"Accept": "text/html"}) as client:
            cookie = await self.sign_in(client)
            await self._open_stream(cookie)
            due = time.monotonic() + offset
            try:
                while not stop.is_set():
                    try:
                        await asyncio.wait_for(stop.wait(), max(due - time.monotonic(), 0))
                        break
                    except asyncio.TimeoutError:
                        pass
                    due += EVERY
                    if self.stream.lost.done():
                        self.reopened += 1
                        await self._open_stream(cookie)
                    await self.act(client)
            finally:
                self.stream.close()


async def act_all(port: int, stop: asyncio.Event) -> list[Person]:
    """Every person of :data:`PEOPLE` acting on ``port`` until ``stop`` is set, their turns
    spread over :data:`EVERY` seconds; returns them (their counts) once all have stopped."""
    people = [Person(port, name, role) for name, role in PEOPLE]
    await asyncio.gather(*(person.run(stop, EVERY * n / len(people))
                           for n, person in enumerate(people)))
    return people
