"""What a worker holds at rest: the sampler on, nobody viewing (issue 29, ``bench.run``'s idle
PSS). The code of features nobody uses here (containers with no engine, notifications with no
URL, single sign-on, the MCP server), Babel's locale data (megabytes per locale, loaded at
its first question) and the payload schemas (pydantic, about 9 MB, loaded by the first request
that validates something) stay out of the worker until used."""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

_AT_REST = """
from gevent import monkey; monkey.patch_all()
import sys, time, gevent
from app import create_app
app = create_app()  # as wsgi.py: the settings from the environment, validated apart
live = app.extensions['dashboard']
live.start()
deadline = time.monotonic() + 60
while live.view.last_id == 0 and time.monotonic() < deadline:  # the first sample is in
    gevent.sleep(0.1)
import babel.localedata
print(live.view.last_id > 0)
print(sorted({{m.split('.')[0] for m in sys.modules}} & {{{unused}}}))
print(sorted(babel.localedata._cache))
live.stop()
"""

UNUSED = ("docker", "requests", "apprise", "authlib", "mcp", "urllib3", "pydantic",
          "pydantic_core")


@pytest.fixture(scope="module")
def at_rest(tmp_path_factory) -> dict[str, list[str]]:
    """Twice on one store: the second worker starts on history (a restart), whose figures
    its page has but renders only once someone views it. Start -> the lines it printed."""
    tmp_path = tmp_path_factory.mktemp("at_rest")
    code = _AT_REST.format(unused=", ".join(map(repr, UNUSED)))
    found = {}
    for start in ("on an empty store", "on history"):
        out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                             text=True, check=True, timeout=120, env={
                                 "PATH": "/usr/bin:/bin",
                                 "DASHBOARD_STORE_URL": f"sqlite:///{tmp_path}/s.sqlite3",
                                 "DOCKER_HOST": f"unix://{tmp_path}/none",
                                 "PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}).stdout
        found[start] = out.strip().splitlines()[-3:]
    return found


def test_a_worker_at_rest_loads_no_unused_feature_and_no_locale_data(at_rest):
    for start, (sampled, loaded, locales) in at_rest.items():
        assert sampled == "True", start
        assert loaded == "[]", f"imported at rest {start}: {loaded}"
        assert locales == "[]", f"Babel locale data loaded at rest {start}: {locales}"

