"""Helpers for driving the app through its real forms, CSRF included, and for reading the pages it returns
with an HTML parser (never a regex over the markup)."""

import contextvars
from contextlib import contextmanager
from datetime import date
from zoneinfo import ZoneInfo

from bs4 import BeautifulSoup, Tag
from flask import session
from flask.testing import FlaskClient

from clinic import clock, logins
from clinic.extensions import db
from clinic.models import User


def text(response) -> str:
    return response.get_data(as_text=True)


# --- reading pages ----------------------------------------------------------------------------------------


def parse(page) -> BeautifulSoup:
    """The page (a response or its HTML) parsed with the standard library's parser."""
    return BeautifulSoup(page if isinstance(page, str) else text(page), "html.parser")


def element(page, selector: str) -> Tag:
    """The one element the CSS selector names; fails if there is none."""
    found = root(page).select(selector)
    assert found, f"no element matches {selector!r}"
    assert len(found) == 1, f"{len(found)} elements match {selector!r}"
    return found[0]


def root(page) -> Tag:
    """A parsed page or element as is; a response or HTML parsed."""
    return page if isinstance(page, Tag) else parse(page)


def has_element(page, selector: str) -> bool:
    return root(page).select_one(selector) is not None


def words(node: Tag | None) -> str:
    """The element's text as a person reads it: whitespace runs collapsed to one space."""
    return " ".join(node.get_text(" ").split()) if node is not None else ""


def element_text(page, selector: str) -> str:
    return words(element(page, selector))


def field_error(page, field_id: str) -> str:
    """The message shown beside a form field (the macro gives it the id `<field>-error`)."""
    return element_text(page, f"#{css_id(field_id)}-error")


def css_id(element_id: str) -> str:
    """An id usable in a CSS selector (field ids such as points-0-pain are fine; '/' or '.' are escaped)."""
    return "".join(f"\\{c}" if not (c.isalnum() or c in "-_") else c for c in element_id)


def hidden_inputs(page) -> dict[str, str]:
    """The hidden fields of the page's forms by name (CSRF token, submission token, version ...)."""
    return {
        tag["name"]: tag.get("value", "")
        for tag in root(page).select('input[type="hidden"][name]')
        if tag.find_parent("template") is None
    }


def input_tag(page, element_id: str) -> Tag:
    """The <input> with this id."""
    tag = root(page).find("input", id=element_id)
    assert tag is not None, f"no input with id {element_id}"
    return tag


def input_value(page, element_id: str) -> str:
    return input_tag(page, element_id).get("value", "")


def is_checked(page, element_id: str) -> bool:
    return input_tag(page, element_id).has_attr("checked")


def selected_option(page, select_id: str) -> str | None:
    select = root(page).find("select", id=select_id)
    assert select is not None, f"no select with id {select_id}"
    option = select.find("option", selected=True)
    return option.get("value") if option is not None else None


def flashes(page) -> list[str]:
    """The flashed messages the page shows, in order."""
    return [words(alert) for alert in root(page).select(".flashes .alert")]


def definitions(page, selector: str) -> dict[str, str]:
    """A <dl>'s entries as {term: value}, each as a person reads it."""
    terms = element(page, selector).find_all("dt")
    return {words(term): words(term.find_next_sibling("dd")) for term in terms}


def form_values(page, selector: str = "form") -> dict[str, str | list[str]]:
    """What a browser would send for this form untouched: every named field with its current value
    (checked boxes and radios only, the selected options, a textarea's text); no submit buttons."""
    return values_of_form(element(page, selector))


def values_of_form(form: Tag) -> dict[str, str | list[str]]:
    """`form_values` for a form element already found."""
    values: dict[str, list[str]] = {}
    for field in form.select("input[name], textarea[name], select[name]"):
        name = field["name"]
        if field.name == "textarea":
            values.setdefault(name, []).append(field.get_text().removeprefix("\r\n").removeprefix("\n"))
        elif field.name == "select":
            chosen = [option.get("value", words(option)) for option in field.find_all("option", selected=True)]
            if not chosen and not field.has_attr("multiple") and field.find("option"):
                first = field.find("option")
                chosen = [first.get("value", words(first))]
            values.setdefault(name, []).extend(chosen)
        elif field.get("type") in ("checkbox", "radio"):
            if field.has_attr("checked"):
                values.setdefault(name, []).append(field.get("value", "on"))
        elif field.get("type") not in ("submit", "button", "image", "reset"):
            values.setdefault(name, []).append(field.get("value", ""))
    return {name: found[0] if len(found) == 1 else found for name, found in values.items()}


# --- forms and logging in ---------------------------------------------------------------------------------


def csrf_token(client: FlaskClient, page: str) -> str:
    field = parse(client.get(page)).find("input", attrs={"name": "csrf_token"})
    assert field is not None and field.get("value"), f"no CSRF token on {page}"
    return field["value"]


def submit(client: FlaskClient, page: str, data: dict, action: str | None = None, **kwargs):
    """GET the page for its CSRF token, then POST the form (to `action`, default the same page)."""
    payload = {"csrf_token": csrf_token(client, page), **data}
    return client.post(action or page, data=payload, **kwargs)


def login_via_form(client: FlaskClient, email: str, password: str, **kwargs):
    return submit(client, "/login", {"email": email, "password": password}, **kwargs)


def login_fast(client: FlaskClient, user: User) -> None:
    """Log in without the form (tested in test_auth): the app's own `logins.begin` fills a session in a
    request built like the client's (same address and user agent, which session protection checks), and that
    session is stored in the client's cookie. It runs in a context of its own, so nothing it sets (`g`, the
    current user) leaks into the test's app context."""

    def logged_in_session() -> dict:
        with client.application.test_request_context(environ_base=client.environ_base):
            assert user.active, f"{user.email} is not active"
            # The stored user, not a merge of the test's copy, which may be older than what the pages have saved since.
            logins.begin(db.session.get(User, user.id))  # as the login view does: a session record, the idle timeout
            db.session.commit()
            return dict(session)

    values = contextvars.Context().run(logged_in_session)
    with client.session_transaction() as stored:
        stored.clear()
        stored.update(values)


# --- the clinic's clock -----------------------------------------------------------------------------------


def clinic_today() -> date:
    """Today on the clinic's wall clock (CLINIC_TIMEZONE), as the app reckons it; never the host's date.
    Needs an app context (the `app` fixture holds one for the whole test)."""
    return clock.clinic_today()


def clinic_zone() -> ZoneInfo:
    """The clinic's time zone (CLINIC_TIMEZONE) as the app reads it. Needs an app context."""
    return clock.clinic_zone()


# --- counting SQL statements ----------------------------------------------------------------------------


class QueryCount:
    """The SQL statements run while the `count_queries` block was open (`count`, and `statements` to print)."""

    def __init__(self) -> None:
        self.statements: list[str] = []

    @property
    def count(self) -> int:
        return len(self.statements)


@contextmanager
def count_queries(app):
    """Count the statements the app's engine runs inside the block (a SQLAlchemy `before_cursor_execute`
    listener), so a test can assert that a page's query count does not grow with the data it shows."""
    from sqlalchemy import event

    from clinic.extensions import db

    counted = QueryCount()

    def listener(_conn, _cursor, statement, _parameters, _context, _executemany):
        counted.statements.append(statement)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", listener)
    try:
        yield counted
    finally:
        event.remove(engine, "before_cursor_execute", listener)
