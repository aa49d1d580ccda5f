"""``/admin``: people (accounts with a role) and programs (API keys with scopes), for admins.

The page has two regions, ``#accounts`` (``templates/_accounts.html``) and ``#keys``
(``templates/_keys.html``). Each form in them posts to a route below with htmx, which answers
with that region's new state and a one-time notice; htmx swaps it in place of the region. A
generated password or key is in that one answer only (``Cache-Control: no-store``): only its
hash is kept, and no page, log line or audit entry holds it. Without JavaScript the browser
posts the form itself and gets the whole page with the notice.

Every change is recorded in the audit log under the same action as ``flask users``
(``app.web.users``). Refusals (``app.web.errors``): 422 bad input, 404 unknown account or key,
409 a name taken, a key revoked already, or the last enabled admin disabled or demoted; htmx
gets a small escaped HTML fragment, which the region's ``hx-status`` puts in its error slot,
programs JSON, a browser without JavaScript Werkzeug's page.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import Blueprint, abort, current_app, render_template, request

from app.domain import accounts
from app.domain import apikeys
from app.domain.accounts import ROLES, SCOPES, AccountError
from app.domain.i18n import N_

from .access import needs
from .credentials import principal
from .auth import record
from .errors import fail

bp = Blueprint("admin", __name__, url_prefix="/admin")


@dataclass(frozen=True)
class Notice:
    """What one answer tells once: ``text`` in ``region`` (``accounts`` or ``keys``), with
    ``secret`` (a generated password or key) when there is one."""

    region: str
    text: str
    secret: str | None = None


def _store():
    return current_app.extensions["dashboard"].store


def _changed(name: str) -> None:
    """This process sees the change at once (its accounts cache, and whether any exists: the
    first account ends the loopback rule), not half a second later."""
    current_app.extensions["dashboard"].accounts.forget(name)


def _refuse(exc: AccountError):
    if exc.text is not None:
        fail(exc.status, exc.text)
    abort(exc.status, description=str(exc))


def _answer(notice: Notice | None = None, status: int = 200):
    """The region of ``notice`` to htmx, the whole page otherwise; never cached."""
    store = _store()
    context = {"accounts": accounts.listed(store), "keys": apikeys.keys(store), "roles": ROLES,
               "scopes": SCOPES, "notice": notice}
    if request.htmx and notice is not None:
        body = render_template(f"_{notice.region}.html", **context)
    else:
        body = render_template("admin.html", **context)
    return body, status, {"Cache-Control": "no-store"}


def _account(name: str) -> dict:
    account = accounts.get(_store(), name)
    if account is None:
        fail(404, N_("no account named '%(name)s'"), name=name)
    return account


def _keep_an_admin(account: dict, *, role: str = "admin", disabled: bool = False) -> None:
    """Refuse (409) a change that would leave no enabled admin account: ``account`` is an
    enabled admin and would be ``role`` and ``disabled``, and no other enabled admin exists.

    Read, then written: two admins demoting each other at the same moment could both pass.
    """
    if account["role"] != "admin" or account["disabled"] or (role == "admin" and not disabled):
        return
    others = [a for a in accounts.listed(_store())
              if a["role"] == "admin" and not a["disabled"] and a["name"] != account["name"]]
    if not others:
        fail(409, N_("%(name)s is the last enabled admin: make another account an admin "
                     "first, or nobody could manage accounts here"), name=account["name"])


@bp.get("")
@needs("admin")
def page():
    """The page: every account and key with their forms."""
    return _answer()


@bp.post("/accounts")
@needs("admin")
def add_account():
    """Form ``name`` and ``role``: create the account with a generated password, shown once.

    :raise 409: the name is taken, or the first account would not be an admin while the
        loopback rule is what makes this request an admin (it ends with the first account).
    """
    name, role = request.form.get("name", "").strip(), request.form.get("role", "")
    store = _store()
    admins = [a for a in accounts.listed(store) if a["role"] == "admin" and not a["disabled"]]
    if principal().kind == "local" and role in ROLES and role != "admin" and not admins:
        fail(409, N_("make an admin account first: once an account exists, a local browser "
                     "is no longer an admin by itself"))
    password = accounts.new_password()
    try:
        accounts.add(store, name, role, password)
    except AccountError as exc:
        _refuse(exc)
    _changed(name)
    record("account-add", name, detail={"role": role})
    return _answer(Notice("accounts", f"Account {name} ({role}) added. Its password, shown "
                                      "this once:", password))


@bp.post("/accounts/<name>/role")
@needs("admin")
def set_role(name: str):
    """Form ``role``: give the account another role; their sessions end."""
    role = request.form.get("role", "")
    account = _account(name)
    if role == account["role"]:
        return _answer(Notice("accounts", f"{name} is {role} already."))
    try:
        accounts.check_role(role)
        _keep_an_admin(account, role=role, disabled=account["disabled"])
        accounts.set_role(_store(), name, role)
    except AccountError as exc:
        _refuse(exc)
    _changed(name)
    record("account-role", name, detail={"role": role})
    return _answer(Notice("accounts", f"{name} is {role} now; their sessions ended."))


@bp.post("/accounts/<name>/disable")
@needs("admin")
def disable(name: str):
    """Disable the account: no sign-in, and every session and stream of theirs ends."""
    _keep_an_admin(_account(name), disabled=True)
    try:
        accounts.set_disabled(_store(), name, True)
    except AccountError as exc:
        _refuse(exc)
    _changed(name)
    record("account-disable", name)
    return _answer(Notice("accounts", f"{name} is disabled."))


@bp.post("/accounts/<name>/enable")
@needs("admin")
def enable(name: str):
    """Enable the account again."""
    try:
        accounts.set_disabled(_store(), name, False)
    except AccountError as exc:
        _refuse(exc)
    _changed(name)
    record("account-enable", name)
    return _answer(Notice("accounts", f"{name} is enabled."))


@bp.post("/accounts/<name>/password")
@needs("admin")
def reset_password(name: str):
    """Give the account a generated password, shown once; their sessions end."""
    password = accounts.new_password()
    try:
        accounts.set_password(_store(), name, password)
    except AccountError as exc:
        _refuse(exc)
    _changed(name)
    record("account-password", name)
    return _answer(Notice("accounts", f"New password of {name}, shown this once (their "
                                      "sessions ended):", password))


@bp.post("/keys")
@needs("admin")
def add_key():
    """Form ``name`` and ``scopes`` (checkboxes, one or more of :data:`SCOPES`): create an API
    key, shown once."""
    name = request.form.get("name", "").strip()
    try:
        key, secret = apikeys.add_key(_store(), name, request.form.getlist("scopes"),
                                       by=principal().by)
    except AccountError as exc:
        _refuse(exc)
    record("key-add", name, detail={"id": key["id"], "scopes": key["scopes"]})
    return _answer(Notice("keys", f"Key {name} ({', '.join(key['scopes'])}) added. The key, "
                                  "shown this once:", secret))


@bp.post("/keys/<key_id>/revoke")
@needs("admin")
def revoke_key(key_id: str):
    """Revoke the key at once, in every process. :raise 409: revoked already."""
    if any(k["id"] == key_id and k["revoked"] for k in apikeys.keys(_store())):
        fail(409, N_("the key %(id)s is revoked already"), id=key_id)
    try:
        key = apikeys.revoke_key(_store(), key_id)
    except AccountError as exc:
        _refuse(exc)
    current_app.extensions["dashboard"].accounts.forget_key(key_id)
    record("key-revoke", key["name"], detail={"id": key_id})
    return _answer(Notice("keys", f"Key {key['name']} ({key_id}) is revoked."))
