"""Factory helpers: build records straight through the models, fast, with sensible defaults."""
from datetime import date
from itertools import count

from clinic.extensions import db
from clinic.models import Client, Role, User

PASSWORD = "correct-horse-battery"
_sequence = count(1)
_password_hash: str | None = None


def _hashed_password() -> str:
    # Hashing is slow on purpose; hash the shared test password once.
    global _password_hash
    if _password_hash is None:
        probe = User()
        probe.set_password(PASSWORD)
        _password_hash = probe.password_hash
    return _password_hash


def make_user(role: str = Role.THERAPIST, **fields) -> User:
    n = next(_sequence)
    values = {"email": f"user{n}@clinic.example", "name": f"Therapist {n}", "role": role}
    values.update(fields)
    user = User(**values)
    user.password_hash = _hashed_password()
    db.session.add(user)
    db.session.commit()
    return user


def make_client(therapist: User, **fields) -> Client:
    n = next(_sequence)
    values = {
        "full_name": f"Client Number{n}",
        "date_of_birth": date(1980, 1, 1 + n % 28),
        "contraindications": "",
        "therapist": therapist,
    }
    values.update(fields)
    client = Client(**values)
    db.session.add(client)
    db.session.commit()
    return client
