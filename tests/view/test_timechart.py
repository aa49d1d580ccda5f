"""Time-series charts (app.view.timechart): axes, local-time ticks, band, hover titles,
aria-label, gaps drawn as gaps, escaping."""

import xml.etree.ElementTree as ET
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from app.view import timeaxis as ta
from app.view import timechart as tc

SVG = "{http://www.w3.org/2000/svg}"
UTC = ZoneInfo("UTC")
T0 = datetime(2026, 3, 2, 12, 0, tzinfo=UTC).timestamp()  # a Monday


def parse(markup) -> ET.Element:
    return ET.fromstring(str(markup).replace("<svg ", '<svg xmlns="http://www.w3.org/2000/svg" ', 1))


def chart(points, **kw):
    defaults = dict(slug="cpu", title="CPU", series=[tc.Series("", points)], start=T0,
                    end=T0 + 3600, step=60, axis="percent", band=True, span_label="last hour",
                    ticks=ta.time_ticks(T0, T0 + 3600, UTC))
    return tc.Chart(**{**defaults, **kw})


def test_time_ticks_are_round_local_times():
    assert [label for _, label in ta.time_ticks(T0, T0 + 3600, UTC)] == [
        "12:00", "12:10", "12:20", "12:30", "12:40", "12:50", "13:00"]
    paris = ZoneInfo("Europe/Paris")  # UTC+1 in March before the change
    ticks = ta.time_ticks(T0 + 7 * 60, T0 + 6 * 3600, paris)
    assert ticks[0] == (T0 + 3600, "14:00") and ticks[-1][1] == "19:00"
    week = ta.time_ticks(T0 - 7 * 86400, T0, UTC)
    assert [label for _, label in week][:2] == ["Tue 24", "Wed 25"]
    year = ta.time_ticks(T0 - 365 * 86400, T0, UTC)
    assert [label for _, label in year] == ["May", "Jul", "Sep", "Nov", "Jan", "Mar"]


def test_time_ticks_follow_a_daylight_saving_change():
    paris = ZoneInfo("Europe/Paris")  # 29 March 2026, 02:00 -> 03:00: 02:00 is never shown
    start = datetime(2026, 3, 29, 0, 0, tzinfo=paris).timestamp()
    labels = [label for _, label in ta.time_ticks(start, start + 6 * 3600, paris)]
    assert labels == ["00:00", "01:00", "03:00", "04:00", "05:00", "06:00", "07:00"]


@pytest.mark.parametrize(("values", "axis", "expected"), [
    ([3.0, 97.0], "percent", (0, 100, 25, 1)),
    ([0.3, 1.7], "plain", (0, 2, 0.5, 1)),
    ([], "plain", (0, 1, 0.25, 1)),
    ([-3.0, 4.0], "plain", (-4, 4, 2, 1)),
    ([3 * 2**20], "bytes", (0, 3 * 2**20, 2**20, 2**20)),
    ([900.0, 1200.0], "bytes", (0, 1536, 512, 1024)),
])
def test_value_axis_is_nice_and_holds_every_value(values, axis, expected):
    assert ta.value_axis(values, axis) == pytest.approx(expected)


def test_frame_has_axes_grid_units_and_tick_labels():
    c = chart([(T0, 10.0, 20.0, 30.0)])
    root = parse(tc.frame(c, *ta.value_axis([30.0], "percent")))
    assert root.get("aria-hidden") == "true"
    texts = [(t.get("class"), t.text) for t in root.iter(f"{SVG}text")]
    assert ("v", "0 %") in texts and ("v", "100 %") in texts and ("t", "12:30") in texts
    grid = root.find(f"{SVG}path[@class='grid']").get("d")
    assert grid.count("h534") == 3 and grid.count("v146") == 5  # inner lines only
    assert root.find(f"{SVG}path[@class='axis']") is not None


def test_plot_draws_band_and_line_with_gaps_as_gaps_and_says_what_it_shows():
    points = [(T0, 10.0, 20.0, 30.0), (T0 + 60, 20.0, 25.0, 40.0),
              (T0 + 600, 5.0, 6.0, 7.0), (T0 + 660, 5.0, 8.0, 9.0)]  # 9 minutes missing
    c = chart(points)
    hovers = [(T0, T0 + 60, tc.bucket_title(c, T0, T0 + 60, UTC, [points[0]]))]
    root = parse(tc.plot(c, 0, 100, "8.0 %", hovers))
    line = root.find(f"{SVG}path[@class='line s0']").get("d")
    band = root.find(f"{SVG}path[@class='band s0']").get("d")
    assert line.count("M") == 2 and band.count("M") == 2 and band.count("Z") == 2
    assert line.startswith("M62 139l9-7")  # x = 58 + 0.5 min * 534 / 60; y = 168 - 20 * 1.46
    assert root.get("role") == "img"
    assert root.get("aria-label") == "CPU, last hour: latest 8.0 %; min 5.0 %, max 40.0 %"
    assert root.find(f"{SVG}text[@class='now']").text == "8.0 %"
    [rect] = root.iter(f"{SVG}rect")
    assert rect.find(f"{SVG}title").text == (
        "12:00–12:01: 20.0 % (min 10.0 %, max 30.0 %)")


def test_hover_title_names_the_day_on_a_long_range_and_where_a_bucket_crosses_midnight():
    week = chart([], start=T0 - 7 * 86400, end=T0, step=7200)
    late = T0 + 11 * 3600  # Monday 23:00
    point = (late, 1.0, 2.0, 3.0)
    assert tc.bucket_title(week, late, late + 7200, UTC, [point]) == (
        "Mon 02 Mar 23:00–Tue 03 Mar 01:00: 2.0 % (min 1.0 %, max 3.0 %)")
    assert tc.bucket_title(week, late, late + 3600, UTC, [point]).startswith(
        "Mon 02 Mar 23:00–00:00: ")  # ends at the midnight that closes its own day
    assert tc.bucket_title(chart([]), T0, None, UTC, [None]) == "12:00–now: no data"


def test_two_series_have_a_legend_and_their_own_lines():
    c = chart([], axis="bytes", band=False, series=[
        tc.Series("received", [(T0, 1.0, 2048.0, 3.0)]), tc.Series("sent", [])])
    frame = parse(tc.frame(c, *ta.value_axis([2048.0], "bytes")))
    assert [t.text for t in frame.iter(f"{SVG}text") if t.get("class") == "k"] == ["received", "sent"]
    plot = parse(tc.plot(c, 0, 4096, "received 2.0 KiB/s"))
    assert plot.find(f"{SVG}path[@class='line s0']").get("d") == "M60 95h4"  # a lone point
    assert plot.find(f"{SVG}path[@class='line s1']") is None
    assert "sent no data" in plot.get("aria-label")


def test_custom_names_and_units_are_escaped():
    evil = '"><script>alert(1)</script>'
    c = chart([(T0, 1.0, 1.0, 1.0)], title=evil, unit=evil, axis="plain",
              series=[tc.Series(evil, [(T0, 1.0, 1.0, 1.0)]), tc.Series("b", [])])
    frame = str(tc.frame(c, 0, 1, 0.25, 1))
    plot = str(tc.plot(c, 0, 1, f"1 {evil}", [(T0, T0 + 60, f"t {evil}")]))
    for svg in (frame, plot):
        assert "<script>" not in svg
        parse(svg)  # still well-formed
    assert parse(plot).get("aria-label").startswith(evil)


def test_an_empty_chart_says_no_data():
    root = parse(tc.plot(chart([]), 0, 100, ""))
    assert root.get("aria-label") == "CPU, last hour: latest none; no data"
    assert root.find(f"{SVG}path") is None
