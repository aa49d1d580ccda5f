"""Viewers that are counted but not timed, read by a process of their own between events.

Why: on a 2-core machine the load generator is a third party to a two-worker run. Reading one
message costs it about 20 µs of CPU, more than a server spends writing one (about 13 µs), so a
run in which the generator reads every viewer's every message keeps both cores busy whatever
the server does: a single-process floor then already uses the second core (for the generator),
and two workers can only tie with it. A run that times one viewer in ``k`` (spread over the
connection order, so over both workers and their fan-out order) measures the server instead:
every socket is still written, and every message is still counted, once, in order.

The other viewers are read in the lulls: once every timed viewer has the event just posted,
``bench.run`` tells this process to read each socket (:meth:`QuietViewers.drain`), which then
appends what it got to that viewer's buffer; the buffers are parsed and counted at the end
(:meth:`QuietViewers.finish`). Reading while the servers write would take a core from them
for the generator again, which is what this avoids. Used by ``bench.run``
(``--core-timed-every``).
"""

from __future__ import annotations

import multiprocessing
import socket
import time

from bench.loadgen import SOURCES, Run, Tally, stream_request

_CHUNK = 65536  # bytes asked of a socket per read: more than it holds between two reads


class QuietViewers:
    """The quiet viewers' process, started on entry and stopped (by PID, at the latest) on
    exit. Its methods block until the process answers.

    :raise Exception: what the process raised (a connection refused, a timeout).
    """

    def __enter__(self) -> "QuietViewers":
        context = multiprocessing.get_context("spawn")  # no copy of the generator's event loop
        self.conn, theirs = context.Pipe()
        self.proc = context.Process(target=_serve, args=(theirs,), daemon=True)
        self.proc.start()
        return self

    def __exit__(self, *exc) -> None:
        if self.proc.is_alive():
            self.conn.send(("close",))
            self.proc.join(10)
        if self.proc.is_alive():
            self.proc.kill()
            self.proc.join()

    def _call(self, *message):
        self.conn.send(message)
        reply = self.conn.recv()
        if isinstance(reply, Exception):
            raise reply
        return reply

    def open(self, port: int, path: str, count: int, start: int, timeout: float = 30.0) -> None:
        """Open ``count`` streams of ``path``, each once it has its first bytes; ``start``: the
        first one's index, which spreads source addresses as ``loadgen.open_clients`` does."""
        self._call("open", port, path, count, start, timeout)

    def measure(self, first: int, count: int) -> None:
        """Count markers ``first`` to ``first + count - 1`` from now on (earlier ones are
        ignored, as ``loadgen.Run.post_times`` does)."""
        self._call("measure", first, count)

    def drain(self) -> None:
        """Read what every quiet viewer's socket holds, without waiting for it to be done."""
        self.conn.send(("drain",))

    def finish(self, timeout: float) -> dict:
        """Read until every quiet viewer has every marker, or ``timeout`` seconds pass.

        Returns ``{"viewers", "delivered", "duplicates", "reordered", "disconnected",
        "cpu"}``: counts summed over the viewers; ``cpu``: seconds the process spent since
        :meth:`measure`.
        """
        return self._call("finish", timeout)


class _Viewer(Tally):
    def __init__(self, sock: socket.socket, run: Run) -> None:
        super().__init__(run, timed=False)
        self.sock = sock
        self.closed = False
        self.unread = bytearray()  # read, not yet counted: counting costs more than reading

    def read(self) -> None:
        while not self.closed:
            try:
                data = self.sock.recv(_CHUNK)
            except BlockingIOError:
                return
            except OSError:
                data = b""
            if not data:
                self.closed = True
                return
            self.unread += data
            if len(data) < _CHUNK:  # all there was: spares a call that would only fail
                return

    def count(self) -> None:
        self.feed(bytes(self.unread), 0.0)
        self.unread.clear()


def _serve(conn) -> None:
    run = Run()
    viewers: list[_Viewer] = []
    cpu = time.process_time()
    counted = 0

    def open_(port: int, path: str, count: int, start: int, timeout: float) -> None:
        request = stream_request(port, path)
        made = []
        for i in range(start, start + count):
            sock = socket.create_connection(("127.0.0.1", port), timeout,
                                            source_address=(SOURCES[i % len(SOURCES)], 0))
            sock.sendall(request)
            made.append(_Viewer(sock, run))
        for viewer in made:
            viewer.unread += viewer.sock.recv(_CHUNK)  # its first bytes, within ``timeout``
            viewer.sock.setblocking(False)
        viewers.extend(made)

    def measure(first: int, count: int) -> None:
        nonlocal cpu, counted
        for viewer in viewers:  # what came before: the markers of other runs, if any
            viewer.read()
            viewer.count()
        run.post_times = range(first, first + count)  # all ``Tally`` asks of it: ``in``
        cpu, counted = time.process_time(), count

    def finish(timeout: float) -> dict:
        deadline = time.monotonic() + timeout
        while True:
            for viewer in viewers:
                viewer.read()
                viewer.count()
            if (all(v.delivered >= counted or v.closed for v in viewers)
                    or time.monotonic() > deadline):
                break
            time.sleep(0.05)
        return {"viewers": len(viewers), "delivered": sum(v.delivered for v in viewers),
                "duplicates": sum(v.duplicates for v in viewers),
                "reordered": sum(v.reordered for v in viewers),
                "disconnected": sum(v.closed for v in viewers),
                "cpu": time.process_time() - cpu}

    handlers = {"open": open_, "measure": measure, "finish": finish}
    while True:
        name, *args = conn.recv()
        if name == "close":
            break
        if name == "drain":  # no answer: the caller goes on at once
            for viewer in viewers:
                viewer.read()
            continue
        try:
            conn.send(handlers[name](*args))
        except Exception as exc:  # the caller raises it
            conn.send(exc)
    for viewer in viewers:
        viewer.sock.close()
