"""Shared fixtures: an app on a temporary SQLite store, real gunicorn servers and a real Redis."""

from __future__ import annotations

import gc
import os
import shutil
from pathlib import Path

import pytest
import redis
from playwright.sync_api import Error as PlaywrightError, Page, expect

from app import create_app
from app.domain import accounts
from tests.redis_sentinel import Sentinels
from tests.redis_server import RedisServer
from tests.servers import Server, free_port

#: What every in-process app in the tests runs with: no sampler (tests feed the store
#: themselves), the simulator on, and a store that lives in the test's temporary folder.
BASE_CONFIG = {"TESTING": True, "SAMPLER": False, "SIMULATOR": True}
#: Variables of the machine that would change what a test's app or server does.
_OUTSIDE = ("DASHBOARD_", "GUNICORN_", "PROMETHEUS_MULTIPROC_DIR")


def pytest_addoption(parser):
    parser.addoption("--serial", choices=("with", "without", "only"), default="with",
                     help="tests marked serial: run them with the others (default), leave them "
                          "out, or run only them (scripts/test: without on xdist workers, then "
                          "only)")


def pytest_collection_modifyitems(config, items):
    """Leave out the tests marked ``serial``, or all others, as ``--serial`` asks; then put the
    modules with a test marked ``slow`` first, each still whole and in file order.

    ``scripts/test`` hands each module whole to a pytest-xdist worker in this order: a module
    of minutes that started last would finish minutes after all the others."""
    mode = config.getoption("serial")
    if mode != "with":
        keep, leave = [], []
        for item in items:
            marked = item.get_closest_marker("serial") is not None
            (keep if marked == (mode == "only") else leave).append(item)
        if leave:
            config.hook.pytest_deselected(items=leave)
            items[:] = keep
    slow = {item.path for item in items if item.get_closest_marker("slow")}
    items.sort(key=lambda item: item.path not in slow)  # stable: modules stay whole, in order


@pytest.hookimpl(optionalhook=True)  # a pytest-xdist hook: unknown with -p no:xdist
def pytest_xdist_auto_num_workers(config):
    """``-n auto``: two pytest-xdist workers per CPU, at most 8 (``PYTEST_XDIST_AUTO_NUM_WORKERS``
    still decides when set). Most tests wait on servers, browsers and timers rather than
    compute; each worker runs its own Chromium and Redis, hence the cap. (Three per CPU was
    slower on this 2-core machine.)"""
    if os.environ.get("PYTEST_XDIST_AUTO_NUM_WORKERS"):
        return None
    return min(2 * len(os.sched_getaffinity(0)), 8)


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config):
    """Move every object the session made out of the garbage collector's reach (``gc.freeze``)
    as it ends: Python's collections at exit walked the million and more objects of a
    pytest-xdist worker (hundreds of apps, pages and clients) for 5 to 10 s of CPU per worker
    while the run waited on them; the process is ending, and nothing needs collecting."""
    gc.freeze()


@pytest.fixture(scope="session", autouse=True)
def _clean_environment():
    """Run every test, and every server a test starts, without the machine's ``DASHBOARD_*``,
    ``GUNICORN_*`` and ``PROMETHEUS_MULTIPROC_DIR`` (a developer's shell, a CI's settings)."""
    with pytest.MonkeyPatch.context() as patch:
        for name in list(os.environ):
            if name.startswith(_OUTSIDE):
                patch.delenv(name)
        yield


#: The password hasher the app ships (Argon2id at the library's parameters), before
#: :func:`_light_password_hashes` replaces it in this process.
SHIPPED_HASHER = accounts._hasher


@pytest.fixture(scope="session", autouse=True)
def _light_password_hashes():
    """Argon2id at its lightest in the tests' own process (apps made with ``create_app``): the
    shipped parameters (64 MiB, 3 passes, 4 lanes) cost some 170 ms per hash and per check
    here, and the in-process tests sign in hundreds of times. A hash records its parameters,
    so the servers the tests start (which keep the shipped ones) check these hashes too, and
    the reverse; ``tests/web/test_people.py`` checks the shipped parameters."""
    from argon2 import PasswordHasher

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(accounts, "_hasher",
                      lambda: PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))
        yield


@pytest.fixture(autouse=True)
def _servers_need_the_marker(monkeypatch, request):
    """Fail a test that starts gunicorn without the ``server`` marker, so that
    ``-m "not server"`` really leaves every one of them out."""
    if request.node.get_closest_marker("server") is None:
        def unmarked(self, *args, **kwargs):
            pytest.fail("this test starts gunicorn: mark it @pytest.mark.server", pytrace=False)

        monkeypatch.setattr(Server, "start", unmarked)


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


def simulate_host(url: str) -> None:
    """Turn the simulator's host mode on for the server at ``url``: tests that wait for a figure
    to change need readings that move every second, and an idle machine's real CPU may read the
    same 1.0 % for several seconds."""
    import httpx

    response = httpx.post(url + "/simulator/host", json={"enabled": True})
    assert response.status_code == 200, response.text


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """One gunicorn (1 gevent worker, simulator on, 1 Hz sampler) for a test module."""
    store = tmp_path_factory.mktemp("server") / "store.sqlite3"
    with Server(free_port(), {"DASHBOARD_STORE_URL": f"sqlite:///{store}",
                              "DASHBOARD_SIMULATOR": "1"}) as srv:
        yield srv


@pytest.fixture(scope="session")
def redis_server():
    """One throw-away ``redis-server`` for the whole session; its base URL ``redis://127.0.0.1:N``.

    Fails (never skips) when ``redis-server`` is missing: ``scripts/test`` installs it.
    """
    if shutil.which("redis-server") is None:
        pytest.fail("redis-server is not installed: scripts/test (scripts/setup --test) installs "
                    "Debian's", pytrace=False)
    with RedisServer(free_port()) as srv:
        yield srv.url


@pytest.fixture
def redis_url(redis_server):
    """``redis://127.0.0.1:N/0`` on the session's Redis, emptied before the test."""
    url = f"{redis_server}/0"
    with redis.Redis.from_url(url) as client:
        client.flushdb()
    return url


@pytest.fixture(scope="session")
def sentinels():
    """One throw-away Sentinel set (primary, replica, three sentinels) for the whole session:
    a :class:`tests.redis_sentinel.Sentinels`. Tests that kill its primary start their own."""
    if shutil.which("redis-server") is None:
        pytest.fail("redis-server is not installed: scripts/test (scripts/setup --test) installs "
                    "Debian's", pytrace=False)
    with Sentinels() as found:
        yield found


@pytest.fixture
def sentinel_url(sentinels):
    """``redis+sentinel://.../mymaster/0`` on the session's Sentinel set, emptied before the
    test."""
    with redis.Redis(port=sentinels.primary().port) as client:
        client.flushdb()
    return sentinels.url


# -- browser tests (Debian's chromium driven by Playwright) ---------------------------------------

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
#: Where browser tests save screenshots (gitignored).
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
#: The screens a screenshot test looks at: label, width, height (CSS pixels).
SCREENS = (("desktop", 1280, 900), ("phone", 390, 844))
# An expectation returns as soon as it holds; Playwright's default of 5 s to hold was too short
# for a navigation while the suite loads both cores (a sort link's page came later, once).
expect.set_options(timeout=15_000)


def screenshot(locator, path: Path) -> None:
    """``locator.screenshot(path=path)``, asked again (up to five times) when a swap replaced
    the element meanwhile: a region whose readings come every second is often swapped while
    Playwright waits for it to be stable. Playwright words that as "not attached to the DOM"
    or, when the old element was already detached but not yet freed, as "not visible"."""
    for attempt in range(5):
        try:
            locator.screenshot(path=path)
            return
        except PlaywrightError as exc:
            swapped = "not attached to the DOM" in str(exc) or "not visible" in str(exc)
            if not swapped or attempt == 4:
                raise


def screens(browser, scheme: str):
    """Yield (label, width, page) for each of :data:`SCREENS` in the colour ``scheme`` (light or
    dark), each page in a context of its own that is closed after; ``ARTIFACTS`` exists."""
    ARTIFACTS.mkdir(exist_ok=True)
    for label, width, height in SCREENS:
        context = browser.new_context(viewport={"width": width, "height": height},
                                      color_scheme=scheme, device_scale_factor=1)
        try:
            yield label, width, context.new_page()
        finally:
            context.close()


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    """Debian's chromium instead of Playwright's download; no network beyond 127.0.0.1."""
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"],
    }


@pytest.fixture
def watched(page: Page):
    """The page, with console errors, uncaught errors and dialogs recorded."""
    problems: list[str] = []
    page.on("console", lambda m: m.type == "error" and problems.append(f"console: {m.text}"))
    page.on("pageerror", lambda e: problems.append(f"pageerror: {e}"))
    page.on("dialog", lambda d: (problems.append(f"dialog: {d.message}"), d.dismiss()))
    page.problems = problems
    return page


@pytest.fixture(scope="session")
def docker_engine():
    """One throw-away ``dockerd`` for the session (:class:`tests.docker_engine.DockerEngine`),
    with the image :data:`tests.docker_engine.IMAGE`; stopped by PID at the end.

    Skips with the reason where no engine can run (no dockerd, not root, a VM that refuses it);
    with ``CI`` set it fails instead, since CI must run these tests.
    """
    from tests.docker_engine import DockerEngine, why_not

    reason = why_not()
    engine = None
    if reason is None:
        try:
            engine = DockerEngine().start()
        except RuntimeError as exc:
            reason = f"dockerd does not run here: {exc}"
    if engine is None:
        if os.environ.get("CI"):
            pytest.fail(reason, pytrace=False)
        pytest.skip(reason)
    yield engine
    engine.stop()
