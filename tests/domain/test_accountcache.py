"""The process's cache of accounts and keys (``app.domain.accountcache``)."""

from app.domain import apikeys
from app.domain.accountcache import Accounts


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_no_account_is_looked_for_again_soon_and_one_less_often(store):
    clock = Clock()
    cache = Accounts(store, clock)
    assert not cache.configured()
    apikeys.add_key(store, "agent", ["ingest"], by="test")
    assert not cache.configured()  # the same look, within max_age
    clock.now += cache.max_age + 0.1
    assert cache.configured()
    # A "yes" holds longer: it keeps the dashboard closed.
    store.set_state(f"apikey:{apikeys.keys(store)[0]['id']}", None)
    clock.now += cache.max_age_configured - 1
    assert cache.configured()
    clock.now += 2
    assert not cache.configured()


def test_an_account_or_key_item_starts_over_at_once(store):
    clock = Clock()
    cache = Accounts(store, clock)
    assert not cache.configured()
    apikeys.add_key(store, "agent", ["ingest"], by="test")
    cache.apply(store.since(0))
    assert cache.configured()
