"""People and programs: accounts with a role, API keys with scopes, and what each may do.

An account is the state ``account:<name>``, the same dict in the store, the log and the admin
page (no secret in it)::

    {"name": "alice", "role": "viewer"|"operator"|"admin", "disabled": bool,
     "created_at": unix s, "last_sign_in": unix s|None, "source": "password"|"oidc"|"header",
     "generation": int,          # +1 on disable, password change and role change
     "language": "zh_Hans"|None,  # the person's own choice of the interface's language
     "sessions": {sid_hash: unix s},  # open sign-ins (sha256 of the session id, 16 hex)
     "rev": str}                 # changes with every write: the compare-and-set field

Its Argon2id password hash is the state ``password:<name>`` (never in the log). API keys live in
:mod:`app.domain.apikeys`; each process caches both (:mod:`app.domain.accountcache`).

Every change appends an ``account`` log item (the public dict), so each process's cache and open
streams learn of it within a tail interval. Nothing here knows Flask; argon2 is imported only by
the functions that hash or verify.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import time
import uuid

from app.store import Store

from .i18n import N_, Text, TextError

#: The roles, each with the rights of the one before.
ROLES = ("viewer", "operator", "admin")
#: What a key may be given; see :data:`SCOPE_RIGHTS`.
SCOPES = ("read", "ingest", "ask", "operate", "admin")
#: The rights (the needs a route declares, ``app.web.access``) each role has.
ROLE_RIGHTS = {
    "viewer": frozenset({"read"}),
    "operator": frozenset({"read", "operate"}),
    "admin": frozenset({"read", "operate", "admin", "ingest", "ask"}),
}
#: The rights each key scope gives: ``operate`` and ``admin`` read too (a bot relaying an
#: answer must see the question), ``admin`` operates too.
SCOPE_RIGHTS = {
    "read": frozenset({"read"}),
    "ingest": frozenset({"ingest"}),
    "ask": frozenset({"ask"}),
    "operate": frozenset({"read", "operate"}),
    "admin": frozenset({"read", "operate", "admin"}),
}
NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._@+-]{0,99}$"
_NAME = re.compile(NAME_PATTERN)
#: Shortest password accepted.
MIN_PASSWORD = 10
#: Sign-ins an account keeps open at once; the oldest is ended past it.
MAX_SESSIONS = 20


class AccountError(TextError, ValueError):
    """A refused account or key change; ``status`` is the HTTP answer it deserves; its
    message is a :class:`~app.domain.i18n.Text` (``text``) for the admin page's words."""

    status = 422


class UnknownAccount(AccountError):
    """No account (or key) of that name or id (404)."""

    status = 404


class Conflict(AccountError):
    """It exists already, or changed under us too often (409)."""

    status = 409


def rights_of_role(role: str) -> frozenset[str]:
    """The rights of ``role`` (:data:`ROLE_RIGHTS`); an unknown role has none."""
    return ROLE_RIGHTS.get(role, frozenset())


def rights_of_scopes(scopes) -> frozenset[str]:
    """The union of the rights of ``scopes`` (:data:`SCOPE_RIGHTS`)."""
    return frozenset().union(*(SCOPE_RIGHTS.get(s, ()) for s in scopes))


def check_name(name: str) -> str:
    """``name`` if it is 1-100 characters of ``A-Z a-z 0-9 . _ @ + -``, not starting with a
    sign. :raise AccountError: otherwise."""
    if not isinstance(name, str) or not _NAME.match(name):
        raise AccountError(Text(N_("a name is 1-100 characters of A-Z a-z 0-9 . _ @ + - "
                                   "(first a letter or digit)")))
    return name


def check_role(role: str) -> str:
    """``role`` if it is one of :data:`ROLES`. :raise AccountError: otherwise."""
    if role not in ROLES:
        raise AccountError(Text(N_("unknown role '%(role)s'; one of %(roles)s"), role=role,
                                roles=", ".join(ROLES)))
    return role


def check_password(password: str) -> str:
    """``password`` if it has at least :data:`MIN_PASSWORD` characters. :raise AccountError:"""
    if not isinstance(password, str) or len(password) < MIN_PASSWORD:
        raise AccountError(Text(N_("a password needs at least %(count)s characters"),
                                count=MIN_PASSWORD))
    return password


def new_password() -> str:
    """A random password to show once: 16 URL-safe characters (96 bits)."""
    return secrets.token_urlsafe(12)


def _hasher():
    from argon2 import PasswordHasher  # only where a password is hashed or checked

    return PasswordHasher()  # Argon2id, the library's (RFC 9106) parameters


#: Verified against when the name is unknown, so an unknown name costs the same time.
_DUMMY_HASH: list[str] = []


def _key(name: str) -> str:
    return f"account:{name}"


def get(store: Store, name: str) -> dict | None:
    """The account ``name``, or None. :raise StoreUnavailable:"""
    return store.get_state(_key(name))


def listed(store: Store) -> list[dict]:
    """Every account, by name. :raise StoreUnavailable:"""
    return sorted(store.states("account:").values(), key=lambda a: a["name"])


def add(store: Store, name: str, role: str, password: str | None, *, source: str = "password",
        now: float | None = None) -> dict:
    """Create the account ``name`` with ``role``; ``password`` None makes one that cannot sign
    in with a password (single sign-on, header mode).

    :raise AccountError: a bad name, role or password. :raise Conflict: it exists.
    :raise StoreUnavailable: nothing was written.
    """
    check_name(name)
    check_role(role)
    if password is not None:
        check_password(password)
    if get(store, name) is not None:
        raise Conflict(Text(N_("an account named '%(name)s' exists already"), name=name))
    now = time.time() if now is None else now
    account = {"name": name, "role": role, "disabled": False, "created_at": now,
               "last_sign_in": None, "source": source, "generation": 1, "sessions": {},
               "rev": uuid.uuid4().hex}
    if password is not None:
        store.set_state(f"password:{name}", {"hash": _hasher().hash(password)})
    store.append("account", account, state_key=_key(name), replicated=True)
    return account


def update(store: Store, name: str, change, *, tries: int = 5) -> dict:
    """Apply ``change(account) -> account`` to ``name`` atomically (compare-and-set on
    ``rev``, retried if another process wrote meanwhile) and return the new account.

    :raise UnknownAccount: no such account. :raise Conflict: it kept changing under us.
    :raise StoreUnavailable: nothing was written.
    """
    for _ in range(tries):
        current = get(store, name)
        if current is None:
            raise UnknownAccount(Text(N_("no account named '%(name)s'"), name=name))
        new = {**change(dict(current)), "rev": uuid.uuid4().hex}
        if store.append_if("account", new, _key(name), "rev", current["rev"],
                           replicated=True) is not None:
            return new
    raise Conflict(Text(N_("the account '%(name)s' changed meanwhile; try again"), name=name))


def set_role(store: Store, name: str, role: str) -> dict:
    """Give ``name`` the ``role``; every session of theirs ends. :raise AccountError:"""
    check_role(role)
    return update(store, name, lambda a: {**a, "role": role, "generation": a["generation"] + 1,
                                          "sessions": {}})


def set_disabled(store: Store, name: str, disabled: bool) -> dict:
    """Disable (every session ends, no sign-in) or enable ``name``. :raise AccountError:"""
    return update(store, name, lambda a: {**a, "disabled": disabled,
                                          "generation": a["generation"] + (1 if disabled else 0),
                                          "sessions": {} if disabled else a["sessions"]})


def set_language(store: Store, name: str, language: str | None) -> dict:
    """Keep ``language`` (a catalog's code, checked by the caller; None: none chosen) as the
    language ``name`` reads the pages in. :raise AccountError:"""
    return update(store, name, lambda a: {**a, "language": language})


def set_password(store: Store, name: str, password: str) -> dict:
    """Replace ``name``'s password; every session of theirs ends. :raise AccountError:"""
    check_password(password)
    if get(store, name) is None:
        raise UnknownAccount(Text(N_("no account named '%(name)s'"), name=name))
    store.set_state(f"password:{name}", {"hash": _hasher().hash(password)}, replicated=True)
    return update(store, name, lambda a: {**a, "generation": a["generation"] + 1,
                                          "sessions": {}})


def verify_password(store: Store, name: str, password: str) -> dict | None:
    """The account if ``password`` is ``name``'s and the account is enabled, else None. An
    unknown name is checked against a dummy hash, so it takes as long as a wrong password.

    :raise StoreUnavailable: the store did not answer.
    """
    from argon2.exceptions import InvalidHashError, VerificationError

    hasher = _hasher()
    stored = store.get_state(f"password:{name}") if _NAME.match(name or "") else None
    if not _DUMMY_HASH:
        _DUMMY_HASH.append(hasher.hash(secrets.token_hex(16)))
    try:
        hasher.verify(stored["hash"] if stored else _DUMMY_HASH[0], password)
    except (VerificationError, InvalidHashError):
        return None
    account = get(store, name) if stored else None
    if account is None or account["disabled"]:
        return None
    if hasher.check_needs_rehash(stored["hash"]):
        store.set_state(f"password:{name}", {"hash": hasher.hash(password)})
    return account


def sid_hash(sid: str) -> str:
    """What an account keeps of a session id: 16 hex digits of its SHA-256."""
    return hashlib.sha256(sid.encode()).hexdigest()[:16]


def open_session(store: Store, name: str, now: float | None = None) -> tuple[dict, str]:
    """Record a sign-in of ``name``: a new session id (returned, for the cookie only) and the
    sign-in time; past :data:`MAX_SESSIONS` the oldest session ends.

    :raise UnknownAccount: no such account. :raise StoreUnavailable:
    """
    now = time.time() if now is None else now
    sid = secrets.token_urlsafe(18)

    def change(account):
        sessions = dict(sorted(account["sessions"].items(), key=lambda kv: kv[1])[-(MAX_SESSIONS - 1):])
        sessions[sid_hash(sid)] = now
        return {**account, "sessions": sessions, "last_sign_in": now}

    return update(store, name, change), sid


def close_session(store: Store, name: str, sid: str) -> None:
    """End one session of ``name`` for good (sign-out); unknown ones are ignored."""
    gone = sid_hash(sid)
    try:
        update(store, name, lambda a: {**a, "sessions": {
            h: t for h, t in a["sessions"].items() if h != gone}})
    except UnknownAccount:
        pass
