from datetime import date, timedelta

import pytest
import sqlalchemy as sa
from bs4 import BeautifulSoup

from clinic.models import AuditEvent, Client
from clinic.models.client import NOTHING_KNOWN
from tests.factories import make_client, make_user
from tests.helpers import (
    element,
    element_text,
    field_error,
    form_values,
    has_element,
    hidden_inputs,
    input_value,
    login_fast,
    submit,
    text,
    words,
)

VALID = {
    "full_name": "Jane Marlow",
    "date_of_birth": "1984-06-30",
    "phone": "555-0100",
    "email": "jane@example.com",
    "physician_name": "Dr. Rao",
    "physician_contact": "555-0199",
    "contraindications": "Varicose veins, left calf: no deep pressure.",
    "health_history": "Neck pain for 3 months.",
    "medications": "",
    "consent_date": "2026-01-05",
    "notes": "",
}


def events(db, action=None):
    query = sa.select(AuditEvent).order_by(AuditEvent.id)
    if action:
        query = query.where(AuditEvent.action == action)
    return list(db.session.scalars(query))


def client_urls(client_id: int) -> list[str]:
    return [f"/clients/{client_id}", f"/clients/{client_id}/edit", f"/clients/{client_id}/archive"]


# --- list and search -----------------------------------------------------------------------------


def test_list_requires_login(client):
    response = client.get("/clients/")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login?next=")


def test_empty_list_says_what_to_do(therapist_client):
    html = text(therapist_client.get("/clients/"))
    assert "No clients yet" in html and "Add a client" in html


def test_list_shows_only_own_and_shared_clients(therapist_client, therapist, other_therapist):
    make_client(therapist, full_name="Own Olsen")
    shared = make_client(other_therapist, full_name="Shared Sato")
    shared.shared_with.append(therapist)
    make_client(other_therapist, full_name="Hidden Hart")
    from clinic.extensions import db

    db.session.commit()
    html = text(therapist_client.get("/clients/"))
    assert "Own Olsen" in html and "Shared Sato" in html
    assert "Hidden Hart" not in html


def test_list_rows_show_therapist_sharing_and_contraindications(therapist_client, therapist, other_therapist, db):
    """The list reads only the columns it shows: each row still says whose client it is, whether it is shared, and
    whether anything is to be careful of (written contraindications or ticked precautions)."""
    make_client(therapist, full_name="Aa Written", contraindications="Varicose veins")
    make_client(therapist, full_name="Bb Ticked", precautions=["pregnancy"])
    make_client(therapist, full_name="Cc Nothing", contraindications="None known")
    shared = make_client(other_therapist, full_name="Dd Shared")
    shared.shared_with.append(therapist)
    db.session.commit()
    soup = BeautifulSoup(text(therapist_client.get("/clients/")), "html.parser")
    rows = {
        words(row.select_one("[data-label=Name]")): (
            words(row.select_one("[data-label=Therapist]")),
            words(row.select_one("[data-label=Contraindications]")),
        )
        for row in soup.select("table.client-list tbody tr")
    }
    assert rows == {
        "Aa Written": (therapist.name, "Yes"),
        "Bb Ticked": (therapist.name, "Yes"),
        "Cc Nothing": (therapist.name, "None noted"),
        "Dd Shared": (f"{other_therapist.name} shared", "None noted"),
    }


def test_search_lists_matching_archived_clients_apart(therapist_client, therapist, db):
    make_client(therapist, full_name="Anna Active")
    archived = make_client(therapist, full_name="Anna Archived")
    archived.archived_at = archived.created_at
    db.session.commit()
    soup = BeautifulSoup(text(therapist_client.get("/clients/?q=anna")), "html.parser")
    assert [words(a) for a in soup.select("table.client-list:not(.archived) [data-label=Name]")] == ["Anna Active"]
    assert [words(a) for a in soup.select("table.client-list.archived [data-label=Name]")] == ["Anna Archived archived"]
    link = soup.select_one("table.client-list.archived [data-label=Name] a")
    assert link["href"] == f"/clients/{archived.id}"


def test_admin_sees_all_clients(admin_client, therapist, other_therapist):
    make_client(therapist, full_name="Own Olsen")
    make_client(other_therapist, full_name="Hidden Hart")
    html = text(admin_client.get("/clients/"))
    assert "Own Olsen" in html and "Hidden Hart" in html


def test_search_by_name_and_by_date_of_birth(therapist_client, therapist):
    make_client(therapist, full_name="Anna Berg", date_of_birth=date(1970, 2, 3))
    make_client(therapist, full_name="Carl Dahl", date_of_birth=date(1990, 4, 5))
    html = text(therapist_client.get("/clients/?q=berg"))
    assert "Anna Berg" in html and "Carl Dahl" not in html
    html = text(therapist_client.get("/clients/?q=1990-04-05"))
    assert "Carl Dahl" in html and "Anna Berg" not in html


def test_search_treats_wildcards_literally(therapist_client, therapist):
    make_client(therapist, full_name="Anna Berg")
    html = text(therapist_client.get("/clients/?q=%25"))
    assert "Anna Berg" not in html and "No active client matches" in html


def test_search_ignores_case_and_takes_an_underscore_as_itself(therapist_client, therapist):
    make_client(therapist, full_name="Anna Berg")
    make_client(therapist, full_name="Ola Nord_Vik")
    soup = BeautifulSoup(text(therapist_client.get("/clients/?q=BERG+aNNa")), "html.parser")
    assert [words(a) for a in soup.select("table.client-list [data-label=Name]")] == ["Anna Berg"]
    soup = BeautifulSoup(text(therapist_client.get("/clients/?q=d_v")), "html.parser")
    assert [words(a) for a in soup.select("table.client-list [data-label=Name]")] == ["Ola Nord_Vik"]
    assert "No active client matches" in text(therapist_client.get("/clients/?q=a_b"))


def test_search_with_no_match_says_so(therapist_client, therapist):
    make_client(therapist, full_name="Anna Berg")
    html = text(therapist_client.get("/clients/?q=zzz"))
    assert "No active client matches" in html


def test_list_paginates(therapist_client, therapist, app):
    app.config["CLIENTS_PER_PAGE"] = 2
    for name in ["A One", "B Two", "C Three"]:
        make_client(therapist, full_name=name)
    first = text(therapist_client.get("/clients/"))
    assert "A One" in first and "C Three" not in first and "Page 1 of 2" in first
    assert "C Three" in text(therapist_client.get("/clients/?page=2"))


# --- create --------------------------------------------------------------------------------------


def test_create_client_assigns_to_therapist_and_audits(therapist_client, therapist, db):
    response = submit(therapist_client, "/clients/new", VALID)
    assert response.status_code == 302
    client = db.session.scalar(sa.select(Client))
    assert client.full_name == "Jane Marlow" and client.therapist_id == therapist.id
    assert client.date_of_birth == date(1984, 6, 30)
    assert [e.action for e in events(db)] == ["create"]
    assert events(db)[0].client_id == client.id
    assert "Varicose veins" in text(therapist_client.get(response.headers["Location"]))


@pytest.mark.parametrize(
    "field, value, message",
    [
        ("full_name", "", "This field is required."),
        ("date_of_birth", "", "Enter the date of birth."),
        ("date_of_birth", "30/06/1984", "Not a valid date value."),
        ("date_of_birth", "{today+1}", "be in the future"),
        ("date_of_birth", "1850-01-01", "before 1900"),
        ("email", "not-an-email", "Invalid email address."),
        ("consent_date", "{today+3}", "be in the future"),
        ("consent_date", "0001-01-01", "before 1900"),
        ("consent_date", "1984-06-29", "before the date of birth"),
        ("full_name", "x" * 121, "Field cannot be longer than 120 characters."),
    ],
)
def test_invalid_client_is_refused_and_keeps_what_was_typed(therapist_client, db, today, field, value, message):
    # Days ahead are counted from today on the clinic's clock, as the form's check does.
    value = value.format(**{f"today+{n}": (today + timedelta(days=n)).isoformat() for n in (1, 3)})
    data = {**VALID, field: value}
    response = submit(therapist_client, "/clients/new", data)
    html = text(response)
    assert response.status_code == 200
    assert message in field_error(html, field)
    wrong = element(html, f"#{field}")
    assert wrong["aria-invalid"] == "true" and f"{field}-error" in wrong["aria-describedby"].split()
    # Everything else typed is still on the form.
    assert words(element(html, "textarea#contraindications")) == "Varicose veins, left calf: no deep pressure."
    assert input_value(html, "phone") == "555-0100"
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Client)) == 0


def test_admin_creates_client_for_a_chosen_therapist(admin_client, therapist, db):
    response = submit(admin_client, "/clients/new", {**VALID, "therapist_id": str(therapist.id)})
    assert response.status_code == 302
    assert db.session.scalar(sa.select(Client)).therapist_id == therapist.id


def test_admin_must_choose_a_valid_therapist(admin_client, therapist, db):
    response = submit(admin_client, "/clients/new", {**VALID, "therapist_id": "9999"})
    assert response.status_code == 200 and 'id="therapist_id-error"' in text(response)


# --- detail, edit ---------------------------------------------------------------------------------


def test_detail_shows_contraindications_prominently_and_audits_the_view(therapist_client, therapist, db):
    client = make_client(therapist, contraindications="Pregnant: side-lying only.")
    html = text(therapist_client.get(f"/clients/{client.id}"))
    assert element_text(html, "section.contraindications p") == "Pregnant: side-lying only."
    assert element(html, "section.contraindications").find_next("section", class_="history-card") is not None, (
        "shown above the history"
    )
    assert [(e.action, e.client_id) for e in events(db)] == [("view", client.id)]


def test_detail_carries_the_educational_use_disclaimer(therapist_client, therapist):
    client = make_client(therapist)
    soup = BeautifulSoup(text(therapist_client.get(f"/clients/{client.id}")), "html.parser")
    notices = soup.select("main p.disclaimer")
    assert len(notices) == 1
    assert "does not diagnose" in notices[0].get_text() and "physician" in notices[0].get_text()


NOTHING_KNOWN_AS_TYPED = sorted(NOTHING_KNOWN) + ["", "None known.", "N/A", "NO", "  none known  ", "Nil\n"]


@pytest.mark.parametrize("typed", NOTHING_KNOWN_AS_TYPED)
def test_detail_shows_no_contraindications_warning_when_none_are_known(therapist_client, therapist, typed):
    client = make_client(therapist, contraindications=typed)
    html = text(therapist_client.get(f"/clients/{client.id}"))
    assert not has_element(html, ".contraindications")
    assert element_text(html, ".contraindications-none") == "No contraindications or precautions recorded."


@pytest.mark.parametrize(
    "typed",
    [
        "Varicose veins, left calf.",
        "No deep pressure on the neck.",
        "None known except a latex allergy",
        "n/a: see notes",
    ],
)
def test_detail_shows_the_contraindications_warning_for_a_real_entry(therapist_client, therapist, typed):
    client = make_client(therapist, contraindications=typed)
    html = text(therapist_client.get(f"/clients/{client.id}"))
    assert element_text(html, "section.contraindications h2") == "Contraindications"
    assert element_text(html, "section.contraindications p") == typed
    assert not has_element(html, ".contraindications-none")


def test_detail_escapes_what_people_typed(therapist_client, therapist):
    client = make_client(therapist, notes="<script>alert(1)</script>")
    html = text(therapist_client.get(f"/clients/{client.id}"))
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;" in html


def test_edit_records_old_and_new_values(therapist_client, therapist, db):
    client = make_client(therapist, full_name="Jane Marlow", phone="555-0100")
    page = f"/clients/{client.id}/edit"
    version = hidden_inputs(therapist_client.get(page))["version"]
    data = {**VALID, "phone": "555-0111", "version": version}
    response = submit(therapist_client, page, data)
    assert response.status_code == 302
    update = events(db, "update")[0]
    assert update.details["changes"]["phone"] == ["555-0100", "555-0111"]
    assert update.details["changes"]["date_of_birth"][1] == "1984-06-30"
    assert "full_name" not in update.details["changes"]


def test_opening_the_edit_form_is_audited_as_a_view(therapist_client, therapist, db):
    client = make_client(therapist)
    therapist_client.get(f"/clients/{client.id}/edit")
    assert [(e.action, e.client_id) for e in events(db)] == [("view", client.id)]


def test_two_saves_from_the_same_version_cannot_both_win(therapist, db):
    """Two workers load the same client and save: the second is refused by the versioned UPDATE."""
    from sqlalchemy.orm import Session
    from sqlalchemy.orm.exc import StaleDataError

    client = make_client(therapist, phone="555-0100")
    first, second = Session(db.engine), Session(db.engine)
    mine, theirs = first.get(Client, client.id), second.get(Client, client.id)
    mine.phone = "555-0001"
    first.commit()
    theirs.phone = "555-0002"
    with pytest.raises(StaleDataError):
        second.commit()
    first.close()
    second.close()
    db.session.expire_all()
    assert db.session.get(Client, client.id).phone == "555-0001"


def test_consent_today_in_the_clinic_time_zone_is_accepted(therapist_client, app, db):
    from clinic.clock import clinic_today

    app.config["CLINIC_TIMEZONE"] = "Pacific/Kiritimati"  # UTC+14: often already tomorrow
    with app.test_request_context():
        today_there = clinic_today()
    response = submit(therapist_client, "/clients/new", {**VALID, "consent_date": today_there.isoformat()})
    assert response.status_code == 302


def test_edit_from_a_stale_form_does_not_overwrite(therapist_client, therapist, db):
    client = make_client(therapist, phone="555-0100")
    page = f"/clients/{client.id}/edit"
    version = hidden_inputs(therapist_client.get(page))["version"]
    # Someone else saves in between.
    client.phone = "555-0222"
    from clinic.db_types import utcnow

    client.updated_at = utcnow()
    db.session.commit()
    response = submit(therapist_client, page, {**VALID, "phone": "555-0333", "version": version})
    assert response.status_code == 409
    assert element_text(response, ".flashes .alert-error").startswith("Someone else saved changes")
    assert input_value(text(response), "phone") == "555-0333"
    db.session.refresh(client)
    assert client.phone == "555-0222"


def test_edit_with_errors_keeps_typed_values(therapist_client, therapist):
    client = make_client(therapist)
    response = submit(
        therapist_client, f"/clients/{client.id}/edit", {**VALID, "full_name": "", "notes": "Typed note kept"}
    )
    assert response.status_code == 200 and words(element(response, "textarea#notes")) == "Typed note kept"


# --- archive ---------------------------------------------------------------------------------------


def test_archive_asks_for_confirmation_then_archives(therapist_client, therapist, db):
    client = make_client(therapist, full_name="Jane Marlow")
    page = f"/clients/{client.id}/archive"
    assert "Archive Jane Marlow?" in text(therapist_client.get(page))
    response = submit(therapist_client, page, {})
    assert response.status_code == 302
    db.session.refresh(client)
    assert client.is_archived
    assert "Jane Marlow</a>" not in text(therapist_client.get("/clients/"))
    assert "Jane Marlow" in text(therapist_client.get("/clients/?show=archived"))
    assert [e.action for e in events(db, "archive")] == ["archive"]


def test_archived_client_cannot_be_edited_until_restored(therapist_client, therapist, db):
    client = make_client(therapist)
    submit(therapist_client, f"/clients/{client.id}/archive", {})
    assert therapist_client.get(f"/clients/{client.id}/edit").status_code == 302
    submit(therapist_client, f"/clients/{client.id}", {}, action=f"/clients/{client.id}/unarchive")
    db.session.refresh(client)
    assert not client.is_archived
    assert [e.action for e in events(db, "unarchive")] == ["unarchive"]
    assert therapist_client.get(f"/clients/{client.id}/edit").status_code == 200


def test_archive_needs_csrf(therapist_client, therapist, db):
    client = make_client(therapist)
    assert therapist_client.post(f"/clients/{client.id}/archive").status_code == 400
    db.session.refresh(client)
    assert not client.is_archived


def test_there_is_no_delete(therapist_client, therapist):
    client = make_client(therapist)
    assert therapist_client.delete(f"/clients/{client.id}").status_code == 405


# --- access rules -----------------------------------------------------------------------------------


def test_other_therapists_client_is_404_on_every_url(therapist_client, therapist, other_therapist, db):
    hidden = make_client(other_therapist, full_name="Hidden Hart")
    for url in client_urls(hidden.id) + [f"/clients/{hidden.id}/sharing"]:
        response = therapist_client.get(url)
        assert response.status_code == 404, url
        assert "Hidden Hart" not in text(response)
    for url in [f"/clients/{hidden.id}/edit", f"/clients/{hidden.id}/archive", f"/clients/{hidden.id}/unarchive"]:
        response = submit(therapist_client, "/clients/", {**VALID}, action=url)
        assert response.status_code == 404, url
    db.session.refresh(hidden)
    assert hidden.full_name == "Hidden Hart" and not hidden.is_archived
    # Each attempt is kept as `denied` (although the request failed); nothing else but the list page's reads.
    tried = [("GET", url) for url in client_urls(hidden.id) + [f"/clients/{hidden.id}/sharing"]] + [
        ("POST", url)
        for url in [f"/clients/{hidden.id}/edit", f"/clients/{hidden.id}/archive", f"/clients/{hidden.id}/unarchive"]
    ]
    denied = [
        (e.user_id, e.client_id, e.entity_type, e.entity_id, e.details["method"], e.details["path"])
        for e in events(db, "denied")
    ]
    assert denied == [(therapist.id, hidden.id, "client", hidden.id, method, url) for method, url in tried]
    assert {(e.action, e.entity_type) for e in events(db) if e.action != "denied"} == {("view", "client list")}


def test_missing_client_is_404(therapist_client):
    for url in client_urls(424242):
        assert therapist_client.get(url).status_code == 404


def test_shared_therapist_can_view_and_edit(client, therapist, other_therapist, db):
    shared = make_client(other_therapist, full_name="Shared Sato", phone="555-0100")
    shared.shared_with.append(therapist)
    db.session.commit()
    login_fast(client, therapist)
    assert element_text(client.get(f"/clients/{shared.id}"), "h1") == "Shared Sato"
    page = f"/clients/{shared.id}/edit"
    data = form_values(client.get(page), "form.form-grid")  # the form as shown, then one change
    assert data["full_name"] == "Shared Sato" and data["phone"] == "555-0100"
    data["phone"] = "555-0177"
    response = client.post(page, data=data)
    assert response.status_code == 302 and response.headers["Location"] == f"/clients/{shared.id}"
    db.session.expire_all()
    stored = db.session.get(Client, shared.id)
    assert stored.phone == "555-0177" and stored.full_name == "Shared Sato"
    assert stored.therapist_id == other_therapist.id, "editing does not take the client over"
    [update] = events(db, "update")
    assert (update.user_id, update.client_id) == (therapist.id, shared.id)
    assert update.details["changes"] == {"phone": ["555-0100", "555-0177"]}


def test_therapist_shares_their_own_client_and_takes_it_back(therapist_client, therapist, other_therapist, db):
    from bs4 import BeautifulSoup

    client = make_client(therapist, full_name="Own Olsen")
    page = f"/clients/{client.id}/sharing"
    soup = BeautifulSoup(text(therapist_client.get(page)), "html.parser")
    assert soup.select_one("#therapist_id") is None, "a therapist shares; only the owner reassigns"
    offered = [label.get_text(strip=True) for label in soup.select("#shared_with label")]
    assert offered == ["Otto Other (otto@clinic.example)"], "colleagues, not oneself"
    detail = BeautifulSoup(text(therapist_client.get(f"/clients/{client.id}")), "html.parser")
    assert detail.select_one(f".head-actions a[href='{page}']").get_text() == "Share"

    assert submit(therapist_client, page, {"shared_with": [str(other_therapist.id)]}).status_code == 302
    db.session.refresh(client)
    assert [u.id for u in client.shared_with] == [other_therapist.id] and client.therapist_id == therapist.id
    assert events(db, "update")[0].details["changes"]["shared_with"] == [[], [other_therapist.email]]

    assert submit(therapist_client, page, {}).status_code == 302  # nothing ticked: taken back
    db.session.refresh(client)
    assert client.shared_with == []
    login_fast(therapist_client, other_therapist)
    assert therapist_client.get(f"/clients/{client.id}").status_code == 404


def test_a_therapist_cannot_reassign_through_the_share_form(therapist_client, therapist, other_therapist, db):
    client = make_client(therapist)
    submit(therapist_client, f"/clients/{client.id}/sharing", {"therapist_id": str(other_therapist.id)})
    db.session.refresh(client)
    assert client.therapist_id == therapist.id


def test_a_colleague_the_client_is_shared_with_cannot_pass_it_on(client, therapist, other_therapist, db):
    shared = make_client(other_therapist, full_name="Shared Sato")
    shared.shared_with.append(therapist)
    db.session.commit()
    login_fast(client, therapist)
    assert client.get(f"/clients/{shared.id}/sharing").status_code == 403
    third = make_user(name="Tia Third")
    response = submit(
        client, f"/clients/{shared.id}", {"shared_with": [str(third.id)]}, action=f"/clients/{shared.id}/sharing"
    )
    assert response.status_code == 403
    db.session.refresh(shared)
    assert [u.id for u in shared.shared_with] == [therapist.id]


def test_admin_assigns_and_shares(admin_client, therapist, other_therapist, db):
    client = make_client(therapist)
    third = make_user(name="Tia Third")
    page = f"/clients/{client.id}/sharing"
    response = submit(
        admin_client, page, {"therapist_id": str(other_therapist.id), "shared_with": [str(therapist.id), str(third.id)]}
    )
    assert response.status_code == 302
    db.session.refresh(client)
    assert client.therapist_id == other_therapist.id
    assert {u.id for u in client.shared_with} == {therapist.id, third.id}
    change = events(db, "update")[0].details["changes"]
    assert change["therapist"] == [therapist.email, other_therapist.email]
    # The previous therapist now sees the client through the share.
    login_fast(admin_client, therapist)
    assert admin_client.get(f"/clients/{client.id}").status_code == 200


# --- structured precautions (DESIGN 6a) ----------------------------------------------------------------


def test_precautions_are_stored_in_the_fixed_order_and_shown_beside_contraindications(therapist_client, db):
    response = submit(therapist_client, "/clients/new", {**VALID, "precautions": ["pregnancy", "anticoagulants"]})
    assert response.status_code == 302
    client = db.session.scalar(sa.select(Client))
    assert client.precautions == ["pregnancy", "anticoagulants"]
    soup = BeautifulSoup(text(therapist_client.get(response.headers["Location"])), "html.parser")
    box = soup.select_one("section.contraindications")
    assert "Varicose veins" in box.select_one(".prewrap").get_text()
    assert [li.get_text(strip=True) for li in box.select("[data-precautions] li")] == [
        "Pregnancy",
        "Takes anticoagulants (blood thinners)",
    ]


def test_precautions_alone_fill_the_contraindications_box(therapist_client, therapist):
    client = make_client(therapist, precautions=["hip-replacement"])
    soup = BeautifulSoup(text(therapist_client.get(f"/clients/{client.id}")), "html.parser")
    assert soup.select_one(".contraindications-none") is None
    assert [li.get_text(strip=True) for li in soup.select("[data-precautions] li")] == ["Hip replacement"]


def test_unknown_precaution_is_refused_beside_the_field_and_the_rest_is_kept(therapist_client, db):
    data = {**VALID, "precautions": ["pregnancy", "blood-thinners"]}
    soup = BeautifulSoup(text(submit(therapist_client, "/clients/new", data)), "html.parser")
    assert "not a valid choice" in soup.select_one("#precautions-error").get_text()
    assert soup.select_one('input[name="precautions"][value="pregnancy"]').has_attr("checked")
    assert soup.select_one("#contraindications").get_text().strip() == VALID["contraindications"]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Client)) == 0


def test_editing_precautions_is_audited_with_old_and_new_lists(therapist_client, therapist, db):
    client = make_client(therapist, full_name="Jane Marlow", precautions=["pregnancy"])
    page = f"/clients/{client.id}/edit"
    soup = BeautifulSoup(text(therapist_client.get(page)), "html.parser")
    assert soup.select_one('input[name="precautions"][value="pregnancy"]').has_attr("checked")
    assert not soup.select_one('input[name="precautions"][value="osteoporosis"]').has_attr("checked")
    version = soup.select_one("#version")["value"]
    data = {**VALID, "precautions": ["osteoporosis", "anticoagulants"], "version": version}
    assert submit(therapist_client, page, data).status_code == 302
    changes = events(db, "update")[0].details["changes"]
    assert changes["precautions"] == [["pregnancy"], ["anticoagulants", "osteoporosis"]]


def test_unticking_every_precaution_stores_an_empty_list(therapist_client, therapist, db):
    client = make_client(therapist, full_name="Jane Marlow", precautions=["pregnancy"])
    page = f"/clients/{client.id}/edit"
    version = BeautifulSoup(text(therapist_client.get(page)), "html.parser").select_one("#version")["value"]
    assert submit(therapist_client, page, {**VALID, "version": version}).status_code == 302
    db.session.refresh(client)
    assert client.precautions == []


# --- finding clients ---------------------------------------------------------------------------------------


def names_listed(html: str, table: str = "table.client-list:not(.archived)") -> list[str]:
    soup = BeautifulSoup(html, "html.parser")
    return [row.select_one("td a").get_text() for row in soup.select(f"{table} tbody tr")]


@pytest.mark.parametrize(
    "query",
    [
        "Lopez Ana",
        "ana lopez",
        "  ANA   ",
        "12 Apr 1988",
        "1988-04-12",
        "12 April 1988",
        "555 0142",
        "(555)01-42",
        "ana.lopez@exa",
    ],
)
def test_search_finds_a_client_by_name_in_any_order_date_of_birth_phone_or_email(therapist_client, therapist, query):
    make_client(
        therapist,
        full_name="Ana María Lopez",
        date_of_birth=date(1988, 4, 12),
        phone="+1 (555) 014-2",
        email="ana.lopez@example.com",
    )
    make_client(
        therapist, full_name="Carl Dahl", date_of_birth=date(1990, 4, 5), phone="555 9999", email="carl@example.org"
    )
    assert names_listed(text(therapist_client.get("/clients/", query_string={"q": query}))) == ["Ana María Lopez"]


@pytest.mark.parametrize("query", ["Lopez Carl", "13 Apr 1988", "555 0143", "1988"])
def test_search_does_not_find_what_does_not_match(therapist_client, therapist, query):
    make_client(therapist, full_name="Ana Lopez", date_of_birth=date(1988, 4, 12), phone="555-0142")
    make_client(therapist, full_name="Carl Dahl", date_of_birth=date(1990, 4, 5))
    assert names_listed(text(therapist_client.get("/clients/", query_string={"q": query}))) == []


def test_search_never_finds_another_therapists_client(therapist_client, therapist, other_therapist):
    make_client(other_therapist, full_name="Hidden Hart", date_of_birth=date(1975, 5, 5), phone="555 7777")
    for query in ("Hart", "5 May 1975", "555 7777"):
        html = text(therapist_client.get("/clients/", query_string={"q": query}))
        assert "Hidden Hart" not in html, query


def test_a_search_lists_matching_archived_clients_apart(therapist_client, therapist, db):
    from clinic.db_types import utcnow

    make_client(therapist, full_name="Ana Active")
    make_client(therapist, full_name="Ana Archived", archived_at=utcnow())
    html = text(therapist_client.get("/clients/?q=ana"))
    assert names_listed(html) == ["Ana Active"]
    assert names_listed(html, "table.client-list.archived") == ["Ana Archived"]
    assert names_listed(text(therapist_client.get("/clients/")), "table.client-list.archived") == []
    only_archived = text(therapist_client.get("/clients/?q=archived"))
    assert "No active client matches" in only_archived
    assert names_listed(only_archived, "table.client-list.archived") == ["Ana Archived"]


def test_client_list_shows_the_last_visit(therapist_client, therapist, app):
    from datetime import UTC, datetime

    from tests.factories import make_session

    seen = make_client(therapist, full_name="Seen Before")
    make_client(therapist, full_name="Never Seen")
    make_session(seen, started_at=datetime(2026, 3, 1, 12, tzinfo=UTC))
    make_session(seen, started_at=datetime(2026, 4, 2, 12, tzinfo=UTC))
    soup = BeautifulSoup(text(therapist_client.get("/clients/")), "html.parser")
    cells = {
        row.select_one("td a").get_text(): row.select_one("td.last-visit").get_text(strip=True)
        for row in soup.select("tbody tr")
    }
    assert cells == {"Seen Before": "2 Apr 2026", "Never Seen": "None yet"}


def test_adding_a_second_client_with_the_same_name_and_birth_date_warns_first(therapist_client, therapist, db):
    existing = make_client(therapist, full_name="Ana Lopez", date_of_birth=date(1988, 4, 12))
    data = {
        "full_name": "ana  LOPEZ",
        "date_of_birth": "1988-04-12",
        "phone": "555-0142",
        "notes": "Referred by Dr Rao",
    }
    response = submit(therapist_client, "/clients/new", data)
    soup = BeautifulSoup(text(response), "html.parser")
    assert response.status_code == 409
    warning = soup.select_one(".duplicate-warning")
    assert warning.select_one("a")["href"] == f"/clients/{existing.id}"
    assert (
        soup.select_one("#phone")["value"] == "555-0142"
        and soup.select_one("#notes").get_text().strip() == "Referred by Dr Rao"
    )
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Client)) == 1
    response = submit(therapist_client, "/clients/new", {**data, "add_anyway": "y"})
    assert response.status_code == 302
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Client)) == 2


def test_the_duplicate_warning_never_reveals_another_therapists_client(
    therapist_client, therapist, other_therapist, db
):
    make_client(other_therapist, full_name="Ana Lopez", date_of_birth=date(1988, 4, 12))
    response = submit(therapist_client, "/clients/new", {"full_name": "Ana Lopez", "date_of_birth": "1988-04-12"})
    assert response.status_code == 302 and "already on record" not in text(response)


def test_the_list_and_each_search_page_are_recorded_once_with_the_clients_shown(therapist_client, therapist, db):
    shown = make_client(therapist, full_name="Listed Lee")
    other = make_client(therapist, full_name="Other Olsen")
    assert therapist_client.get("/clients/").status_code == 200
    assert therapist_client.get("/clients/?q=lee").status_code == 200
    assert therapist_client.get("/clients/?show=archived").status_code == 200
    reads = [(e.action, e.user_id, e.entity_type, e.client_id, e.details) for e in events(db)]
    assert reads == [
        ("view", therapist.id, "client list", None, {"clients": [shown.id, other.id], "page": 1}),
        ("view", therapist.id, "client list", None, {"clients": [shown.id], "page": 1, "search": "lee"}),
        ("view", therapist.id, "client list", None, {"clients": [], "page": 1, "archived": True}),
    ]


def test_the_archive_confirmation_page_is_recorded(therapist_client, therapist, db):
    record = make_client(therapist, full_name="Asked Archer")
    assert "Asked Archer" in text(therapist_client.get(f"/clients/{record.id}/archive"))
    [read] = events(db)
    assert (read.action, read.user_id, read.client_id, read.details) == (
        "view",
        therapist.id,
        record.id,
        {"page": "archive confirmation"},
    )


def test_a_denied_attempt_on_a_missing_client_is_recorded_without_a_client(therapist_client, therapist, db):
    assert therapist_client.get("/clients/424242/edit").status_code == 404
    denied = [(e.action, e.user_id, e.client_id, e.entity_id, e.details["path"]) for e in events(db)]
    assert denied == [("denied", therapist.id, None, 424242, "/clients/424242/edit")]


def test_an_edit_that_loses_the_race_after_its_version_check_is_a_409_with_the_input(
    therapist_client, therapist, db, monkeypatch
):
    """Someone saves between the version check and the flush inside the audit entry: 409, the typed changes kept."""
    from clinic.clients import services

    client = make_client(therapist, phone="555-0100")
    page = f"/clients/{client.id}/edit"
    version = hidden_inputs(therapist_client.get(page))["version"]
    version_check = services.check_version

    def someone_saves_right_after_the_check(record, version):
        version_check(record, version)
        with db.engine.begin() as other:
            other.execute(
                sa.update(Client).where(Client.id == record.id).values(phone="555-0222", version=Client.version + 1)
            )

    monkeypatch.setattr(services, "check_version", someone_saves_right_after_the_check)
    response = submit(therapist_client, page, {**VALID, "phone": "555-0333", "version": version})
    assert response.status_code == 409
    assert input_value(text(response), "phone") == "555-0333"
    db.session.expire_all()
    assert db.session.get(Client, client.id).phone == "555-0222"
    assert db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "update")) is None
