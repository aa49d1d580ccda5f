"""Security headers: a strict CSP on every HTML answer, nosniff and Referrer-Policy everywhere."""

import pytest

from app.web.headers import CSP


@pytest.mark.parametrize("path", ["/", "/poll", "/fragments/cpu", "/login"])
def test_html_answers_carry_a_strict_policy(client, path):
    response = client.get(path)
    assert response.mimetype == "text/html"
    policy = response.headers["Content-Security-Policy"]
    assert policy == CSP
    assert "default-src 'self'" in policy and "unsafe" not in policy
    assert "frame-ancestors 'none'" in policy and "object-src 'none'" in policy
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"


@pytest.mark.parametrize("path", ["/api/v1/events", "/healthz", "/vendor/htmx.min.js"])
def test_other_answers_are_not_sniffed(client, path):
    response = client.get(path)
    response.close()  # a file's answer holds it open
    assert response.status_code == 200
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
