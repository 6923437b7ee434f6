"""Accounts from the command line: `flask users create|reset-password|unlock|deactivate|activate`.

Each command changes the account through the same services as the admin pages (so the audit log gets the
same entries) and commits once.
"""

from collections.abc import Callable

import click

from clinic.admin.services import (
    create_user,
    email_taken,
    find_user,
    reset_password,
    reset_two_factor,
    set_active,
    unlock,
)
from clinic.extensions import db
from clinic.models import Role, User
from clinic.passwords import password_problem


def password_option(command: Callable) -> Callable:
    return click.option(
        "--password",
        prompt=True,
        hide_input=True,
        confirmation_prompt=True,
        help="Prompted (twice) when left out; pass it only from scripts.",
    )(command)


def email_option(command: Callable) -> Callable:
    return click.option("--email", required=True, help="The account's login email.")(command)


def check_password(password: str) -> None:
    """The same rule as every password form (clinic.passwords)."""
    problem = password_problem(password)
    if problem:
        raise click.ClickException(problem)


def existing_user(email: str) -> User:
    user = find_user(email)
    if user is None:
        raise click.ClickException(f"no account with the email {email}")
    return user


@click.group("users")
def users_group() -> None:
    """Login accounts: create, reset a password, unlock, deactivate or activate again."""


@users_group.command("create")
@click.option("--email", prompt=True)
@click.option("--name", prompt=True)
@click.option(
    "--role", type=click.Choice([role.value for role in Role]), default=Role.THERAPIST.value, show_default=True
)
@password_option
def create_command(email: str, name: str, role: str, password: str) -> None:
    """Create a login account (the person must change the password at first login)."""
    if email_taken(email):
        raise click.ClickException(f"an account with the email {email} already exists")
    check_password(password)
    user = create_user(email, name, password, role)
    db.session.commit()
    click.echo(f"Created {user.role} {user.email}; they must choose their own password at first login.")


@users_group.command("reset-password")
@email_option
@password_option
def reset_password_command(email: str, password: str) -> None:
    """Set a new password: ends the person's sessions, clears their failed logins, and must be changed at login."""
    user = existing_user(email)
    check_password(password)
    reset_password(user, password)
    db.session.commit()
    click.echo(
        f"New password set for {user.email}; their sessions were ended and the account unlocked. "
        "They must choose their own password at their next login."
    )


@users_group.command("reset-two-factor")
@email_option
def reset_two_factor_command(email: str) -> None:
    """Turn off two-factor login (lost phone and recovery codes) and end the person's sessions."""
    user = existing_user(email)
    if not reset_two_factor(user):
        click.echo(f"{user.email} has no two-factor login; nothing to do.")
        return
    db.session.commit()
    click.echo(f"Two-factor login of {user.email} is off; their sessions were ended.")


@users_group.command("unlock")
@email_option
def unlock_command(email: str) -> None:
    """Clear failed logins, so a locked-out person can log in again now."""
    user = existing_user(email)
    cleared = unlock(user)
    db.session.commit()
    if cleared:
        click.echo(f"Unlocked {user.email}: {cleared} failed login(s) cleared.")
    else:
        click.echo(f"{user.email} had no failed logins; nothing to clear.")


@users_group.command("deactivate")
@email_option
def deactivate_command(email: str) -> None:
    """Stop an account from logging in and end its sessions (records stay)."""
    user = existing_user(email)
    if not user.active:
        click.echo(f"{user.email} is already deactivated.")
        return
    set_active(user, False)
    db.session.commit()
    click.echo(f"Deactivated {user.email}; their sessions were ended.")


@users_group.command("activate")
@email_option
def activate_command(email: str) -> None:
    """Let a deactivated account log in again."""
    user = existing_user(email)
    if user.active:
        click.echo(f"{user.email} is already active.")
        return
    set_active(user, True)
    db.session.commit()
    click.echo(f"Activated {user.email}.")
