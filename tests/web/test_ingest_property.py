"""Property: whatever JSON a program sends to an ingest endpoint, the answer is never a 5xx,
and a rejected body stores nothing."""

import json
import math

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

SCALARS = (st.none() | st.booleans() | st.integers() | st.floats()  # NaN and ±inf included
           | st.text(max_size=30)
           | st.sampled_from(["\ud800", "a\udfffb"]))  # lone surrogates: valid JSON, not UTF-8
JSON = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=5)
                    | st.dictionaries(st.text(max_size=10), inner, max_size=5), max_leaves=20)


def shaped(fields: dict[str, st.SearchStrategy]) -> st.SearchStrategy:
    """Objects with some of the endpoint's own keys (any JSON values) and perhaps stray ones."""
    return st.fixed_dictionaries({}, optional=fields).flatmap(
        lambda known: st.dictionaries(st.text(max_size=8), JSON, max_size=2).map(
            lambda extra: {**extra, **known}))


NAME = st.sampled_from(["queue_depth", "a:b", "9bad", "", "x-y"]) | st.text(max_size=10)
METRIC = shaped({"name": NAME, "value": st.floats() | st.integers() | JSON,
                 "type": st.sampled_from(["gauge", "counter", "histogram"]) | JSON,
                 "unit": st.text(max_size=40) | JSON,
                 "labels": st.dictionaries(st.text(max_size=5), st.text(max_size=5) | JSON,
                                           max_size=3) | JSON})
LEVEL = st.sampled_from(["info", "warning", "error", "critical", "loud"]) | JSON
BODIES = {
    "/api/v1/events": shaped({"level": LEVEL, "message": st.text(max_size=20) | JSON,
                              "source": st.text(max_size=20) | JSON}),
    "/api/v1/alerts": shaped({"name": st.text(max_size=20) | JSON, "level": LEVEL,
                              "message": st.text(max_size=20) | JSON,
                              "source": st.text(max_size=20) | JSON}),
    "/api/v1/metrics": shaped({"metrics": st.lists(METRIC, max_size=4) | JSON}),
}


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(path=st.sampled_from(sorted(BODIES)), data=st.data(), raw=st.booleans())
def test_ingest_never_fails_and_a_rejection_stores_nothing(client, live, path, data, raw):
    body = data.draw(JSON if raw else BODIES[path], label="body")
    before = live.store.latest_id()
    # json.dumps writes NaN and Infinity as Python's json.loads (Flask's parser) reads them back.
    response = client.post(path, data=json.dumps(body), content_type="application/json")
    assert response.status_code < 500, response.get_data(as_text=True)
    if response.status_code >= 400:
        assert live.store.latest_id() == before
    else:
        assert response.status_code in (201, 202)
        assert live.store.latest_id() > before
        stored = live.store.since(before)
        # Nothing that is not a finite number ends up as a value.
        for item in stored:
            for metric in item.data.get("metrics", ()):
                assert math.isfinite(metric["value"])
