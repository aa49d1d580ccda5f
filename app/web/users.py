"""``flask --app wsgi users ...``: manage people and API keys from the server's shell.

Every change is recorded in the audit log as done by ``cli:<the shell's user>`` with the admin
role (whoever can run this on the server can read the store anyway). A password is typed twice
(hidden), read from standard input with ``--password-stdin``, or made with ``--generate`` and
printed once; an API key is printed once and only its hash is kept.

Machine-readable output: ``users list`` and ``users key-list`` print one JSON object per line.
"""

from __future__ import annotations

import getpass
import json
import sys

import click
from flask import current_app
from flask.cli import AppGroup

from app.domain import accounts, audit
from app.domain import apikeys
from app.domain.accounts import ROLES, SCOPES, AccountError

command = AppGroup("users", help="Manage people (accounts with a role) and API keys.")


def _store():
    return current_app.extensions["dashboard"].store


def _audit(action: str, target: str, detail: dict | None = None) -> None:
    audit.record(_store(), who=f"cli:{getpass.getuser()}", role="admin", action=action,
                 target=target, detail=detail)


def _fail(exc: AccountError):
    raise click.ClickException(str(exc))


def _password(from_stdin: bool, generate: bool) -> tuple[str, bool]:
    """The new password and whether it was generated (then it is printed once)."""
    if generate:
        return accounts.new_password(), True
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n"), False
    return click.prompt("Password", hide_input=True, confirmation_prompt=True), False


@command.command("add")
@click.argument("name")
@click.option("--role", type=click.Choice(ROLES), default="viewer", show_default=True)
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@click.option("--generate", is_flag=True, help="Make a random password and print it once.")
def add(name: str, role: str, password_stdin: bool, generate: bool) -> None:
    """Create the account NAME with a role and a password."""
    password, made = _password(password_stdin, generate)
    try:
        accounts.add(_store(), name, role, password)
    except AccountError as exc:
        _fail(exc)
    _audit("account-add", name, {"role": role})
    click.echo(f"added {name} ({role})")
    if made:
        click.echo(f"password (shown once): {password}")


@command.command("list")
def list_() -> None:
    """Every account as one JSON object per line (no secrets)."""
    for account in accounts.listed(_store()):
        click.echo(json.dumps({k: account[k] for k in (
            "name", "role", "disabled", "created_at", "last_sign_in", "source")}))


@command.command("set-role")
@click.argument("name")
@click.argument("role", type=click.Choice(ROLES))
def set_role(name: str, role: str) -> None:
    """Give NAME another ROLE; their sessions end."""
    try:
        accounts.set_role(_store(), name, role)
    except AccountError as exc:
        _fail(exc)
    _audit("account-role", name, {"role": role})
    click.echo(f"{name} is {role} now")


@command.command("disable")
@click.argument("name")
def disable(name: str) -> None:
    """Disable NAME: no sign-in, and every open session and stream of theirs ends."""
    try:
        accounts.set_disabled(_store(), name, True)
    except AccountError as exc:
        _fail(exc)
    _audit("account-disable", name)
    click.echo(f"{name} is disabled")


@command.command("enable")
@click.argument("name")
def enable(name: str) -> None:
    """Enable NAME again."""
    try:
        accounts.set_disabled(_store(), name, False)
    except AccountError as exc:
        _fail(exc)
    _audit("account-enable", name)
    click.echo(f"{name} is enabled")


@command.command("reset-password")
@click.argument("name")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@click.option("--generate", is_flag=True, help="Make a random password and print it once.")
def reset_password(name: str, password_stdin: bool, generate: bool) -> None:
    """Set NAME's password; their sessions end."""
    password, made = _password(password_stdin, generate)
    try:
        accounts.set_password(_store(), name, password)
    except AccountError as exc:
        _fail(exc)
    _audit("account-password", name)
    click.echo(f"new password set for {name}")
    if made:
        click.echo(f"password (shown once): {password}")


@command.command("key-add")
@click.argument("name")
@click.option("--scopes", required=True,
              help=f"Comma-separated, some of: {', '.join(SCOPES)}.")
def key_add(name: str, scopes: str) -> None:
    """Create an API key NAME with SCOPES and print it once."""
    try:
        record, key = apikeys.add_key(_store(), name, scopes.replace(" ", "").split(","),
                                       by=f"cli:{getpass.getuser()}")
    except AccountError as exc:
        _fail(exc)
    _audit("key-add", name, {"id": record["id"], "scopes": record["scopes"]})
    click.echo(f"key {name} ({', '.join(record['scopes'])}), id {record['id']}")
    click.echo(f"key (shown once): {key}")


@command.command("key-list")
def key_list() -> None:
    """Every API key as one JSON object per line (no secrets)."""
    for record in apikeys.keys(_store()):
        click.echo(json.dumps(record))


@command.command("key-revoke")
@click.argument("key_id")
def key_revoke(key_id: str) -> None:
    """Revoke the key KEY_ID at once."""
    try:
        record = apikeys.revoke_key(_store(), key_id)
    except AccountError as exc:
        _fail(exc)
    _audit("key-revoke", record["name"], {"id": key_id})
    click.echo(f"key {record['name']} ({key_id}) is revoked")
