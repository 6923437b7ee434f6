"""The `flask` command groups: `users` (in clinic/admin/cli.py), `kb`, `demo`, `audit`; `backup` and `restore`.

This module is the composition root of the command line: it may import any feature to register its group.
`flask create-user` and `flask seed-demo`, the names before the groups, still work for one release.
"""

import time

import click
from flask import Flask, current_app

from clinic import audit, demo_large
from clinic.admin.cli import users_group
from clinic.backups import BackupError, backup, restore
from clinic.demo import DEMO_USERS, seed_demo
from clinic.extensions import db
from clinic.kb import knowledge_base


def init_cli(app: Flask) -> None:
    app.cli.add_command(users_group)
    app.cli.add_command(kb_group)
    app.cli.add_command(demo_group)
    app.cli.add_command(audit_group)
    app.cli.add_command(backup_command)
    app.cli.add_command(restore_command)
    # Deprecated names, kept for one release (0.3) and hidden from --help.
    app.cli.add_command(DeprecatedAlias("create-user", users_group.commands["create"], "users create"))
    app.cli.add_command(DeprecatedAlias("seed-demo", demo_group.commands["seed"], "demo seed"))


class DeprecatedAlias(click.Command):
    """An old command name that runs the new command, after a one-line note on stderr."""

    def __init__(self, name: str, target: click.Command, new_name: str) -> None:
        super().__init__(
            name,
            callback=target.callback,
            params=target.params,
            help=f"Deprecated: use `flask {new_name}`.",
            hidden=True,
        )
        self.new_name = new_name

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        # Before parsing, so the note comes ahead of any prompt.
        click.echo(
            f"Note: `flask {self.name}` is deprecated and will be removed in the next release; use `flask {self.new_name}`.",
            err=True,
        )
        return super().parse_args(ctx, args)


@click.group("demo")
def demo_group() -> None:
    """Demo data for trying the app (refused in production)."""


@demo_group.command("seed")
def demo_seed_command() -> None:
    """Load demo accounts and clients (running it again adds nothing). Prints the demo logins."""
    if not current_app.config["DEMO_DATA_ALLOWED"]:
        raise click.ClickException("demo data (with published passwords) is not allowed in production")
    created = seed_demo()
    db.session.commit()
    click.echo(f"Demo data: {created} new records.")
    click.echo("Demo logins:")
    for account in DEMO_USERS:
        click.echo(f"{account['email']} / {account['password']}")


@demo_group.command("large")
@click.option("--therapists", type=click.IntRange(1, 500), default=20, show_default=True)
@click.option("--clients", type=click.IntRange(1, 100_000), default=4000, show_default=True)
@click.option("--sessions", type=click.IntRange(0, 5_000_000), default=200_000, show_default=True)
@click.option("--seed", type=int, default=1, show_default=True, help="Same seed, same clinic (for the same day).")
def demo_large_command(therapists: int, clients: int, sessions: int, seed: int) -> None:
    """Fill an EMPTY database with a large generated clinic, for benchmarks (bench/). Prints the logins and
    the ids of a 10-session and of the heaviest client."""
    if not current_app.config["DEMO_DATA_ALLOWED"]:
        raise click.ClickException("demo data (with published passwords) is not allowed in production")
    started = time.perf_counter()

    def progress(message: str) -> None:
        click.echo(f"  {time.perf_counter() - started:6.1f} s  {message}")

    try:
        made = demo_large.generate(therapists, clients, sessions, seed=seed, progress=progress)
    except demo_large.NotEmpty as error:
        raise click.ClickException(str(error)) from error
    seconds = time.perf_counter() - started
    click.echo(
        f"Large clinic in {seconds:.0f} s: {made.therapists} therapists, {made.clients} clients, "
        f"{made.sessions} sessions, {made.points} treated points, {made.audit_events} audit events, "
        f"{made.appointments} appointments, {made.intakes} intakes."
    )
    small = made.client_with(10)
    large = max(made.per_client.items(), key=lambda item: (item[1][0], -item[0]))
    click.echo(f"client_10={small[0]} sessions={small[1]} therapist={small[2]}")
    click.echo(f"client_large={large[0]} sessions={large[1][0]} therapist={large[1][1]}")
    click.echo("Logins:")
    for email, password in made.logins:
        click.echo(f"{email} / {password}")


@click.group("kb")
def kb_group() -> None:
    """The knowledge base of muscles and referral patterns."""


@kb_group.command("check")
def kb_check_command() -> None:
    """Validate knowledge/ (the app already refuses to start on a broken file) and check it is complete."""
    kb = knowledge_base()
    general = kb.general_problems()
    for problem in general:
        click.echo(f"{current_app.config['KNOWLEDGE_DIR']}: {problem}", err=True)
    for problem in kb.coverage_problems:  # these name their own file and line
        click.echo(str(problem), err=True)
    if general or kb.coverage_problems:
        raise SystemExit(1)
    points = sum(1 for _ in kb.points())
    click.echo(
        f"Knowledge base OK: {len(kb.muscles)} muscles, {points} trigger points, {len(kb.regions)} regions, "
        f"{len(kb.relations())} key/satellite relations."
    )


@click.group("audit")
def audit_group() -> None:
    """The audit log."""


@audit_group.command("verify")
def audit_verify_command() -> None:
    """Check the audit log's hash chain; name the first broken entry (exit code 1)."""
    report = audit.verify_chain()
    if not report.ok:
        click.echo(
            f"Audit log broken at entry {report.broken_id}: {report.reason}. "
            f"The {report.checked} entries before it are intact.",
            err=True,
        )
        raise SystemExit(1)
    if not report.checked:
        click.echo("Audit log OK: no entries yet.")
        return
    click.echo(f"Audit log OK: {report.checked} entries chained; last entry {report.head_id}, hash {report.head_hash}.")


@click.command("backup")
@click.argument("path", type=click.Path(dir_okay=False))
def backup_command(path: str) -> None:
    """Write a consistent copy of the database to PATH (a new file) while the app serves."""
    try:
        made = backup(db.engine.url, path)
    except BackupError as error:
        raise click.ClickException(str(error)) from error
    click.echo(f"Backup written to {made} ({made.stat().st_size} bytes).")


@click.command("restore")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
def restore_command(path: str) -> None:
    """Bring the backup at PATH back into the configured database, which must be empty."""
    db.engine.dispose()  # no connection of ours holds the file or the database while it is filled
    try:
        restore(db.engine.url, path)
    except BackupError as error:
        raise click.ClickException(str(error)) from error
    click.echo(f"Restored {path}. Check it with `flask audit verify`.")
