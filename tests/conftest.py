"""Shared fixtures: an app on a temporary SQLite store, and real gunicorn servers on 127.0.0.1."""

from __future__ import annotations

import pytest

from app import create_app
from tests.servers import Server, free_port

#: What every in-process app in the tests runs with: no sampler (tests feed the store
#: themselves), the simulator on, and a store that lives in the test's temporary folder.
BASE_CONFIG = {"TESTING": True, "SAMPLER": False, "SIMULATOR": True}


@pytest.fixture
def make_app(tmp_path):
    """Build apps on ``BASE_CONFIG`` plus overrides, each on its own store; stopped at teardown."""
    apps = []

    def make(**overrides):
        store = tmp_path / f"store{len(apps)}.sqlite3"
        apps.append(create_app({**BASE_CONFIG, "STORE_URL": f"sqlite:///{store}", **overrides}))
        return apps[-1]

    yield make
    for built in apps:
        live = built.extensions["dashboard"]
        live.stop()
        live.store.close()


@pytest.fixture
def app(make_app):
    """The Flask app (pytest-flask's ``client`` fixture builds on it)."""
    return make_app()


@pytest.fixture
def live(app):
    """The app's :class:`app.live.Live`: its store, view and hub."""
    return app.extensions["dashboard"]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """One gunicorn (1 gevent worker, simulator on, 1 Hz sampler) for a test module."""
    store = tmp_path_factory.mktemp("server") / "store.sqlite3"
    with Server(free_port(), {"DASHBOARD_STORE_URL": f"sqlite:///{store}",
                              "DASHBOARD_SIMULATOR": "1"}) as srv:
        yield srv
