"""The bell: how a process that appended to the SQLite log wakes every other process's tailer.

``PRAGMA data_version`` tells that another connection committed, but only when asked: asked
every ``DASHBOARD_TAIL_INTERVAL`` (0.1 s), it showed a viewer of one worker a change up to that
much later than a viewer of the worker that wrote it. So each append, once committed, also
writes one byte to a file beside the store (``<file>-bell``, one byte long), and every process
that has the store open watches that file with inotify: gevent's event loop sets the tailer's
event as soon as the kernel reports the write. The write-ahead log itself cannot serve: it is
written before the commit is visible, so a tailer woken by it may look too early and then
sleep until the next poll. The poll stays, for a system without inotify.
"""

from __future__ import annotations

import os
import weakref

import gevent
import gevent.event
from inotify_simple import INotify, flags

_READ = 1  # libev's EV_READ


class Bell:
    """The bell file at ``path``: :meth:`ring` writes it; every ring, by this process or any
    other, sets ``wake`` (the store's :class:`gevent.event.Event`) until :meth:`close`, or
    until ``owner`` (the store) is garbage-collected.

    Where the file cannot be written the bell does not ring, and where inotify is missing (not
    Linux) or refuses the watch (its limits) it is not heard: the store's poll then notices
    other processes' commits alone. A process hears its own rings too; the tailer then finds
    ``PRAGMA data_version`` unchanged and reads nothing.
    """

    def __init__(self, path: str, wake: gevent.event.Event, owner: object) -> None:
        self._fd: int | None = None
        self._inotify: INotify | None = None
        self._watcher = None
        weakref.finalize(owner, self.close)  # holds the bell, never the store
        try:
            self._fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_CLOEXEC, 0o644)
            self._inotify = INotify(nonblocking=True)
            self._inotify.add_watch(path, flags.MODIFY)
        except (OSError, AttributeError):  # AttributeError: a libc without inotify
            if self._inotify is not None:
                self._inotify.close()
                self._inotify = None
            return
        self._watcher = gevent.get_hub().loop.io(self._inotify.fileno(), _READ)
        # The callback holds the event and the descriptor, never the store: a store nobody
        # closed is still collected, and then stops its watch.
        self._watcher.start(_drain, self._inotify.fileno(), wake)

    @property
    def heard(self) -> bool:
        """Whether this process hears the bell (inotify watches the file)."""
        return self._inotify is not None

    def ring(self) -> None:
        """Tell every process watching that the log grew: call it after the commit."""
        if self._fd is not None:
            try:
                os.pwrite(self._fd, b"\0", 0)
            except OSError:
                pass  # the others' poll still finds the append

    def close(self) -> None:
        """Stop ringing and watching (idempotent)."""
        if self._inotify is not None:
            self._watcher.stop()
            self._inotify.close()
            self._inotify = None
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


def _drain(fd: int, wake: gevent.event.Event) -> None:
    # Runs in gevent's hub: read without blocking (one ring or many, it is news), and let the
    # tailer look.
    try:
        while os.read(fd, 4096):
            pass
    except BlockingIOError:
        pass
    wake.set()
