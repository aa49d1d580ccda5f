"""Regions sent in parts (app.view.parts): changed parts alone while the skeleton holds."""

import pytest
from jinja2 import Environment

from app.view.parts import Parts

TEMPLATE = Environment(autoescape=True).from_string(
    '{% macro row(n, v) %}<li id="p-{{ n }}">{{ v }}</li>{% endmacro %}'
    '<ul id="r" hx-swap-oob="true">{% for n, v in rows %}{{ parts.put("p-" ~ n, row(n, v)) }}'
    '{% endfor %}</ul>')


def render(parts, rows):
    parts.start()
    return parts.finish(TEMPLATE.render(parts=parts, rows=rows))


def test_the_first_render_and_a_new_order_send_the_whole_region_else_the_changed_parts():
    parts = Parts()
    whole = render(parts, [("a", 1), ("b", 2)])
    assert whole == '<ul id="r" hx-swap-oob="true"><li id="p-a">1</li><li id="p-b">2</li></ul>'
    assert parts.change == whole
    render(parts, [("a", 1), ("b", 3)])
    assert parts.change == '<li id="p-b" hx-swap-oob="true">3</li>'
    render(parts, [("b", 3), ("a", 1)])  # a new order: the whole region
    assert parts.change.startswith('<ul id="r"') and "hx-swap-oob" not in parts.change[30:]
    render(parts, [("b", 3)])  # one gone
    assert parts.change == '<ul id="r" hx-swap-oob="true"><li id="p-b">3</li></ul>'


def test_part_ids_are_matched_escaped_and_may_not_repeat():
    parts = Parts()
    render(parts, [("<x>", 1)])
    render(parts, [("<x>", 2)])
    assert parts.change == '<li id="p-&lt;x&gt;" hx-swap-oob="true">2</li>'
    with pytest.raises(ValueError, match="twice"):
        render(parts, [("a", 1), ("a", 2)])


FEED = Environment(autoescape=True).from_string(
    '<section id="f" hx-swap-oob="true"><h2>{{ title }}</h2><ol id="feed">{% for n, v in rows %}'
    '{% set item %}<li id="e-{{ n }}">{{ v }}</li>{% endset %}'
    '{{ parts.put("e-" ~ n, item, into="feed") }}{% endfor %}</ol></section>')


def feed(parts, rows, title="Events"):
    parts.start()
    return parts.finish(FEED.render(parts=parts, rows=rows, title=title))


def test_a_list_sends_its_new_items_prepended_and_its_old_ones_deleted():
    parts = Parts()
    feed(parts, [(2, "b"), (1, "a")])
    assert parts.change.startswith('<section id="f"')  # the first render: whole
    # One new event at the top, the oldest off the end (a feed of two).
    feed(parts, [(3, "<c>"), (2, "b")])
    assert parts.change == ('<ol id="feed" hx-swap-oob="afterbegin"><li id="e-3">&lt;c&gt;</li>'
                            '</ol><li id="e-1" hx-swap-oob="delete"></li>')
    # Two at once (one render folded them), nothing dropped, a kept item changed.
    feed(parts, [(5, "e"), (4, "d"), (3, "<c>"), (2, "B")])
    assert parts.change == ('<ol id="feed" hx-swap-oob="afterbegin"><li id="e-5">e</li>'
                            '<li id="e-4">d</li></ol><li id="e-2" hx-swap-oob="true">B</li>')
    # Anything else goes whole: the list in another order, every item replaced, the frame.
    for rows, title in (([(4, "d"), (5, "e")], "Events"), ([(7, "g"), (6, "f")], "Events"),
                        ([(8, "h"), (7, "g")], "Other")):
        whole = feed(parts, rows, title)
        assert parts.change == whole
    with pytest.raises(ValueError, match="two lists"):
        parts.start()
        parts.put("x", "<li id=x></li>", into="one")
        parts.put("y", "<li id=y></li>", into="two")
