"""A real OpenID Connect provider for the tests: pyop behind a small Flask app, run as its own
process on 127.0.0.1 (``python -m tests.oidc_provider --port N --client-id ...``), or started
and stopped by PID with :class:`Provider`.

It serves discovery (``/.well-known/openid-configuration``), its key set (``/jwks``),
``/authorize`` (no log-in screen: it approves the current test user at once) and ``/token``
(client_secret_basic or _post; PKCE is checked by pyop whenever the request had a challenge).
The ID token carries the user's ``preferred_username``, ``email`` and ``groups``.

What a test changes, by ``POST /test/setup`` with JSON (every field optional):
``user`` (the claims of the person who signs in, ``sub`` among them), ``mode``:
``"ok"``; ``"wrong-nonce"`` (the ID token's nonce is not the one asked for); ``"other-key"``
(the ID token is signed by a key that is not in ``/jwks``, under the published key's ``kid``,
as a forger would); ``"deny"`` (``/authorize`` answers ``error=access_denied``).
``GET /test/last`` gives the query of the latest authorization request (to check that PKCE
and a nonce were asked for).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from urllib.parse import urlencode

import httpx
from Cryptodome.PublicKey import RSA
from flask import Flask, jsonify, redirect, request
from jwkest.jwk import RSAKey
from jwkest.jws import factory
from oic.oic.message import IdToken
from pyop.authz_state import AuthorizationState
from pyop.exceptions import InvalidAuthenticationRequest, OAuthError
from pyop.provider import Provider as PyopProvider
from pyop.subject_identifier import HashBasedSubjectIdentifierFactory
from pyop.userinfo import Userinfo

from tests.servers import ROOT, START_TIMEOUT, answers, terminate

#: The person who signs in unless a test says otherwise.
ALICE = {"sub": "alice-sub-1", "preferred_username": "alice", "email": "alice@example.test",
         "groups": ["staff", "ops"]}
CLAIMS = ("preferred_username", "email", "groups")


def new_rsa_key():
    """A fresh 2048-bit RSA key as jwkest wants it (pycryptodomex), made by ``cryptography``
    (several times faster than pycryptodomex's own generator)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    pem = rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption())
    return RSA.import_key(pem)


def build(issuer: str, client_id: str, client_secret: str, redirect_uris: list[str]) -> Flask:
    """The provider's WSGI app for ``issuer`` (its own base URL) and one registered client."""
    signing = RSAKey(key=new_rsa_key(), kid="test-key", alg="RS256")
    # The forger's key: same kid as the published one, so only the signature can tell.
    forged = RSAKey(key=new_rsa_key(), kid="test-key", alg="RS256")
    users = {"current": dict(ALICE)}
    conf = {"issuer": issuer, "authorization_endpoint": f"{issuer}/authorize",
            "token_endpoint": f"{issuer}/token", "jwks_uri": f"{issuer}/jwks",
            "userinfo_endpoint": f"{issuer}/userinfo",
            "response_types_supported": ["code"], "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "scopes_supported": ["openid", "profile", "email"],
            "code_challenge_methods_supported": ["S256"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic",
                                                      "client_secret_post"]}
    clients = {client_id: {"client_secret": client_secret, "redirect_uris": redirect_uris,
                           "response_types": ["code"],
                           "token_endpoint_auth_method": "client_secret_basic"}}

    class CurrentUser(dict):
        # Every user id is the test's current user, so a test can swap who signs in.
        def __getitem__(self, item):
            return users["current"]

        def __contains__(self, item):
            return True

    # pyop's configuration check wants an https issuer; the tests' provider is plain http on
    # 127.0.0.1, so it is checked under an https name and then given its real one.
    provider = PyopProvider(signing, {**conf, "issuer": "https://checked.invalid"},
                            AuthorizationState(HashBasedSubjectIdentifierFactory("salt")),
                            clients, Userinfo(CurrentUser()))
    provider.configuration_information["issuer"] = issuer
    state = {"mode": "ok", "last": ""}
    app = Flask("oidc_provider")

    @app.get("/.well-known/openid-configuration")
    def discovery():
        return jsonify(provider.provider_configuration.to_dict())

    @app.get("/jwks")
    def jwks():
        return jsonify(provider.jwks)

    @app.get("/authorize")
    def authorize():
        state["last"] = request.query_string.decode()
        try:
            asked = provider.parse_authentication_request(state["last"])
        except InvalidAuthenticationRequest as exc:
            return jsonify(error="invalid_request", error_description=str(exc)), 400
        if state["mode"] == "deny":
            query = {"error": "access_denied", "error_description": "the person said no",
                     "state": asked["state"]}
            return redirect(f"{asked['redirect_uri']}?{urlencode(query)}", 303)
        answer = provider.authorize(asked, users["current"]["sub"])
        return redirect(answer.request(asked["redirect_uri"]), 303)

    @app.post("/token")
    def token():
        claims = {k: users["current"][k] for k in CLAIMS if k in users["current"]}
        try:
            answer = provider.handle_token_request(request.get_data(as_text=True),
                                                   request.headers, extra_id_token_claims=claims)
        except OAuthError as exc:
            return jsonify(error=exc.oauth_error, error_description=str(exc)), 400
        answer = answer.to_dict()
        if state["mode"] in ("wrong-nonce", "other-key"):
            payload = json.loads(factory(answer["id_token"]).jwt.part[1])
            key = signing
            if state["mode"] == "wrong-nonce":
                payload["nonce"] = "not-the-nonce-you-sent"
            else:
                key = forged
            answer["id_token"] = IdToken(**payload).to_jwt([key], "RS256")
        return jsonify(answer), 200, {"Cache-Control": "no-store"}

    @app.get("/userinfo")
    def userinfo():
        return jsonify(users["current"])

    @app.post("/test/setup")
    def setup():
        given = request.get_json()
        state["mode"] = given.get("mode", state["mode"])
        users["current"] = given.get("user", users["current"])
        return jsonify(mode=state["mode"], user=users["current"])

    @app.get("/test/last")
    def last():
        return state["last"]

    return app


class Provider:
    """``python -m tests.oidc_provider`` on 127.0.0.1:``port`` (a context manager), stopped by
    its PID. ``host`` is the name its issuer URL uses (``localhost`` puts it on another site
    than a dashboard at 127.0.0.1, as for a browser a real provider is)."""

    def __init__(self, port: int, client_id: str, client_secret: str, redirect_uris: list[str],
                 host: str = "127.0.0.1") -> None:
        self.url = f"http://{host}:{port}"
        self.args = [sys.executable, "-m", "tests.oidc_provider", "--port", str(port),
                     "--issuer", self.url, "--client-id", client_id,
                     "--client-secret", client_secret, *sum((["--redirect-uri", uri]
                                                             for uri in redirect_uris), [])]
        self.proc: subprocess.Popen | None = None

    def __enter__(self) -> "Provider":
        # A file, not a pipe (nobody reads a pipe while it runs): :attr:`log` reads it.
        self._logfile = tempfile.TemporaryFile()
        self.proc = subprocess.Popen(self.args, cwd=ROOT, stdout=self._logfile,
                                     stderr=subprocess.STDOUT)
        if not answers(self.proc, self.url + "/jwks", START_TIMEOUT):
            self.__exit__()
            raise RuntimeError("the test OpenID provider did not answer within "
                               f"{START_TIMEOUT} s")
        return self

    def setup(self, **what) -> None:
        """Set the provider's ``mode`` and ``user`` (module docstring)."""
        httpx.post(self.url + "/test/setup", json=what).raise_for_status()

    def last_request(self) -> str:
        """The query string of the latest ``/authorize`` request."""
        return httpx.get(self.url + "/test/last").text

    @property
    def log(self) -> str:
        """What the provider wrote so far (werkzeug's request lines, tracebacks)."""
        self._logfile.seek(0)
        return self._logfile.read().decode(errors="replace")

    def __exit__(self, *exc) -> None:
        terminate(self.proc, grace=5)
        self._logfile.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--issuer", required=True)
    parser.add_argument("--client-id", required=True)
    parser.add_argument("--client-secret", required=True)
    parser.add_argument("--redirect-uri", action="append", required=True)
    args = parser.parse_args()
    from werkzeug.serving import make_server

    app = build(args.issuer, args.client_id, args.client_secret, args.redirect_uri)
    # Threaded: the dashboard asks for /token and /jwks while a test's own request waits.
    make_server("127.0.0.1", args.port, app, threaded=True).serve_forever()


if __name__ == "__main__":
    main()
