"""`sitroom users | walls | tokens | audit`: accounts, wall devices, API tokens and the audit log."""
from __future__ import annotations

import sys
from datetime import datetime

import click

from sitroom.cli import common, runtime
from sitroom.settings import Settings

from . import accounts, audit, credentials
from .accounts import AccountError
from .roles import ROLES, TOKEN_SCOPES
from .scope import resolve_regions


def _store(settings: Settings):
    """(runtime, sessionmaker) on an upgraded store."""
    from sitroom.store import make_engine, session_factory
    rt = runtime(settings, upgrade_store=True)
    return rt, session_factory(make_engine(settings.database_url))


def _run(settings: Settings, action: str, target: str, change, detail: str | None = None):
    """Apply `change(session, runtime)` and write its audit row in the same transaction."""
    rt, sessions = _store(settings)
    try:
        with sessions.begin() as s:
            out = change(s, rt)
            audit.record(s, action, "cli", target=target, address="cli", detail=detail)
            return out
    except (AccountError, ValueError) as e:
        click.echo(f"error: {e}", err=True)
        sys.exit(2)


def _when(dt: datetime | None) -> str:
    return dt.strftime("%Y-%m-%d %H:%M:%S UTC") if dt else "never"


def _password(stdin: bool, prompt: str = "Password") -> str | None:
    if stdin:
        return sys.stdin.readline().rstrip("\n")
    return None


# ---------------------------------------------------------------- users
@click.group()
def users() -> None:
    """Accounts: who may log in, with which role and regions."""


@users.command("add")
@click.argument("name")
@click.option("--role", type=click.Choice(list(ROLES)), required=True)
@click.option("--region", "regions", multiple=True, help="Limit to this region and below (repeatable).")
@click.option("--display", help="Name shown as the actor of actions (default: NAME).")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@click.option("--sso-only", is_flag=True, help="No password: logs in only through the trusted header.")
@common
def users_add(settings: Settings, name, role, regions, display, password_stdin, sso_only) -> None:
    """Add an account; without --password-stdin a password is generated and printed once."""
    password = None if sso_only else (_password(password_stdin) or accounts.generate_password())

    def change(s, rt):
        codes = resolve_regions(rt.gazetteer, regions)
        return accounts.add(s, name, role, codes, password, display), codes
    acc, codes = _run(settings, "user.add", name, change, f"role {role}; regions {','.join(regions) or 'all'}")
    click.echo(f"account {name} added: role {role}, regions {', '.join(codes) or 'all'}")
    if password and not password_stdin:
        click.echo(f"password: {password}")


@users.command("list")
@common
def users_list(settings: Settings) -> None:
    _, sessions = _store(settings)
    with sessions() as s:
        for a in accounts.listing(s):
            state = "disabled" if a.disabled else "active"
            click.echo(f"{a.name}\t{a.role}\t{','.join(a.regions) or 'all'}\t{state}\t{a.display}")


@users.command("disable")
@click.argument("name")
@common
def users_disable(settings: Settings, name) -> None:
    """Disable an account; its open sessions and API tokens stop working."""
    _run(settings, "user.disable", name, lambda s, rt: accounts.disable(s, name))
    click.echo(f"account {name} disabled")


@users.command("reset")
@click.argument("name")
@click.option("--password-stdin", is_flag=True)
@common
def users_reset(settings: Settings, name, password_stdin) -> None:
    """A new password (printed unless read from stdin); enables the account; ends its sessions."""
    password = _password(password_stdin) or accounts.generate_password()
    _run(settings, "user.reset", name, lambda s, rt: accounts.reset(s, name, password))
    click.echo(f"account {name}: new password set" + ("" if password_stdin else f": {password}"))


# ---------------------------------------------------------------- walls
@click.group()
def walls() -> None:
    """Wall displays as devices: a URL with a long random token, revocable."""


@walls.command("add")
@click.argument("name")
@click.option("--region", "regions", multiple=True, help="Limit to this region and below (repeatable).")
@click.option("--layers", help="The wall's map layers, e.g. cases,clinics.")
@click.option("--base-url", default="http://127.0.0.1:8050", show_default=True, help="Where the wall reaches sitroom.")
@common
def walls_add(settings: Settings, name, regions, layers, base_url) -> None:
    """Add a wall; prints the URL to open on it (shown once)."""
    def change(s, rt):
        return credentials.add_wall(s, name, resolve_regions(rt.gazetteer, regions), layers)
    _, token = _run(settings, "wall.add", name, change, f"regions {','.join(regions) or 'all'}")
    click.echo(f"wall {name} added; open on the screen:\n{base_url.rstrip('/')}/wall/{token}")


@walls.command("revoke")
@click.argument("name")
@common
def walls_revoke(settings: Settings, name) -> None:
    _run(settings, "wall.revoke", name, lambda s, rt: credentials.revoke_wall(s, name))
    click.echo(f"wall {name} revoked")


@walls.command("list")
@common
def walls_list(settings: Settings) -> None:
    _, sessions = _store(settings)
    with sessions() as s:
        for w in credentials.walls(s):
            state = f"revoked {_when(w.revoked_at)}" if w.revoked_at else "active"
            click.echo(f"{w.name}\t{','.join(w.regions) or 'all'}\t{state}\tlast contact {_when(w.last_seen_at)}")


# ---------------------------------------------------------------- tokens
@click.group()
def tokens() -> None:
    """API tokens for machine clients (Authorization: Bearer ...)."""


@tokens.command("create")
@click.option("--user", required=True, help="The account the token acts as.")
@click.option("--scope", type=click.Choice(list(TOKEN_SCOPES)), default="read", show_default=True)
@click.option("--expires", help="e.g. 30d, 12h (default: never).")
@common
def tokens_create(settings: Settings, user, scope, expires) -> None:
    """Create a token; it is printed once and stored only hashed."""
    def change(s, rt):
        return credentials.create_token(s, user, scope, credentials.parse_duration(expires))
    row, token = _run(settings, "token.create", user, change, f"scope {scope}; expires {expires or 'never'}")
    click.echo(f"token {row.id} for {user} ({scope}, expires {_when(row.expires_at)}):\n{token}")


@tokens.command("list")
@common
def tokens_list(settings: Settings) -> None:
    _, sessions = _store(settings)
    with sessions() as s:
        for t, a in credentials.tokens(s):
            state = f"revoked {_when(t.revoked_at)}" if t.revoked_at else f"expires {_when(t.expires_at)}"
            click.echo(f"{t.id}\t{t.prefix}…\t{a.name}\t{t.scope}\t{state}\tlast use {_when(t.last_used_at)}")


@tokens.command("revoke")
@click.argument("token_id")
@common
def tokens_revoke(settings: Settings, token_id) -> None:
    row = _run(settings, "token.revoke", token_id, lambda s, rt: credentials.revoke_token(s, token_id))
    click.echo(f"token {row.id} revoked")


# ---------------------------------------------------------------- audit
@click.group("audit")
def audit_group() -> None:
    """The audit log (append-only)."""


@audit_group.command("export")
@click.option("--actor")
@click.option("--action", help="An action or its prefix (alert. = every alert action).")
@click.option("--since", type=click.DateTime(["%Y-%m-%d", "%Y-%m-%dT%H:%M:%S"]), help="UTC.")
@click.option("--until", type=click.DateTime(["%Y-%m-%d", "%Y-%m-%dT%H:%M:%S"]), help="UTC.")
@click.option("--out", type=click.File("w", encoding="utf-8"), default="-", help="CSV file (default: stdout).")
@common
def audit_export(settings: Settings, actor, action, since, until, out) -> None:
    """Write the audit log as CSV, newest first."""
    _, sessions = _store(settings)
    with sessions() as s:
        out.write(audit.to_csv(audit.entries(s, actor, action, since, until, limit=None)))


COMMANDS = (users, walls, tokens, audit_group)
