"""Command-line tools: `flask create-user`, `flask seed-demo`."""

import click
from flask import Flask, current_app

from clinic.admin.forms import MIN_PASSWORD_LENGTH
from clinic.admin.services import create_user, email_taken
from clinic.demo import DEMO_USERS, seed_demo
from clinic.extensions import db
from clinic.kb import knowledge_base
from clinic.models import Role


def init_cli(app: Flask) -> None:
    app.cli.add_command(create_user_command)
    app.cli.add_command(seed_demo_command)
    app.cli.add_command(kb_group)


@click.command("create-user")
@click.option("--email", prompt=True)
@click.option("--name", prompt=True)
@click.option(
    "--role", type=click.Choice([role.value for role in Role]), default=Role.THERAPIST.value, show_default=True
)
@click.option(
    "--password",
    prompt=True,
    hide_input=True,
    confirmation_prompt=True,
    help="Prompted when left out; pass it only from scripts.",
)
def create_user_command(email: str, name: str, role: str, password: str) -> None:
    """Create a login account."""
    if email_taken(email):
        raise click.ClickException(f"an account with the email {email} already exists")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise click.ClickException(f"the password needs at least {MIN_PASSWORD_LENGTH} characters")
    user = create_user(email, name, password, role)
    db.session.commit()
    click.echo(f"Created {user.role} {user.email}")


@click.command("seed-demo")
def seed_demo_command() -> None:
    """Load demo accounts and clients (running it again adds nothing). Prints the demo logins."""
    if not current_app.config["DEMO_DATA_ALLOWED"]:
        raise click.ClickException("demo data (with published passwords) is not allowed in production")
    created = seed_demo()
    db.session.commit()
    click.echo(f"Demo data: {created} new records.")
    click.echo("Demo logins:")
    for account in DEMO_USERS:
        click.echo(f"{account['email']} / {account['password']}")


@click.group("kb")
def kb_group() -> None:
    """The knowledge base of muscles and referral patterns."""


@kb_group.command("check")
def kb_check_command() -> None:
    """Validate knowledge/ (the app already refuses to start on a broken file) and check it is complete."""
    kb = knowledge_base()
    problems = kb.completeness_problems()
    for problem in problems:
        click.echo(f"{current_app.config['KNOWLEDGE_DIR']}: {problem}", err=True)
    if problems:
        raise SystemExit(1)
    points = sum(1 for _ in kb.points())
    click.echo(f"Knowledge base OK: {len(kb.muscles)} muscles, {points} trigger points, {len(kb.regions)} regions.")
