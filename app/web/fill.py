"""``flask --app wsgi history-fill``: write a made-up past into a host's history, in seconds.

For a first look at the long ranges (``/?range=7d``), for tests and for the benchmark: see
:mod:`app.domain.history_fill` for what the days look like. It writes to the store that
``DASHBOARD_STORE_URL`` names, with that deployment's history retention, and is meant for a
host with no history yet (points at the same times are replaced; a live sampler's current
buckets are overwritten once).
"""

from __future__ import annotations

import re
import time

import click
from flask import current_app
from flask.cli import with_appcontext

from app.domain.history_fill import fill, latest_sample
from app.sources.sample import HOST_PATTERN


def _host(_ctx, _param, value: str | None) -> str | None:
    if value is not None and not re.match(HOST_PATTERN, value):
        raise click.BadParameter("1-253 letters, digits, '.', '_' or '-', starting with a "
                                 "letter or digit")
    return value


@click.command("history-fill")
@click.option("--host", callback=_host, help="Host name (default: DASHBOARD_HOST_NAME).")
@click.option("--days", type=click.FloatRange(0, 3650, min_open=True), default=7.0,
              show_default=True, help="Days back from now.")
@click.option("--seed", type=int, default=1, show_default=True,
              help="Seed of the noise: the same seed gives the same history.")
@with_appcontext
def command(host: str | None, days: float, seed: int) -> None:
    """Write DAYS of made-up history for HOST: a daily cycle, noise, a CPU spike, a network
    burst and one hour down. A host other than this dashboard's own also gets a latest
    sample, so that it shows in the fleet and GET /api/v1/history knows it."""
    live = current_app.extensions["dashboard"]
    settings = live.settings
    host = host or settings.host_name
    began = time.perf_counter()
    points = fill(live.store, host, days, seed=seed, interval=settings.sample_interval)
    if host != settings.host_name and live.store.get_state(f"sample:{host}") is None:
        live.store.append("metrics", latest_sample(host, seed=seed), state_key=f"sample:{host}")
    click.echo(f"{host}: {points['raw']} raw samples, {points['1m']} one-minute and "
               f"{points['1h']} one-hour points in {time.perf_counter() - began:.1f} s")
