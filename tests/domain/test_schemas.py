"""Payload schema details that the API tests do not reach one by one."""

from __future__ import annotations

import json

import pytest
from pydantic import ValidationError

from app.domain.hostsample import Process


def _pid(raw: str) -> int:
    body = {"pid": "PID", "name": "x", "cpu_percent": 1.0, "mem_percent": 1.0, "rss": 1.0}
    text = json.dumps(body).replace('"PID"', raw)
    return Process.model_validate_json(text, strict=True).pid


@pytest.mark.parametrize("raw, value", [("4", 4), ("4.0", 4), ("1e3", 1000),
                                        ("2147483647.0", 2**31 - 1)])
def test_a_whole_number_is_an_int_whether_json_writes_a_fraction_or_not(raw, value):
    pid = _pid(raw)
    assert pid == value and type(pid) is int


@pytest.mark.parametrize("raw, error", [
    ("4.5", "int_type"), ("1e-300", "int_type"), ('"4"', "int_type"), ("true", "int_type"),
    ("null", "int_type"), ("1e400", "int_type"), ("-1", "greater_than_equal"),
    ("3e9", "less_than_equal"), ("9223372036854775808", "less_than_equal")])
def test_anything_else_gets_one_error_of_pydantics_own_kind(raw, error):
    with pytest.raises(ValidationError) as caught:
        _pid(raw)
    assert [e["type"] for e in caught.value.errors()] == [error]
