"""The language of a page (issue "The dashboard in Simplified Chinese"): chosen by ``?lang=``
(kept in a cookie), else ``Accept-Language``, else ``DASHBOARD_LANGUAGE``; a page in zh_Hans
holds no English word of the interface; regions are rendered once per language in use."""

import re
import time

import pytest

from app.domain import accounts, approvals, tasks
from app.domain.schemas import TaskIn

PASSWORD = "password-123456"
#: Words of the interface that must not show on a page in Chinese (outside what hosts and
#: programs sent: the test's own data uses none of them).
ENGLISH = ("Alerts", "Events", "Tasks", "History", "Memory", "Disk", "Network", "Load",
           "Sign in", "Sign out", "Admin", "waiting", "sample", "Filter", "Hosts", "compare",
           "Approve", "Deny", "Acknowledge", "Silence", "Forget", "never", "since", "received",
           "sent", "average", "busiest", "minutes", "hours", "left", "ago", "People", "keys",
           "Audit", "Time range", "Uptime", "Viewers", "Top processes", "Sorted")


def interface_text(html: str) -> str:
    """The page's text and attribute words a person reads (tags, URLs and ids removed)."""
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    readable = re.findall(r'(?:aria-label|title|placeholder)="([^"]*)"', html)
    text = re.sub(r"<[^>]+>", " ", html)
    # The protocol's name stays as it is in every language, as Chinese ops tools write it.
    return " ".join([text, *readable]).replace("Server-Sent Events", "SSE")


@pytest.fixture
def site(make_app):
    """Not named ``app``: pytest-flask would share one ``g`` across the test's requests."""
    return make_app(SIMULATOR=True)


def test_the_choice_order(site):
    client = site.test_client()
    assert '<html lang="en">' in client.get("/").text
    chosen = client.get("/?lang=zh_Hans")
    assert '<html lang="zh-Hans">' in chosen.text and "lang=zh_Hans" in chosen.headers["Set-Cookie"]
    assert '<html lang="zh-Hans">' in client.get("/").text  # the cookie
    assert '<html lang="en">' in client.get("/?lang=en").text
    browser = site.test_client()
    for header in ("zh-CN,zh;q=0.9,en;q=0.5", "zh", "zh-Hans-CN"):
        assert '<html lang="zh-Hans">' in browser.get("/", headers={
            "Accept-Language": header}).text, header
    assert '<html lang="en">' in browser.get("/", headers={"Accept-Language": "fr, de"}).text
    assert '<html lang="en">' in browser.get("/?lang=nope").text


def test_dashboard_language_is_the_default(make_app):
    client = make_app(LANGUAGE="zh_Hans").test_client()
    assert '<html lang="zh-Hans">' in client.get("/").text
    assert '<html lang="en">' in client.get("/", headers={"Accept-Language": "en"}).text


def test_the_footer_links_every_language_in_its_own_name(site):
    page = site.test_client().get("/").text
    assert 'href="?lang=zh_Hans" hreflang="zh-Hans" lang="zh-Hans">中文 (简体)</a>' in page
    assert 'href="?lang=en" hreflang="en" lang="en" aria-current="true">English</a>' in page


def test_pages_in_chinese_hold_no_english_interface_word(site):
    live = site.extensions["dashboard"]
    store = live.store
    now = time.time()
    store.append("metrics", {"host": "web-2", "ts": now, "cpu_percent": 5.0, "mem_percent": 6.0},
                 state_key="sample:web-2")
    store.append("event", {"level": "warning", "message": "x1", "source": "y1", "ts": now})
    store.append("alert", {"id": "a1", "name": "n1", "level": "critical", "state": "firing",
                           "message": "m1", "host": None, "source": "api", "started_at": now,
                           "ended_at": None, "peak": None}, state_key="alert:a1")
    tasks.update_task(store, "t1", TaskIn(state="running", progress=40, message="m2"))
    approvals.ask(store, title="q1", timeout_seconds=600, now=now)
    accounts.add(store, "ann", "admin", PASSWORD)
    client = site.test_client()
    client.post("/login", data={"name": "ann", "password": PASSWORD})
    client.get("/?lang=zh_Hans")
    with site.test_client() as signed_out:
        login = signed_out.get("/login?lang=zh_Hans").text
    for path in ("/", "/?host=web-2&range=24h", "/fleet", "/fleet/compare", "/admin", "/audit"):
        response = client.get(path)
        assert response.status_code == 200, path
        text = interface_text(response.text)
        found = [word for word in ENGLISH if re.search(rf"\b{word}\b", text)]
        assert not found, f"{path}: English words {found}"
    found = [word for word in ENGLISH if re.search(rf"\b{word}\b", interface_text(login))]
    assert not found, f"/login: English words {found}"


def test_regions_are_rendered_once_per_language_in_use(site):
    live = site.extensions["dashboard"]
    english = site.test_client()
    chinese = site.test_client()
    chinese.get("/?lang=zh_Hans")
    for client in (english, chinese, english, chinese):
        assert client.get("/").status_code == 200
    keys = sorted(page.key for page in live.pages)
    assert keys == [(live.settings.host_name, "live", "en"),
                    (live.settings.host_name, "live", "zh_Hans")]
    chinese_page = live.pages.peek(None, None, "zh_Hans")
    assert "告警" in chinese_page.view.html["alerts"]
    assert "Alerts" in live.pages.peek(None, None, "en").view.html["alerts"]


def test_a_person_s_own_choice_is_kept_with_their_account_and_comes_first(site):
    live = site.extensions["dashboard"]
    accounts.add(live.store, "ann", "viewer", PASSWORD)
    client = site.test_client()
    client.post("/login", data={"name": "ann", "password": PASSWORD})
    page = client.get("/fleet").text
    assert '<form method="post" action="/ui/language">' in page  # buttons, not links
    chosen = client.post("/ui/language", data={"lang": "zh_Hans"},
                         headers={"Origin": "http://localhost",
                                  "Referer": "http://localhost/fleet?sort=name"})
    assert chosen.status_code == 303 and chosen.location == "/fleet?sort=name"
    assert accounts.get(live.store, "ann")["language"] == "zh_Hans"
    (entry,) = live.store.audit_query(action="account-language")
    assert (entry["who"], entry["target"], entry["detail"]) == ("ann", "ann",
                                                              {"language": "zh_Hans"})
    # The account's choice wins over the browser's and a ?lang= link.
    assert '<html lang="zh-Hans">' in client.get("/", headers={"Accept-Language": "en"}).text
    assert '<html lang="zh-Hans">' in client.get("/?lang=en").text
    refused = client.post("/ui/language", data={"lang": "klingon"},
                          headers={"Origin": "http://localhost"})
    assert refused.status_code == 400 and accounts.get(live.store, "ann")["language"] == "zh_Hans"
