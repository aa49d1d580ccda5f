"""What a worker holds at rest: the sampler on, nobody viewing (issue 29, ``bench.run``'s idle
PSS). The code of features nobody uses here (containers with no engine, notifications with no
URL, single sign-on, the MCP server), Babel's locale data (megabytes per locale, loaded at
its first question) and the payload schemas (pydantic, about 9 MB, loaded by the first request
that validates something) stay out of the worker until used."""

import subprocess
import sys
from pathlib import Path

import pytest

from tests.test_layers import imports, modules

ROOT = Path(__file__).resolve().parent.parent

_AT_REST = """
from gevent import monkey; monkey.patch_all()
import sys, time, gevent
from app import create_app
app = create_app({{'STORE_URL': 'sqlite:///{db}'}})
live = app.extensions['dashboard']
live.start()
deadline = time.monotonic() + 60
while live.view.last_id == 0 and time.monotonic() < deadline:  # the first sample is in
    gevent.sleep(0.1)
import babel.localedata
print(live.view.last_id > 0)
print(sorted({{m.split('.')[0] for m in sys.modules}} & {{{unused}}}))
print(sorted(babel.localedata._cache))
print(' '.join(sorted(m for m in sys.modules if m.split('.')[0] == 'app')))
live.stop()
"""

UNUSED = ("docker", "requests", "apprise", "authlib", "mcp", "urllib3")
#: Modules of ours that a worker at rest may still load although they import pydantic: the
#: settings and the alert rule type, whose conversion to plain Python is a change of its own.
#: Once it is in, the check becomes that pydantic itself is not loaded at rest.
STILL_PYDANTIC = {"app.config", "app.config.values", "app.domain.alertrule",
                  "app.domain.alerts", "app.domain.rules"}


@pytest.fixture(scope="module")
def at_rest(tmp_path_factory) -> dict[str, list[str]]:
    """Twice on one store: the second worker starts on history (a restart), whose figures
    its page has but renders only once someone views it. Start -> the lines it printed."""
    tmp_path = tmp_path_factory.mktemp("at_rest")
    code = _AT_REST.format(db=tmp_path / "s.sqlite3", unused=", ".join(map(repr, UNUSED)))
    found = {}
    for start in ("on an empty store", "on history"):
        out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                             text=True, check=True, timeout=120, env={
                                 "PATH": "/usr/bin:/bin",
                                 "DOCKER_HOST": f"unix://{tmp_path}/none",
                                 "PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}).stdout
        found[start] = out.strip().splitlines()[-4:]
    return found


def test_a_worker_at_rest_loads_no_unused_feature_and_no_locale_data(at_rest):
    for start, (sampled, loaded, locales, _) in at_rest.items():
        assert sampled == "True", start
        assert loaded == "[]", f"imported at rest {start}: {loaded}"
        assert locales == "[]", f"Babel locale data loaded at rest {start}: {locales}"


def test_a_worker_at_rest_loads_no_module_of_ours_that_imports_pydantic(at_rest):
    """A module that imports pydantic when it loads (a payload schema, or one that imports
    one) waits for the first request that needs it (``docs/performance.md``)."""
    ours = modules(ROOT / "app")
    for start, (*_, loaded) in at_rest.items():
        with_pydantic = {name for name in loaded.split() if name in ours and any(
            target.split(".")[0] == "pydantic"
            for target in imports(name, ours[name], top_level_only=True))}
        assert with_pydantic <= STILL_PYDANTIC, (
            f"loaded at rest {start}: {sorted(with_pydantic - STILL_PYDANTIC)}")
