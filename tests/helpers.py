"""Helpers for driving the app through its real forms, CSRF included."""

import re

from flask.testing import FlaskClient
from flask_login.utils import _create_identifier

from clinic.models import User

_CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"|name="csrf_token" value="([^"]+)"')


def csrf_token(client: FlaskClient, page: str) -> str:
    html = client.get(page).get_data(as_text=True)
    match = _CSRF.search(html)
    assert match, f"no CSRF token on {page}"
    return match.group(1) or match.group(2)


def submit(client: FlaskClient, page: str, data: dict, action: str | None = None, **kwargs):
    """GET the page for its CSRF token, then POST the form (to `action`, default the same page)."""
    payload = {"csrf_token": csrf_token(client, page), **data}
    return client.post(action or page, data=payload, **kwargs)


def login_via_form(client: FlaskClient, email: str, password: str, **kwargs):
    return submit(client, "/login", {"email": email, "password": password}, **kwargs)


def login_fast(client: FlaskClient, user: User) -> None:
    """Log in by writing the session directly; the form itself is tested in test_auth."""
    app = client.application
    with app.test_request_context(environ_base=client.environ_base):
        identifier = _create_identifier()
    with client.session_transaction() as session:
        session["_user_id"] = user.get_id()
        session["_fresh"] = True
        session["_id"] = identifier
        session.permanent = True  # as the login view does: the idle timeout applies


def text(response) -> str:
    return response.get_data(as_text=True)


def input_tag(html: str, element_id: str) -> str:
    """The whole <input ...> tag with this id."""
    match = re.search(rf'<input[^>]*\bid="{re.escape(element_id)}"[^>]*>', html)
    assert match, f"no input with id {element_id}"
    return match.group(0)


def input_value(html: str, element_id: str) -> str:
    match = re.search(r'\bvalue="([^"]*)"', input_tag(html, element_id))
    return match.group(1) if match else ""


def is_checked(html: str, element_id: str) -> bool:
    return re.search(r"\bchecked\b", input_tag(html, element_id)) is not None


def selected_option(html: str, select_id: str) -> str | None:
    match = re.search(rf'<select[^>]*\bid="{re.escape(select_id)}"[^>]*>(.*?)</select>', html, re.S)
    assert match, f"no select with id {select_id}"
    option = re.search(r'<option(?=[^>]*\bselected\b)[^>]*\bvalue="([^"]*)"', match.group(1))
    return option.group(1) if option else None
