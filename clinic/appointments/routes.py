"""The appointment book: the therapist's day at "/", day and week views, booking, moving and changing
appointments, and the private calendar feed. Who may see an appointment: whoever may see its client."""

from datetime import MAXYEAR, MINYEAR, date, datetime, time, timedelta

import sqlalchemy as sa
from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from clinic.access import get_client_for, visible_clients
from clinic.appointments import bp
from clinic.appointments.forms import STATUS_LABELS, AppointmentForm, CalendarFeedForm, StatusForm
from clinic.appointments.services import (
    calendar_feed,
    conflicts,
    create_appointment,
    feed_appointments,
    parse_local,
    record_day_view,
    record_feed_read,
    record_view,
    set_status,
    update_appointment,
    values_from,
)
from clinic.booking import (
    appointments_between,
    get_appointment_for,
    last_plans,
    local_day_bounds,
    make_calendar_token,
    revoke_calendar_token,
    user_for_calendar_token,
)
from clinic.clock import clinic_today, local_now, to_local
from clinic.concurrency import StaleRecordError
from clinic.extensions import db
from clinic.models import Appointment, AppointmentStatus, Client, Role, User
from clinic.params import int_arg
from clinic.rules import BOOK_HOURS, DEFAULT_APPOINTMENT_MINUTES, SLOT_MINUTES

PUBLIC = {"appointments.home", "appointments.feed"}


@bp.before_request
def require_login():
    """Every book URL needs a login, except the day page (which sends a visitor to log in) and the feed (its
    token is the key)."""
    if request.endpoint not in PUBLIC and not current_user.is_authenticated:
        return current_app.login_manager.unauthorized()
    return None


# --- the day: "/" ---


@bp.route("/")
def home():
    if not current_user.is_authenticated:
        return redirect(url_for("auth.login"))
    today = clinic_today()
    everyone = _therapists() if current_user.is_admin else []
    chosen = _chosen_therapist(everyone, default_all=True)
    ids = None if current_user.is_admin and chosen is None else [(chosen or current_user).id]
    appointments = appointments_between(current_user, *local_day_bounds(today), therapist_ids=ids)
    plans = last_plans(appointment.client_id for appointment in appointments)
    record_day_view(today.isoformat(), appointments)
    # Render before the commit: a commit expires every loaded record, and reading them again would cost two
    # queries per appointment. Should the commit fail, the page is never sent.
    page = render_template(
        "appointments/today.html",
        today=today,
        appointments=appointments,
        plans=plans,
        therapists=everyone,
        chosen=chosen,
        labels=STATUS_LABELS,
    )
    db.session.commit()
    return page


# --- the book: a day or a week ---


@bp.route("/appointments/")
def book():
    error = ""
    try:
        day = date.fromisoformat(request.args["date"]) if request.args.get("date") else clinic_today()
    except ValueError:
        error = f"“{request.args['date']}” is not a date (YYYY-MM-DD); showing today."
        day = clinic_today()
    view = request.args.get("view", "day")
    if view not in ("day", "week"):
        error = error or f"Unknown view “{view}”; showing the day."
        view = "day"
    everyone = _therapists() if current_user.is_admin else []
    therapist = _chosen_therapist(everyone, default_all=False) or current_user
    if not MINYEAR < day.year < MAXYEAR:  # the calendar's first and last years have no week around a day
        error = f"“{day.isoformat()}” is too far from today; showing today."
        day = clinic_today()
    first = day - timedelta(days=day.weekday()) if view == "week" else day
    days = [first + timedelta(days=n) for n in range(7 if view == "week" else 1)]
    appointments = appointments_between(current_user, *local_day_bounds(first, len(days)), therapist_ids=[therapist.id])
    by_day: dict[date, list[Appointment]] = {d: [] for d in days}
    for appointment in appointments:
        by_day.setdefault(to_local(appointment.starts_at).date(), []).append(appointment)
    step = timedelta(days=len(days))
    return render_template(
        "appointments/book.html",
        view=view,
        day=day,
        days=days,
        by_day=by_day,
        agenda=_agenda(day, by_day[day]) if view == "day" else None,
        therapist=therapist,
        therapists=everyone,
        error=error,
        today=clinic_today(),
        previous=first - step if view == "day" else first - timedelta(days=7),
        following=first + step,
        labels=STATUS_LABELS,
    )


def _agenda(day: date, appointments: list[Appointment]) -> list[dict]:
    """The day as rows: each appointment, and between them the free time in the working hours, as slots."""
    opening = datetime.combine(day, time(BOOK_HOURS[0]))
    closing = datetime.combine(day, time(BOOK_HOURS[1]))
    rows: list[dict] = []
    cursor = opening
    for appointment in appointments:
        start = to_local(appointment.starts_at)
        if appointment.holds_time and start > cursor:
            rows.append(_free(cursor, min(start, closing)))
        rows.append({"appointment": appointment, "start": start})
        if appointment.holds_time:
            cursor = max(cursor, to_local(appointment.ends_at))
    if cursor < closing:
        rows.append(_free(cursor, closing))
    return [row for row in rows if "appointment" in row or row["slots"]]


def _free(start: datetime, end: datetime) -> dict:
    minute = start.hour * 60 + start.minute
    first = start + timedelta(minutes=-minute % SLOT_MINUTES)  # the next slot on the grid
    slots = []
    while first + timedelta(minutes=SLOT_MINUTES) <= end:
        slots.append(first)
        first += timedelta(minutes=SLOT_MINUTES)
    return {"free": (start, end), "slots": slots}


# --- booking and changing ---


@bp.route("/appointments/new", methods=["GET", "POST"])
def create():
    client_choices = _client_choices()
    form = AppointmentForm(clients=client_choices, therapists=_therapist_choices())
    overlaps: list[Appointment] = []
    if request.method == "GET":
        _prefill(form)
    elif form.validate_on_submit():
        values = values_from(form, _therapist_id(form))
        overlaps = conflicts(values)
        if not overlaps or form.book_anyway.data:
            appointment = create_appointment(values, overlaps)
            db.session.commit()
            flash(_booked_message(appointment, overlaps), "success")
            return redirect(_day_url(appointment))
    return render_template("appointments/form.html", form=form, appointment=None, overlaps=overlaps)


def _prefill(form: AppointmentForm) -> None:
    client_id = int_arg("client")
    if client_id is not None:
        client = get_client_for(current_user, client_id)
        if client.is_archived:
            flash("This client is archived. Restore them before booking.", "error")
        else:
            form.client.data = client.id
            if form.therapist:
                form.therapist.data = client.therapist_id
    form.start.data = parse_local(request.args.get("start")) or _next_slot()
    length = int_arg("length")
    form.length_minutes.data = length or DEFAULT_APPOINTMENT_MINUTES
    therapist_id = int_arg("therapist")
    if form.therapist and therapist_id:
        form.therapist.data = therapist_id


def _next_slot() -> datetime:
    now = local_now()
    return now + timedelta(minutes=-(now.hour * 60 + now.minute) % SLOT_MINUTES or SLOT_MINUTES)


@bp.route("/appointments/<int:appointment_id>", methods=["GET", "POST"])
def edit(appointment_id: int):
    appointment = get_appointment_for(current_user, appointment_id)
    client_choices = _client_choices(include=appointment.client)
    form = AppointmentForm(clients=client_choices, therapists=_therapist_choices())
    overlaps: list[Appointment] = []
    if request.method == "GET":
        form.client.data = appointment.client_id
        if form.therapist:
            form.therapist.data = appointment.therapist_id
        form.start.data = to_local(appointment.starts_at)
        form.length_minutes.data = appointment.length_minutes
        form.status.data = appointment.status
        form.note.data = appointment.note
        form.version.data = str(appointment.version)
        record_view(appointment)
    elif form.validate_on_submit() and _keeps_its_session(form, appointment):
        values = values_from(form, _therapist_id(form, appointment))
        if values["client_id"] != appointment.client_id:
            get_client_for(current_user, values["client_id"])
        overlaps = conflicts(values, exclude_id=appointment.id)
        if not overlaps or form.book_anyway.data:
            try:
                changes = update_appointment(appointment, values, form.version.data, overlaps)
            except StaleRecordError:
                db.session.rollback()
                flash(
                    "This appointment was changed by someone else while you were editing. Your changes are still "
                    "below; check the book, then save again.",
                    "error",
                )
                db.session.refresh(appointment)
                form.version.data = str(appointment.version)
                return render_template("appointments/form.html", form=form, appointment=appointment, overlaps=[]), 409
            db.session.commit()
            flash(_booked_message(appointment, overlaps, changed=bool(changes)), "success")
            return redirect(_day_url(appointment))
    return render_template("appointments/form.html", form=form, appointment=appointment, overlaps=overlaps)


def _keeps_its_session(form: AppointmentForm, appointment: Appointment) -> bool:
    """An appointment a session was logged from stays completed and stays that client's."""
    if appointment.session_id is None:
        return True
    ok = True
    if form.status.data != AppointmentStatus.COMPLETED:
        form.status.errors.append("A session was logged from this appointment, so it stays completed.")
        ok = False
    if form.client.data != appointment.client_id:
        form.client.errors.append("A session was logged from this appointment, so its client can't change.")
        ok = False
    return ok


@bp.route("/appointments/<int:appointment_id>/status", methods=["POST"])
def change_status(appointment_id: int):
    appointment = get_appointment_for(current_user, appointment_id)
    form = StatusForm()
    back = _local_path(form.next.data) or _day_url(appointment)
    if not form.validate_on_submit():
        flash("That status change was not understood; nothing was changed.", "error")
        return redirect(back)
    if appointment.session_id is not None:
        flash("A session was logged from this appointment; it stays completed.", "info")
        return redirect(back)
    try:
        changed = set_status(appointment, form.status.data, form.version.data)
    except StaleRecordError:
        db.session.rollback()
        flash("This appointment was changed elsewhere in the meantime; look again, then choose.", "error")
        return redirect(back)
    db.session.commit()
    if changed:
        when = to_local(appointment.starts_at).strftime("%H:%M")
        flash(f"{appointment.client.full_name} at {when}: {STATUS_LABELS[appointment.status].lower()}.", "success")
    return redirect(back)


# --- the calendar feed ---


@bp.route("/appointments/calendar-feed", methods=["GET", "POST"])
def calendar_feed_page():
    form = CalendarFeedForm()
    new_url = None
    if form.validate_on_submit():
        if form.action.data == "make":
            token = make_calendar_token(current_user)
            new_url = url_for("appointments.feed", token=token, _external=True)
            db.session.commit()
            flash("A new calendar address was made. Any earlier address no longer works.", "success")
        else:
            revoke_calendar_token(current_user)
            db.session.commit()
            flash("The calendar address was revoked: calendars that use it get nothing more.", "success")
            return redirect(url_for("appointments.calendar_feed_page"))
    elif request.method == "POST":
        abort(400)
    return render_template("appointments/calendar_feed.html", feed_form=CalendarFeedForm(), new_feed_url=new_url)


@bp.route("/calendar/<token>.ics")
def feed(token: str):
    user = user_for_calendar_token(token)
    if user is None:
        abort(404)
    body = calendar_feed(user, feed_appointments(user), request.host.split(":")[0])
    record_feed_read(user)
    db.session.commit()
    return current_app.response_class(
        body,
        mimetype="text/calendar",
        headers={"Content-Disposition": 'inline; filename="knotwork.ics"'},
    )


# --- helpers ---


def _therapists() -> list[User]:
    return list(
        db.session.scalars(
            sa.select(User).where(User.role == Role.THERAPIST, User.active.is_(True)).order_by(User.name, User.id)
        )
    )


def _chosen_therapist(everyone: list[User], default_all: bool) -> User | None:
    """The owner picks whose book to see (?therapist=<id>); a therapist sees their own."""
    if not current_user.is_admin:
        return None
    wanted = int_arg("therapist")
    for user in everyone:
        if user.id == wanted:
            return user
    if default_all:
        return None
    return everyone[0] if everyone else None


def _therapist_choices():
    if not current_user.is_admin:
        return None
    return [(user.id, user.name) for user in _therapists()]


def _therapist_id(form: AppointmentForm, appointment: Appointment | None = None) -> int:
    if form.therapist:
        return form.therapist.data
    return appointment.therapist_id if appointment else current_user.id


def _client_choices(include: Client | None = None) -> list[tuple[int, str]]:
    """The user's clients to book for: only the columns the choice shows (a therapist may have hundreds)."""
    clients = db.session.execute(
        visible_clients(current_user)
        .with_only_columns(Client.id, Client.full_name, Client.date_of_birth)
        .where(Client.archived_at.is_(None))
        .order_by(sa.func.lower(Client.full_name), Client.id)
    ).all()
    if include is not None and include.id not in {client.id for client in clients}:
        clients.append(include)
    return [(client.id, f"{client.full_name} (born {client.date_of_birth.year})") for client in clients]


def _day_url(appointment: Appointment) -> str:
    args = {"date": to_local(appointment.starts_at).date().isoformat()}
    if current_user.is_admin:
        args["therapist"] = appointment.therapist_id
    return url_for("appointments.book", **args)


def _local_path(target: str | None) -> str | None:
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return None


def _booked_message(appointment: Appointment, overlaps: list[Appointment], changed: bool = True) -> str:
    if not changed:
        return "Nothing had changed."
    when = to_local(appointment.starts_at).strftime("%-d %b %Y, %H:%M")
    message = f"{appointment.client.full_name}: {when}, {appointment.length_minutes} min ({appointment.status})."
    if overlaps:
        message += " Booked over an overlap, as you chose."
    return message
