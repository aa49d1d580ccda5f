"""The donut: well-formed, labelled with its figures, escaped, empty when there is nothing."""

import xml.etree.ElementTree as ET


from app.view.charts import donut

SVG = "{http://www.w3.org/2000/svg}"


def parse(markup: str) -> ET.Element:
    # Inline SVG in HTML has no xmlns; add it so the tree is the SVG a browser builds.
    return ET.fromstring(str(markup).replace("<svg ", '<svg xmlns="http://www.w3.org/2000/svg" ', 1))


def test_donut_label_is_escaped():
    evil = '"><script>alert(1)</script>'
    svg = str(donut([("firing", 1)], label=evil))
    assert "<script>" not in svg and parse(svg).get("aria-label").startswith(evil)


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
