"""People and programs: accounts with a role, API keys with scopes, and what each may do.

An account is the state ``account:<name>``, the same dict in the store, the log and the admin
page (no secret in it)::

    {"name": "alice", "role": "viewer"|"operator"|"admin", "disabled": bool,
     "created_at": unix s, "last_sign_in": unix s|None, "source": "password"|"oidc"|"header",
     "generation": int,          # +1 on disable, password change and role change
     "sessions": {sid_hash: unix s},  # open sign-ins (sha256 of the session id, 16 hex)
     "rev": str}                 # changes with every write: the compare-and-set field

Its Argon2id password hash is the state ``password:<name>`` (never in the log). An API key is
``apikey:<id>`` = ``{"id", "name", "scopes", "hash", "created_at", "last_used", "revoked",
"created_by"}``: the key a program sends is ``dk_<id>_<secret>`` and only the SHA-256 of the
secret is kept (a random 32-byte secret needs no slow hash; a check must cost microseconds).

Every change appends an ``account`` or ``apikey`` log item (the public dict), so each process's
:class:`Accounts` cache and open streams learn of it within a tail interval. Nothing here
knows Flask; argon2 is imported only by the functions that hash or verify.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import time
import uuid

from app.store import Store

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
KEY_PREFIX = "dk_"
_KEY = re.compile(r"^dk_([0-9a-f]{12})_([A-Za-z0-9_-]{43})$")


class AccountError(ValueError):
    """A refused account or key change; ``status`` is the HTTP answer it deserves."""

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
        raise AccountError("a name is 1-100 characters of A-Z a-z 0-9 . _ @ + - (first a "
                           "letter or digit)")
    return name


def check_role(role: str) -> str:
    """``role`` if it is one of :data:`ROLES`. :raise AccountError: otherwise."""
    if role not in ROLES:
        raise AccountError(f"unknown role {role!r}; one of {', '.join(ROLES)}")
    return role


def check_password(password: str) -> str:
    """``password`` if it has at least :data:`MIN_PASSWORD` characters. :raise AccountError:"""
    if not isinstance(password, str) or len(password) < MIN_PASSWORD:
        raise AccountError(f"a password needs at least {MIN_PASSWORD} characters")
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
        raise Conflict(f"an account named {name!r} exists already")
    now = time.time() if now is None else now
    account = {"name": name, "role": role, "disabled": False, "created_at": now,
               "last_sign_in": None, "source": source, "generation": 1, "sessions": {},
               "rev": uuid.uuid4().hex}
    if password is not None:
        store.set_state(f"password:{name}", {"hash": _hasher().hash(password)})
    store.append("account", account, state_key=_key(name))
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
            raise UnknownAccount(f"no account named {name!r}")
        new = {**change(dict(current)), "rev": uuid.uuid4().hex}
        if store.append_if("account", new, _key(name), "rev", current["rev"]) is not None:
            return new
    raise Conflict(f"the account {name!r} changed meanwhile; try again")


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


def set_password(store: Store, name: str, password: str) -> dict:
    """Replace ``name``'s password; every session of theirs ends. :raise AccountError:"""
    check_password(password)
    if get(store, name) is None:
        raise UnknownAccount(f"no account named {name!r}")
    store.set_state(f"password:{name}", {"hash": _hasher().hash(password)})
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


# -- API keys -------------------------------------------------------------------------------------

def check_scopes(scopes) -> tuple[str, ...]:
    """``scopes`` as a sorted tuple, if each is one of :data:`SCOPES` and there is one at
    least. :raise AccountError: otherwise."""
    scopes = tuple(sorted(set(scopes)))
    unknown = [s for s in scopes if s not in SCOPES]
    if unknown or not scopes:
        raise AccountError(f"scopes are one or more of {', '.join(SCOPES)}"
                           + (f"; unknown: {', '.join(unknown)}" if unknown else ""))
    return scopes


def _secret_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def add_key(store: Store, name: str, scopes, *, by: str, now: float | None = None
            ) -> tuple[dict, str]:
    """Create an API key named ``name`` with ``scopes``; return the stored key (without the
    secret) and the key to hand out once, ``dk_<id>_<secret>``.

    :raise AccountError: a bad name or scopes. :raise Conflict: a live key has that name.
    :raise StoreUnavailable: nothing was written.
    """
    check_name(name)
    scopes = check_scopes(scopes)
    if any(k["name"] == name and not k["revoked"] for k in keys(store)):
        raise Conflict(f"a key named {name!r} exists already; revoke it first")
    key_id, secret = secrets.token_hex(6), secrets.token_urlsafe(32)
    record = {"id": key_id, "name": name, "scopes": list(scopes), "hash": _secret_hash(secret),
              "created_at": time.time() if now is None else now, "last_used": None,
              "revoked": False, "created_by": by}
    store.set_state(f"apikey:{key_id}", record)
    store.append("apikey", public_key(record))
    return public_key(record), f"{KEY_PREFIX}{key_id}_{secret}"


def public_key(record: dict) -> dict:
    """A stored key without its hash: what the log, the API and the page show."""
    return {k: v for k, v in record.items() if k != "hash"}


def keys(store: Store) -> list[dict]:
    """Every key, newest first, without hashes. :raise StoreUnavailable:"""
    return sorted((public_key(k) for k in store.states("apikey:").values()),
                  key=lambda k: k["created_at"], reverse=True)


def revoke_key(store: Store, key_id: str) -> dict:
    """Revoke the key ``key_id`` (at once, in every process). :raise UnknownAccount:"""
    record = store.get_state(f"apikey:{key_id}") if re.fullmatch(r"[0-9a-f]{12}", key_id or "") else None
    if record is None:
        raise UnknownAccount(f"no key with id {key_id!r}")
    record = {**record, "revoked": True}
    store.set_state(f"apikey:{key_id}", record)
    store.append("apikey", public_key(record))
    return public_key(record)


def parse_key(token: str) -> tuple[str, str] | None:
    """``(id, secret)`` of a ``dk_<id>_<secret>`` key, or None for anything else."""
    found = _KEY.match(token)
    return (found[1], found[2]) if found else None


def secret_matches(record: dict, secret: str) -> bool:
    """Whether ``secret`` is the key's, compared in constant time."""
    return hmac.compare_digest(_secret_hash(secret), record.get("hash", ""))


def any_exist(store: Store) -> bool:
    """Whether the store holds any account or API key. :raise StoreUnavailable:"""
    return bool(store.states("account:")) or bool(store.states("apikey:"))


class Accounts:
    """This process's cache of accounts and keys: what a request's credential check reads, so
    that it costs a dictionary look-up, not a store round trip.

    An entry is read from the store when missing or older than :attr:`max_age` seconds (so a
    change made elsewhere holds within that even if the log is slow to tell), and dropped at
    once when the tailer hands over an ``account`` or ``apikey`` item (:meth:`apply`).
    :meth:`configured` says whether any account or key exists (the loopback rule and open
    viewing end then), checked at most every :attr:`max_age` seconds.

    :raise StoreUnavailable: (from the readers) the store did not answer and nothing is cached.
    """

    max_age = 0.5

    def __init__(self, store: Store, clock=time.monotonic) -> None:
        self.store = store
        self.clock = clock
        self._entries: dict[str, tuple[float, dict | None]] = {}
        self._configured: tuple[float, bool] = (float("-inf"), False)

    def _cached(self, key: str) -> dict | None:
        now = self.clock()
        held = self._entries.get(key)
        if held is None or now - held[0] > self.max_age:
            held = (now, self.store.get_state(key))
            if len(self._entries) > 10_000:  # guessed names must not grow it for ever
                self._entries.clear()
            self._entries[key] = held
        return held[1]

    def account(self, name: str) -> dict | None:
        """The account ``name`` as the store had it at most :attr:`max_age` seconds ago."""
        return self._cached(_key(name)) if _NAME.match(name) else None

    def key(self, key_id: str) -> dict | None:
        """The stored key ``key_id`` (with its hash), as :meth:`account` does."""
        return self._cached(f"apikey:{key_id}")

    def configured(self) -> bool:
        """Whether any account or API key exists (:func:`any_exist`, at most :attr:`max_age`
        seconds ago)."""
        now = self.clock()
        checked, value = self._configured
        if now - checked > self.max_age:
            value = any_exist(self.store)
            self._configured = (now, value)
        return value

    def apply(self, items) -> list[dict]:
        """Forget what the ``account`` and ``apikey`` items of ``items`` changed; return the
        accounts among them (the tailer ends the streams of those whose sessions ended)."""
        changed = []
        for item in items:
            if item.kind == "account":
                self._entries.pop(_key(item.data["name"]), None)
                self._configured = (float("-inf"), False)
                changed.append(item.data)
            elif item.kind == "apikey":
                self._entries.pop(f"apikey:{item.data['id']}", None)
                self._configured = (float("-inf"), False)
        return changed

    def forget(self, name: str) -> None:
        """Drop ``name``'s cached account (and whether any exists): this process changed it
        (a sign-out, the first account made on the admin page: they hold for the very next
        request, not half a second later)."""
        self._entries.pop(_key(name), None)
        self._configured = (float("-inf"), False)

    def forget_key(self, key_id: str) -> None:
        """Drop the cached key ``key_id``: this process revoked it, and the very next request
        with it must be refused."""
        self._entries.pop(f"apikey:{key_id}", None)
        self._configured = (float("-inf"), False)

    def touch_key(self, key_id: str, now: float) -> None:
        """Record that the key was used at ``now`` (Unix seconds): written at most once a
        minute per key and process, so a busy program does not write once per request."""
        record = self.key(key_id)
        if record is not None and (record.get("last_used") or 0) < now - 60:
            record["last_used"] = now  # the cached copy: no second write within the minute
            fresh = self.store.get_state(f"apikey:{key_id}")
            if fresh is not None and not fresh.get("revoked"):
                self.store.set_state(f"apikey:{key_id}", {**fresh, "last_used": now})
