"""The regions inside a host: cores, modes, swap, disks, interfaces, sensors and processes."""

import re

from app.domain import processes
from app.sources.simhost import SimulatedHost
from app.store import Item
from app.view.catalog import DETAIL_STEP
from app.view.host import cores, mode_bar
from tests.view.test_regions import sample, view_with

DISKS = [{"mount": "/", "device": "/dev/nvme0n1p2", "fstype": "ext4", "percent": 50.0,
          "used": 50 << 30, "total": 100 << 30},
         {"mount": "/var", "device": "/dev/sda1", "fstype": "xfs", "percent": 96.0,
          "used": 96 << 30, "total": 100 << 30}]
IO = [{"device": "nvme0n1", "read_bps": 2048.0, "write_bps": 0.0, "read_iops": 1.0,
       "write_iops": 0.0, "busy_percent": 12.0},
      {"device": "sda", "read_bps": 0.0, "write_bps": 0.0, "read_iops": 0.0, "write_iops": 0.0,
       "busy_percent": None}]
INSIDE = {"cpu_cores": [3, 96, 55, 74], "cpu_times": {"user": 30.0, "system": 10.4,
                                                     "iowait": 0.4, "idle": 59.2},
          "swap_percent": 85.0, "swap_used": 850 << 20, "swap_total": 1000 << 20,
          "disks": DISKS, "disk_io": IO,
          "interfaces": [{"name": "eth0", "rx_bps": 1536.0, "tx_bps": 0.0, "errors": 2,
                          "drops": 0, "up": True},
                         {"name": "<wg0>", "rx_bps": 0.0, "tx_bps": 0.0, "errors": 0,
                          "drops": 0, "up": False}],
          "sensors": [{"label": "coretemp Core 0", "celsius": 81.4, "high": 80.0,
                       "critical": 100.0},
                      {"label": "acpitz", "celsius": 60.0, "high": None, "critical": None},
                      {"label": "nvme Composite", "celsius": 75.0, "high": None,
                       "critical": 70.0}]}


def test_cores_are_bucketed_in_tenths():
    assert cores([0, 4.9, 5, 44, 96, 100]) == [0, 0, 1, 4, 10, 10]


def test_mode_bar_stacks_busy_modes_in_whole_percents():
    svg = mode_bar({"user": 30.0, "system": 10.4, "iowait": 0.4, "steal": 0.6, "idle": 58.6})
    assert re.findall(r'class="(\w+)" x="(\d+)" width="(\d+)"', svg) == [
        ("user", "0", "30"), ("system", "30", "10"), ("steal", "40", "1")]


def test_inside_regions_show_each_item_with_its_level(live):
    view, changed = view_with(live, Item(1, "metrics", 0, sample(**INSIDE)))
    assert {"cpu-detail", "cpu-modes", "memory-detail", "disks", "interfaces",
            "sensors"} <= set(changed)
    html = view.html
    assert html["cpu-detail"].count("<i ") == 4
    assert '<i class="p10 critical">' in html["cpu-detail"]  # 96 %: DASHBOARD_THRESHOLDS cpu
    assert '<i class="p7 warning">' in html["cpu-detail"]
    assert "Busy per logical CPU, %: 0 100 60 70" in html["cpu-detail"]
    assert "user 30 %" in html["cpu-modes"] and "iowait 0 %" in html["cpu-modes"]
    assert "level-critical" in html["memory-detail"] and "850.0 MiB of 1000.0 MiB" in html["memory-detail"]
    rows = re.findall(r'<tr class="level-(\w+)" data-mount="([^"]+)">(.*?)</tr>', html["disks"], re.S)
    assert [(level, mount) for level, mount, _ in rows] == [("ok", "/"), ("critical", "/var")]
    assert "2.0 KiB/s" in rows[0][2] and "12 %" in rows[0][2]  # nvme0n1p2 lives on nvme0n1
    assert "/dev/sda1 · xfs" in rows[1][2] and "–" in rows[1][2]  # sda: no busy time known
    assert 'data-interface="eth0"' in html["interfaces"] and "1.5 KiB/s" in html["interfaces"]
    assert "&lt;wg0&gt;" in html["interfaces"] and "<wg0>" not in html["interfaces"]
    assert 'class="down"' in html["interfaces"]
    sensors = re.findall(r'<li class="level-(\w+)"><span class="label">([^<]+)', html["sensors"])
    # Its own high mark; the temperature thresholds without one; its own critical mark.
    assert sensors == [("warning", "coretemp Core 0"), ("ok", "acpitz"),
                       ("critical", "nvme Composite")]


def test_without_the_new_keys_the_panels_say_so(live):
    view, _ = view_with(live, Item(1, "metrics", 0, sample()))  # an older agent's sample
    assert "<i " not in view.html["cpu-detail"] and "<svg" not in view.html["cpu-modes"]
    assert "Swap" not in view.html["memory-detail"]
    assert "no file system" in view.html["disks"]
    assert "No temperature sensor" in view.html["sensors"]
    for n in range(2, DETAIL_STEP + 2):  # the panel is paced: its next redraw
        view, _ = view_with(live, Item(n, "metrics", 0, sample(swap_total=0, swap_used=0,
                                                                swap_percent=0.0)))
    assert "none configured" in view.html["memory-detail"]


def test_tables_are_paced_like_the_charts_but_a_level_change_shows_at_once(live):
    def moving(n):  # every figure moves, no level changes
        return sample(**{**INSIDE, "cpu_cores": [n % 2 * 50],
                         "disk_io": [{**IO[0], "read_bps": 1024.0 * n}, IO[1]]})

    changes = [view_with(live, Item(n, "metrics", 0, moving(n)))[1]
               for n in range(1, 2 * DETAIL_STEP + 2)]
    paced = [n for n, changed in enumerate(changes, 1) if "disks" in changed]
    assert paced == [1, DETAIL_STEP + 1, 2 * DETAIL_STEP + 1]
    assert all("cpu-detail" in changed for changed in changes)  # the cores: every sample
    fuller = [dict(DISKS[0], percent=85.0), DISKS[1]]  # / crosses the warning mark
    _, changed = view_with(live, Item(99, "metrics", 0, sample(**{**INSIDE, "disks": fuller})))
    assert "disks" in changed


def processes_item(item_id, host="h", **extra):
    rows = SimulatedHost("h", seed=1).processes()
    return Item(item_id, "processes", 0, {"host": host, "ts": 1_700_000_000.0,
                                          "processes": rows, **extra})


def test_the_process_table_sorted_by_cpu_with_a_link_to_sort_by_memory(live, client):
    view, changed = view_with(live, Item(1, "metrics", 0, sample()), processes_item(2))
    assert "processes" in changed
    html = view.html["processes"]
    assert html.count("<tr><td>") == 15
    cpu = [float(v) for v in re.findall(r"<tr>(?:<td>[^<]*){3}<td>([\d.]+)", html)]
    assert cpu == sorted(cpu, reverse=True)
    assert 'href="/?host=h&amp;sort=mem#processes-mem"' in html
    assert "Command" not in html and "scanned at" in html
    # Another host's list is not this page's.
    assert view.apply([processes_item(3, host="other")]) == []


def test_the_table_sorted_by_memory_polls_at_the_scan_interval(live, client):
    from tests.web.test_poll import settle

    host = live.view.host  # this dashboard's own page
    client.get("/")  # the live view runs
    live.store.append("metrics", sample(host=host), state_key=f"sample:{host}")
    settle(live, processes.record(live.store, host, 1.0, processes_item(0).data["processes"],
                                  cmdline=False))
    page = client.get("/?sort=mem").text
    assert 'id="processes-mem"' in page and 'id="processes"' not in page
    assert f'hx-get="/fragments/processes-mem?host={host}" hx-trigger="every 5s"' in page
    fragment = client.get("/fragments/processes-mem").text
    rss = re.findall(r"<tr>(?:<td>[^<]*){5}<td>([^<]+)", fragment)
    assert rss[0].endswith("GiB") and len(rss) == 15
    assert f'href="/?host={host}#processes"' in fragment
    assert 'id="processes"' in client.get("/").text


def test_command_lines_show_only_when_the_list_has_them(live):
    rows = [{"pid": 1, "name": "sh", "user": "u", "cpu_percent": 1.0, "mem_percent": 0.1,
             "rss": 10, "state": "running", "runtime": 5, "cmdline": "sh -c '<b>'"}]
    view, _ = view_with(live, Item(1, "processes", 0, {"host": "h", "ts": 1.0, "processes": rows}))
    assert "Command" in view.html["processes"] and "sh -c &#39;&lt;b&gt;&#39;" in view.html["processes"]


def test_no_list_yet_says_when_one_comes(live):
    live.view.load(live.store)
    html = live.view.html["processes"]
    assert "No process list yet" in html and "--processes" in html
