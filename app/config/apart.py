"""Settings validated in a process apart: the worker that asks never imports pydantic.

``python -m app.config.apart`` validates the settings from the environment
(:func:`app.config.load_settings`) and writes them, pickled, to standard output; a bad setting
exits with status 2 and the message on standard error. :func:`load_settings_apart` runs it.
"""

from __future__ import annotations

import pickle
import subprocess
import sys

from . import ROOT, ConfigError, Settings, load_settings


def load_settings_apart() -> Settings:
    """:func:`load_settings` from the environment, run in a child process (``python -m
    app.config.apart``) that hands back the validated :class:`Settings`, pickled: this process
    does not import pydantic (about 9 MB), and loads it only when a request validates a
    payload. Takes about half a second of CPU, once per worker.

    :raise ConfigError: as :func:`load_settings`, with its message.
    :raise RuntimeError: the child failed otherwise (its standard error in the message).
    :raise subprocess.TimeoutExpired: it took over 2 minutes.
    """
    done = subprocess.run([sys.executable, "-m", __name__], cwd=ROOT, capture_output=True,
                          check=False, timeout=120)
    if done.returncode == 2:
        raise ConfigError(done.stderr.decode(errors="replace").strip())
    if done.returncode:
        raise RuntimeError(f"python -m {__name__} failed ({done.returncode}): "
                           f"{done.stderr.decode(errors='replace').strip()}")
    return pickle.loads(done.stdout)  # noqa: S301 - our own child's answer over a pipe


if __name__ == "__main__":
    answer = sys.stdout.buffer
    sys.stdout = sys.stderr  # whatever loading prints must not mix with the answer
    try:
        settings = load_settings()
    except ConfigError as exc:
        print(exc, file=sys.stderr)
        sys.exit(2)
    answer.write(pickle.dumps(settings))
