"""The systemd unit the manual ships (``deploy/dashboard.service``) passes ``systemd-analyze
verify`` with the checkout where the unit expects it, and verify does catch a broken one."""

from __future__ import annotations

import shutil
import subprocess

from tests.servers import ROOT

UNIT = ROOT / "deploy" / "dashboard.service"


def verify(text: str, folder) -> subprocess.CompletedProcess:
    """``systemd-analyze verify`` of ``text`` as ``dashboard.service`` in ``folder``."""
    path = folder / "dashboard.service"
    path.write_text(text)
    analyze = shutil.which("systemd-analyze")
    assert analyze, "systemd-analyze is missing: scripts/setup --test installs Debian's systemd"
    return subprocess.run([analyze, "verify", str(path)], capture_output=True, text=True,
                          timeout=60)


def test_unit_file_verifies(tmp_path):
    """The unit, pointed at this checkout (its ExecStart must exist), has no complaint."""
    unit = UNIT.read_text().replace("/opt/live-dashboard", str(ROOT))
    done = verify(unit, tmp_path)
    assert done.returncode == 0 and "dashboard.service" not in done.stderr, done.stderr


def test_verify_catches_a_broken_unit(tmp_path):
    """The check would fail: a gunicorn that is not there, and a misspelt setting."""
    unit = UNIT.read_text().replace("/opt/live-dashboard", str(ROOT))
    done = verify(unit.replace(".venv/bin/gunicorn", ".venv/bin/no-such-gunicorn"), tmp_path)
    assert done.returncode != 0 and "no-such-gunicorn" in done.stderr
    done = verify(unit.replace("Restart=", "Restrat="), tmp_path)
    assert "Restrat" in done.stderr
