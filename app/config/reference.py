"""The manual's configuration page, made from :class:`Settings` itself: every field's variable,
type, default and the ``#:`` comment above it. Run ``python -m app.config.reference`` to write
``docs/configuration.md``; ``tests/test_docs.py`` fails when the committed page differs.

A field with no comment of its own shares the row of the field above it (``audit_size`` under
``audit_retention``), as the comment there speaks of both.
"""

from __future__ import annotations

import ast
import dataclasses
import json
import re
import sys
import typing
from pathlib import Path

import annotated_types
from pydantic import BeforeValidator
from pydantic.fields import FieldInfo

from . import ENV_PREFIX, ROOT, Settings, _validator
from .values import DURATION_UNITS, Secret, parse_duration

PAGE = ROOT / "docs" / "configuration.md"
SOURCE = Path(__file__).with_name("__init__.py")

HEAD = """# Configuration

<!-- Made by `python -m app.config.reference` from app/config/__init__.py: edit the `#:`
comments there, not this page (tests/test_docs.py compares them). -->

Every setting is an environment variable `DASHBOARD_*`, read and validated once at start. A bad
value stops start-up with a message that names the variable. Structured values (objects and
lists) are JSON. Durations are seconds, or a whole number with a unit `s`, `m`, `h`, `d`, `w` or
`y` (365 days): `30m`, `12h`, `7d`. Switches are `1` or `0` (also `true` / `false`).
gunicorn's own variables (`GUNICORN_BIND`, `GUNICORN_WORKERS`, ...) are on
[Deploying](deploying.md#gunicorn); the thresholds and alert rules are explained on
[Alerts](alerts.md#thresholds-and-rules).

| variable | type | default | meaning |
|---|---|---|---|
"""


def fields() -> dict[str, FieldInfo]:
    """Each setting as pydantic sees it (type, bounds, default), by field name."""
    _validator()  # the names the annotations use are resolved from now on
    hints = typing.get_type_hints(Settings, include_extras=True)
    return {f.name: FieldInfo.from_annotated_attribute(hints[f.name], f)
            for f in dataclasses.fields(Settings)}


def comments() -> dict[str, str]:
    """Each field's ``#:`` comment, joined into one line, by field name (``""`` for none)."""
    text = SOURCE.read_text()
    lines = text.splitlines()
    tree = ast.parse(text)
    cls = next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "Settings")
    found = {}
    for node in cls.body:
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            above, i = [], node.lineno - 2
            while i >= 0 and lines[i].strip().startswith("#:"):
                above.insert(0, lines[i].strip()[2:].strip())
                i -= 1
            found[node.target.id] = " ".join(above)
    return found


def markdown(text: str) -> str:
    """reST inline markup of the comments as Markdown: ````x```` and ``:role:`x``` -> `x`."""
    text = re.sub(r":\w+:`~?([^`]+)`", r"`\1`", text)
    return text.replace("``", "`").replace("|", "\\|")


def kind(field) -> str:
    """The field's type in words, with its bounds."""
    meta = field.metadata
    bounds = [f"{op} {_number(getattr(m, attr))}" for m in meta
              for attr, op in (("gt", ">"), ("ge", "≥"), ("lt", "<"), ("le", "≤"))
              if isinstance(m, annotated_types.BaseMetadata) and getattr(m, attr, None) is not None]
    if any(isinstance(m, BeforeValidator) and m.func is parse_duration for m in meta):
        name = "duration"
    else:
        annotation = field.annotation
        origin = typing.get_origin(annotation)
        if annotation is bool:
            name = "switch"
        elif annotation is Secret:
            name = "secret text"
        elif origin is typing.Literal:
            name = " or ".join(f"`{v}`" for v in typing.get_args(annotation))
        elif origin is dict:
            name = "JSON object"
        elif origin is tuple:
            name = "JSON list"
        elif annotation is float:
            name = "seconds" if bounds == ["> 0"] else "number"
        elif annotation is int:
            name = "integer"
        elif annotation is str:
            name = "text"
        else:
            name = "number or addresses"
    return name + (f" ({', '.join(bounds)})" if bounds and name != "seconds" else "")


def _number(value) -> str:
    return str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)


def default(name: str, field) -> str:
    """The field's default as the page shows it (a long one: "see below")."""
    if field.default_factory is not None and name == "host_name":
        return "this machine's host name"
    value = field.get_default(call_default_factory=True)
    if isinstance(value, Secret):
        value = value.get_secret_value()
    if value == "" or value == {}:
        return "empty"
    if isinstance(value, bool):
        return f"`{int(value)}`"
    if isinstance(value, float) and kind(field).startswith("duration"):
        return f"`{_duration(value)}`"
    if isinstance(value, (dict, tuple)):
        return "see below"
    shown = f"`{_number(value)}`"
    if kind(field) == "seconds" and value >= 3600:
        shown += f" ({_duration(value)})"
    return shown


def _duration(seconds: float) -> str:
    for unit, size in sorted(DURATION_UNITS.items(), key=lambda kv: -kv[1]):
        if seconds >= size and seconds % size == 0:
            return f"{int(seconds // size)}{unit}"
    return _number(seconds)


def _json(value) -> str:
    if isinstance(value, tuple):  # the alert rules: one a line
        return "[\n" + ",\n".join(json.dumps(rule.stored()) for rule in value) + "\n]"
    return json.dumps(value)


def page() -> str:
    """The whole configuration page, Markdown."""
    notes = comments()
    rows, longs = [], []
    for name, field in fields().items():
        variable = f"`{ENV_PREFIX}{name.upper()}`"
        if not notes.get(name) and rows:  # shares the row above
            rows[-1][0] += f", {variable}"
            continue
        rows.append([variable, kind(field), default(name, field), markdown(notes.get(name, ""))])
        if default(name, field) == "see below":
            longs.append(f"`{ENV_PREFIX}{name.upper()}`:\n\n```json\n"
                         f"{_json(field.get_default(call_default_factory=True))}\n```\n")
    table = "".join(f"| {' | '.join(row)} |\n" for row in rows)
    return HEAD + table + "\n## Long defaults\n\n" + "\n".join(longs)


if __name__ == "__main__":
    if sys.argv[1:] == ["--check"]:
        sys.exit(0 if PAGE.read_text() == page() else f"{PAGE} is out of date: "
                 "run python -m app.config.reference")
    PAGE.write_text(page())
