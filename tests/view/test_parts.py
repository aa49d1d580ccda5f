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
