import base64
import io
import smtplib

import segno
from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from clinic.access import get_client_for
from clinic.extensions import db
from clinic.intake import bp
from clinic.intake.forms import IntakeForm, IntakeLinkForm, ReviewForm
from clinic.intake.page import region_list
from clinic.intake.services import (
    LinkAlreadyUsed,
    change_choices,
    email_link,
    mail_configured,
    make_link,
    record_intake_view,
    record_link_opened,
    review_intake,
    store_intake,
)
from clinic.intakes import first_name, session_pain_regions, usable_link
from clinic.kb import knowledge_base
from clinic.models import Intake
from clinic.precautions import PRECAUTIONS
from clinic.throttle import intake_guessing, record_intake_miss
from clinic.views import archived_refusal

# --- the therapist's side ---------------------------------------------------------------------------------


@bp.route("/clients/<int:client_id>/intake-links", methods=["POST"])
@login_required
def make(client_id: int):
    client = get_client_for(current_user, client_id)
    if client.is_archived:
        return archived_refusal("sending an intake form to", url_for("clients.detail", client_id=client.id))
    form = IntakeLinkForm()
    if not form.validate_on_submit():
        if form.csrf_token.errors:
            abort(400, description="The form expired; go back, reload the client and try again.")
        return render_template("intake/new_link.html", client=client, form=form, mail=mail_configured()), 400
    link, token = make_link(client, current_user)
    url = url_for("intake.client_form", token=token, _external=True)
    sent_to = ""
    if form.email.data and mail_configured():
        try:
            email_link(link, form.email.data, url)
            sent_to = form.email.data
        except (OSError, smtplib.SMTPException) as error:
            current_app.logger.warning("intake link email to %s failed: %s", form.email.data, error)
            flash("The email could not be sent; copy the link or show the QR code instead.", "error")
    db.session.commit()
    return render_template("intake/link.html", client=client, link=link, url=url, qr=_qr_data_uri(url), sent_to=sent_to)


def _qr_data_uri(url: str) -> str:
    """The link as a QR code: an SVG made here, offline, shown as a data: image (the CSP allows those)."""
    buffer = io.BytesIO()
    segno.make(url, error="m").save(buffer, kind="svg", scale=6, border=2, dark="#1f2a30", light="#ffffff")
    return "data:image/svg+xml;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def _intake_for(client_id: int, intake_id: int) -> Intake:
    client = get_client_for(current_user, client_id)
    intake = db.session.get(Intake, intake_id)
    if intake is None or intake.client_id != client.id:
        abort(404)
    return intake


@bp.route("/clients/<int:client_id>/intakes/<int:intake_id>")
@login_required
def detail(client_id: int, intake_id: int):
    intake = _intake_for(client_id, intake_id)
    record_intake_view(intake)
    form = ReviewForm()
    form.accept.choices = change_choices(intake)
    return _render_detail(intake, form)


def _render_detail(intake: Intake, form: ReviewForm, status: int = 200):
    return (
        render_template(
            "intake/detail.html",
            intake=intake,
            client=intake.client,
            form=form,
            precaution_names=PRECAUTIONS,
            session_regions=session_pain_regions(intake),
        ),
        status,
    )


@bp.route("/clients/<int:client_id>/intakes/<int:intake_id>/review", methods=["POST"])
@login_required
def review(client_id: int, intake_id: int):
    intake = _intake_for(client_id, intake_id)
    if intake.client.is_archived:
        return archived_refusal("editing", url_for("clients.detail", client_id=intake.client_id))
    form = ReviewForm()
    form.accept.choices = change_choices(intake)
    if not form.validate_on_submit():
        return _render_detail(intake, form, 400)
    changes = review_intake(intake, form.accept.data or [], current_user)
    db.session.commit()
    if changes:
        flash(f"The client record was updated: {', '.join(_field_names(changes))}.", "success")
    else:
        flash("Marked as reviewed; nothing was added to the client record.", "success")
    return redirect(url_for("intake.detail", client_id=intake.client_id, intake_id=intake.id))


def _field_names(changes: dict) -> list[str]:
    names = {"health_history": "health history", "medications": "medications", "precautions": "precautions"}
    return [names.get(field, field) for field in changes]


# --- the client's form (no login: the link is the credential) ---------------------------------------------


def _link_or_404(token: str):
    """The usable link; otherwise one 404 for unknown, used and expired alike, counted against the address."""
    address = request.remote_addr or ""
    if intake_guessing(address):
        abort(429, description="Too many wrong links from this connection. Try again in a quarter of an hour.")
    link = usable_link(token)
    if link is None:
        record_intake_miss(address)
        db.session.commit()
        abort(404)
    return link


@bp.route("/intake/<token>", methods=["GET", "POST"])
def client_form(token: str):
    link = _link_or_404(token)
    kb = knowledge_base()
    form = IntakeForm(region_ids=list(kb.regions))
    if request.method == "POST":
        form.read_regions(request.form)
        if form.validate():
            values = {
                "regions": form.regions_data(),
                "pain_now": form.pain_now.data,
                "pain_usual": form.pain_usual.data,
                "pain_worst": form.pain_worst.data,
                "psfs": form.psfs_data(),
                "stress": form.stress.data,
                "health_changes": form.health_changes.data or "",
                "medications": form.medications.data or "",
                "precautions": form.precautions.data or [],
                "consent_name": form.consent_name.data,
            }
            try:
                store_intake(link, values)
            except LinkAlreadyUsed:
                db.session.rollback()
                abort(404)
            db.session.commit()
            return render_template("intake/thanks.html", name=first_name(link.client))
    else:
        record_link_opened(link)
        db.session.commit()
    return (
        render_template(
            "intake/client_form.html",
            form=form,
            name=first_name(link.client),
            region_list=region_list(kb, form),
            chosen=[region for region, value in form.region_values.items() if value["checked"]],
            expires_at=link.expires_at,
        ),
        400 if request.method == "POST" else 200,
    )
