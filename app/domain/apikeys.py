"""API keys for programs: created by admins, shown once, kept as a hash, revocable at once.

A key is the state ``apikey:<id>`` = ``{"id", "name", "scopes", "hash", "created_at",
"last_used", "revoked", "created_by"}``: the key a program sends is ``dk_<id>_<secret>`` and only
the SHA-256 of the secret is kept (a random 32-byte secret needs no slow hash; a check must cost
microseconds). Every change appends an ``apikey`` log item (without the hash), so each process's
:class:`~app.domain.accountcache.Accounts` cache learns of it. Scopes and what they give:
:data:`app.domain.accounts.SCOPE_RIGHTS`.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import time

from app.store import Store

from .accounts import SCOPES, AccountError, Conflict, UnknownAccount, check_name
from .i18n import N_, Text

KEY_PREFIX = "dk_"
_KEY = re.compile(r"^dk_([0-9a-f]{12})_([A-Za-z0-9_-]{43})$")


def check_scopes(scopes) -> tuple[str, ...]:
    """``scopes`` as a sorted tuple, if each is one of :data:`SCOPES` and there is one at
    least. :raise AccountError: otherwise."""
    scopes = tuple(sorted(set(scopes)))
    unknown = [s for s in scopes if s not in SCOPES]
    if unknown or not scopes:
        raise AccountError(Text(N_("scopes are one or more of %(scopes)s; unknown: %(unknown)s"),
                                scopes=", ".join(SCOPES), unknown=", ".join(unknown))
                           if unknown else
                           Text(N_("scopes are one or more of %(scopes)s"),
                                scopes=", ".join(SCOPES)))
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
        raise Conflict(Text(N_("a key named '%(name)s' exists already; revoke it first"),
                            name=name))
    key_id, secret = secrets.token_hex(6), secrets.token_urlsafe(32)
    record = {"id": key_id, "name": name, "scopes": list(scopes), "hash": _secret_hash(secret),
              "created_at": time.time() if now is None else now, "last_used": None,
              "revoked": False, "created_by": by}
    store.set_state(f"apikey:{key_id}", record)
    store.append("apikey", public_key(record), replicated=True)  # WAIT covers the key too
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
        raise UnknownAccount(Text(N_("no key with id '%(id)s'"), id=key_id))
    record = {**record, "revoked": True}
    store.set_state(f"apikey:{key_id}", record)
    store.append("apikey", public_key(record), replicated=True)  # WAIT covers the key too
    return public_key(record)


def parse_key(token: str) -> tuple[str, str] | None:
    """``(id, secret)`` of a ``dk_<id>_<secret>`` key, or None for anything else."""
    found = _KEY.match(token)
    return (found[1], found[2]) if found else None


def secret_matches(record: dict, secret: str) -> bool:
    """Whether ``secret`` is the key's, compared in constant time."""
    return hmac.compare_digest(_secret_hash(secret), record.get("hash", ""))
