"""The catalogs (issue "The dashboard in Simplified Chinese"): every message of the templates and
the code is translated in zh_Hans with the same placeholders, the words that come as data are
all marked, and figures and times follow the language."""

import re
from pathlib import Path
from typing import get_args
from zoneinfo import ZoneInfo

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po
from jinja2 import Environment

from app.config import ROOT
from app.domain import fleet, schemas
from app.domain.approval_schemas import ApprovalState
from app.sources.sample import METRICS
from app.view import words
from app.view.language import Languages

CATALOG = ROOT / "translations" / "zh_Hans" / "LC_MESSAGES" / "messages.po"
PLACEHOLDER = re.compile(r"%\([a-z_]+\)[sd]|%%")


def extracted() -> set:
    """Every message ``pybabel extract -F babel.cfg -k N_`` finds (what a catalog must hold)."""
    method_map = [("app/**.py", "python"), ("templates/**.html", "jinja2")]
    keywords = {"_": None, "gettext": None, "ngettext": (1, 2), "N_": None}
    found = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
            ROOT, method_map, keywords=keywords,
            options_map={"templates/**.html": {"extensions": "jinja2.ext.i18n"}}):
        found.add(message if isinstance(message, str) else tuple(message))
    return found


def test_babel_cfg_says_what_this_test_extracts():
    cfg = (ROOT / "babel.cfg").read_text()
    assert "[python: app/**.py]" in cfg and "[jinja2: templates/**.html]" in cfg


def test_every_message_is_in_zh_hans_with_its_placeholders():
    with CATALOG.open("rb") as po:
        catalog = {m.id: m.string for m in read_po(po) if m.id}
    wanted = extracted()
    assert len(wanted) > 250
    missing = sorted(str(m) for m in wanted if m not in catalog)
    assert not missing, f"not in {CATALOG.relative_to(ROOT)}: {missing}"
    for message in wanted:
        translated = catalog[message]
        pairs = (zip(message, translated) if isinstance(message, tuple)
                 else [(message, translated)])
        for source, text in pairs:
            assert text, f"no translation of {source!r}"
            assert sorted(PLACEHOLDER.findall(source)) == sorted(PLACEHOLDER.findall(text)), (
                f"{source!r} -> {text!r}: placeholders differ")


def test_the_words_that_come_as_data_are_all_marked():
    assert set(get_args(schemas.TaskState)) == set(words.TASK_STATES)
    assert set(get_args(ApprovalState)) == set(words.APPROVAL_STATES)
    assert {m.label for m in METRICS.values()} == set(words.METRIC_LABELS)
    assert set(fleet.LEVELS) | set(fleet.ALERT_LEVELS) <= set(words.LEVELS)


@pytest.fixture(scope="module")
def languages():
    return Languages(Environment(autoescape=True), ROOT / "translations", "en", ZoneInfo("UTC"))


@pytest.mark.parametrize("code, duration, ago, bytes_", [
    ("en", "1 d 2 h 3 min", "3 minutes ago", "1.5 KiB"),
    ("zh_Hans", "1天 2小时 3分钟", "3分钟前", "1.5 KiB"),
])
def test_figures_and_times_follow_the_language(languages, code, duration, ago, bytes_):
    language = languages.get(code)
    assert (language.duration(93784), language.ago(180), language.bytes(1536)) == (
        duration, ago, bytes_)
    assert language.clock(0) == "00:00:00" and language.stamp(0) == "1970-01-01 00:00:00"


def test_a_word_from_outside_is_escaped_where_it_is_written(languages):
    template = languages.get("zh_Hans").env.from_string("{{ state|word }} {{ _('Alerts') }}")
    assert template.render(state="<script>") == "&lt;script&gt; 告警"
    assert template.render(state="firing") == "触发中 告警"


def test_an_unknown_default_language_is_refused(make_app):
    from app.config import ConfigError

    with pytest.raises(ConfigError, match="DASHBOARD_LANGUAGE"):
        make_app(LANGUAGE="klingon")
    assert Path(CATALOG).exists()


def test_notifications_speak_the_dashboard_language(languages):
    from app.domain import messages

    alert = {"id": "a1", "name": "cpu-high", "level": "critical", "host": "web1",
             "message": "CPU above 90 %", "value": 95.0, "peak": 97.0, "started_at": 0.0}
    say = languages.get("zh_Hans").gettext
    assert messages.title(alert, "firing", say) == "[触发] web1 上的 cpu-high"
    assert messages.text(alert, "firing", "", say).splitlines() == [
        "严重: CPU above 90 %", "数值：95（峰值 97）", "开始：1970-01-01T00:00:00.000Z",
        "主机：web1"]
    assert messages.title(alert, "resolved") == "[RESOLVED] cpu-high on web1"  # the source
