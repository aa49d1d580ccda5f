"""The stores read their JSON with orjson (``app.store.codec``): the same values as the standard
library's ``json``, including what ``json.dumps`` writes and orjson alone would refuse."""

import json
import math

import orjson

from app.store import codec

TEXTS = ['{"host":"h","cpu_percent":12.5,"processes":[{"pid":1,"name":"\\u00e9t\\u00e9"}]}',
         '{"count":9223372036854775807}', '{"s":"\\ud800"}', '[1e308,-0.0,null,true]']


def test_values_are_those_of_the_standard_library():
    for text in TEXTS:
        assert codec.loads(text) == json.loads(text), text


def test_an_integer_beyond_64_bits_comes_back_a_float():
    """As the docstring says; the payload schemas keep such numbers out of the store."""
    assert codec.loads('{"n":123456789012345678901234567890}') == {"n": 1.2345678901234568e29}


def test_what_json_dumps_writes_and_orjson_refuses_is_read_all_the_same():
    text = json.dumps({"temperature": float("nan"), "limit": float("inf")})
    try:
        orjson.loads(text)
    except orjson.JSONDecodeError:
        pass
    else:
        raise AssertionError("orjson took NaN: this test no longer shows the fallback")
    value = codec.loads(text)
    assert math.isnan(value["temperature"]) and value["limit"] == float("inf")


def test_an_item_holding_nan_comes_back_from_either_store(store):
    store.append("metrics", {"host": "h", "temperature": float("nan")})
    assert math.isnan(store.since(0)[-1].data["temperature"])


def test_a_validated_batch_is_written_as_json_would_write_it():
    for text in TEXTS[:2] + TEXTS[3:]:
        value = json.loads(text)
        assert json.loads(codec.dumps_finite(value)) == value, text


def test_what_orjson_cannot_write_goes_to_json():
    for value in ({"n": 2**70}, {"s": "\ud800"}, {1: "one"}):
        assert codec.dumps_finite(value) == json.dumps(value, separators=(",", ":")).encode()
