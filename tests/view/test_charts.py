"""SVG charts: well-formed, labelled with their figures, compact, escaped, placeholders when empty."""

import re
import xml.etree.ElementTree as ET

import pytest
from markupsafe import Markup

from app.view.charts import donut, gauge, sparkline

SVG = "{http://www.w3.org/2000/svg}"


def parse(markup: str) -> ET.Element:
    # Inline SVG in HTML has no xmlns; add it so the tree is the SVG a browser builds.
    return ET.fromstring(str(markup).replace("<svg ", '<svg xmlns="http://www.w3.org/2000/svg" ', 1))


def test_sparkline_is_wellformed_and_labelled_with_the_numbers():
    svg = sparkline([10.0, 20.0, 42.5], label="CPU", unit="%", hi=100)
    assert isinstance(svg, Markup)
    root = parse(svg)
    assert root.get("role") == "img"
    label = root.get("aria-label")
    assert "CPU" in label and "now 42.5 %" in label and "min 10.0" in label and "max 42.5" in label
    [path] = root.iter(f"{SVG}path")
    # Newest point at the right edge of a 300-sample viewBox; y = 40 - share * 40.
    assert path.get("d") == "M297 36L298 32 299 23"


def test_full_history_is_compact():
    values = [i * 0.123456 for i in range(300)]
    svg = str(sparkline(values, label="CPU", hi=100))
    d = re.search(r' d="([^"]+)"', svg)[1]
    assert all(re.fullmatch(r"\d+(\.\d)?", n) for n in re.findall(r"[\d.]+", d))
    assert len(svg) < 3200
    assert len(re.findall(r"[\d.]+", parse(svg).find(f"{SVG}path").get("d"))) == 600  # 300 x, y


def test_older_samples_beyond_the_capacity_are_dropped():
    svg = sparkline(list(range(500)), label="x", capacity=300)
    assert "last 300 samples" in svg


def test_empty_history_renders_a_placeholder():
    root = parse(sparkline([], label="Memory"))
    assert root.get("role") == "img"
    assert root.get("aria-label") == "Memory: no data yet"
    assert "empty" in root.get("class")


def test_several_series_share_one_scale_and_are_named():
    root = parse(sparkline({"received": [0, 100.0], "sent": [50.0, 50.0]}, label="Network"))
    paths = list(root.iter(f"{SVG}path"))
    assert [p.get("class") for p in paths] == ["s0", "s1"]
    assert paths[0].get("d") == "M298 40L299 0"
    assert paths[1].get("d") == "M298 20L299 20"
    assert "received now 100.0" in root.get("aria-label") and "sent now 50.0" in root.get("aria-label")


def test_flat_zero_line_does_not_divide_by_zero():
    root = parse(sparkline([0.0, 0.0], label="load", lo=None))
    assert root.find(f"{SVG}path").get("d") == "M298 40L299 40"


def test_labels_are_escaped():
    evil = '"><script>alert(1)</script>'
    svg = str(sparkline([1.0], label=evil))
    assert "<script>" not in svg
    root = parse(svg)
    assert root.get("aria-label").startswith(evil)
    assert "<script>" not in str(donut([("firing", 1)], label=evil))
    assert "<script>" not in str(gauge(5, label=evil))


@pytest.mark.parametrize(("value", "share"), [(42.0, "42"), (150.0, "100"), (-3.0, "0"), (12.34, "12.3")])
def test_gauge_fills_its_share_and_says_the_value(value, share):
    root = parse(gauge(value, label="CPU", level="warning"))
    assert root.get("role") == "img"
    assert root.get("aria-label") == f"CPU {value:.1f} % of 100 %"
    fill = root.find(f"{SVG}path[@class='fill level-warning']")
    assert fill.get("stroke-dasharray") == f"{share} 100"


def test_gauge_without_value_is_an_empty_track():
    root = parse(gauge(None, label="CPU"))
    assert root.get("aria-label") == "CPU: no data yet"
    assert [p.get("class") for p in root.iter(f"{SVG}path")] == ["track"]


def test_donut_segments_and_counts():
    root = parse(donut([("firing", 1), ("resolved", 3)], label="Alerts"))
    assert root.get("aria-label") == "Alerts: 1 firing, 3 resolved"
    circles = {c.get("class"): c for c in root.iter(f"{SVG}circle")}
    assert circles["firing"].get("stroke-dasharray") == "25 75"
    assert circles["resolved"].get("stroke-dasharray") == "75 25"
    assert circles["resolved"].get("stroke-dashoffset") == "0"  # starts where firing ends
    assert root.find(f"{SVG}text").text == "1"


def test_donut_with_nothing_is_an_empty_ring():
    root = parse(donut([("firing", 0), ("resolved", 0)], label="Alerts"))
    assert [c.get("class") for c in root.iter(f"{SVG}circle")] == ["track"]
    assert root.get("aria-label") == "Alerts: 0 firing, 0 resolved"
