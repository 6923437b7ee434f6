"""Backups that are consistent while the app serves, and restoring one into an empty database.

SQLite: Python's online backup API, copying every page in one step. That step reads one snapshot (WAL mode lets
writers go on meanwhile); a copy in several steps would start again each time another connection writes, and a
steady stream of saves would keep it going for ever. PostgreSQL: `pg_dump --format=custom` (one snapshot too) and
`pg_restore`. The copies hold health records: each is made readable by its owner only (0600).
"""

import contextlib
import os
import sqlite3
import subprocess
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import URL, make_url


class BackupError(RuntimeError):
    """A backup or a restore that cannot go ahead; the message says why, in a line."""


def backup(database_url: str | URL, path: str | Path) -> Path:
    url, path = make_url(database_url), Path(path)
    if path.exists():
        raise BackupError(f"{path} already exists; give a new file name (a backup never overwrites)")
    if not path.parent.is_dir():
        raise BackupError(f"{path.parent} is not a directory")
    with _private_files():
        if url.get_backend_name() == "sqlite":
            _sqlite_backup(_sqlite_path(url), path)
        elif url.get_backend_name() == "postgresql":
            _run(["pg_dump", "--format=custom", "--no-password", f"--file={path}", _libpq(url)], url, path)
        else:
            raise BackupError(f"no backup for {url.get_backend_name()} databases")
    path.chmod(0o600)
    return path


@contextlib.contextmanager
def _private_files():
    """Files made meanwhile (a dump, a restored database and its WAL) are 0600 from their first byte, not only
    once finished: a copy of the health records is never readable by others, whatever the caller's umask."""
    previous = os.umask(0o077)
    try:
        yield
    finally:
        os.umask(previous)


def restore(database_url: str | URL, path: str | Path) -> None:
    url, path = make_url(database_url), Path(path)
    if not path.is_file():
        raise BackupError(f"{path} is not a file")
    tables = table_names(url)
    if tables:
        raise BackupError(
            f"the database is not empty ({len(tables)} tables, e.g. {sorted(tables)[0]}); restore into a new, empty one"
        )
    if url.get_backend_name() == "sqlite":
        with _private_files():
            _sqlite_restore(path, _sqlite_path(url))
    elif url.get_backend_name() == "postgresql":
        # Objects are owned by whoever restores (the owner role); the app role's grants are given again by
        # deploy/postgres_roles.sql, since another server may not have the same roles.
        command = ["pg_restore", "--no-owner", "--no-privileges", "--exit-on-error", "--single-transaction"]
        _run([*command, "--no-password", f"--dbname={_libpq(url)}", str(path)], url, None)
    else:
        raise BackupError(f"no restore for {url.get_backend_name()} databases")


def table_names(database_url: str | URL) -> list[str]:
    engine = sa.create_engine(database_url, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as connection:
            return sa.inspect(connection).get_table_names()
    finally:
        engine.dispose()


def _sqlite_path(url: URL) -> Path:
    if not url.database or url.database == ":memory:":
        raise BackupError("an in-memory SQLite database has nothing to back up")
    return Path(url.database)


def _sqlite_backup(source_path: Path, path: Path) -> None:
    if not source_path.is_file():
        raise BackupError(f"no database at {source_path}")
    # Created 0600 before any record is written into it.
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    try:
        source = sqlite3.connect(f"file:{source_path}?mode=ro", uri=True, timeout=30)
        target = sqlite3.connect(path)
        try:
            source.backup(target)  # pages=-1: every page in one step, from one snapshot
            target.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
            if target.execute("PRAGMA integrity_check").fetchone()[0] != "ok":
                raise BackupError(f"the copy at {path} failed its integrity check")
        finally:
            target.close()
            source.close()
    except BaseException:
        path.unlink(missing_ok=True)
        raise


def _sqlite_restore(path: Path, target_path: Path) -> None:
    source = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    target = sqlite3.connect(target_path, timeout=30)
    try:
        if source.execute("PRAGMA integrity_check").fetchone()[0] != "ok":
            raise BackupError(f"{path} is not a sound SQLite database")
        source.backup(target)
        target.execute("PRAGMA journal_mode=WAL")
    except sqlite3.DatabaseError as error:
        raise BackupError(f"{path}: {error}") from error
    finally:
        target.close()
        source.close()
    target_path.chmod(0o600)


def _libpq(url: URL) -> str:
    """The URL as pg_dump takes it, without the password (that goes in PGPASSWORD, not on the command line)."""
    return url.set(drivername="postgresql", password=None).render_as_string(hide_password=False)


def _run(command: list[str], url: URL, made: Path | None) -> None:
    env = {**os.environ, **({"PGPASSWORD": url.password} if url.password else {})}
    try:
        result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=6 * 3600, check=False)
    except FileNotFoundError as error:
        raise BackupError(f"{command[0]} was not found; install the PostgreSQL client tools") from error
    if result.returncode != 0:
        if made is not None:
            made.unlink(missing_ok=True)
        raise BackupError(
            f"{command[0]} failed: {result.stderr.strip().splitlines()[-1] if result.stderr.strip() else result.returncode}"
        )
