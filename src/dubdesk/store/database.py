"""Open (and migrate) the database: the embedded SQLite file, or a team's PostgreSQL server.

SQLite runs in WAL mode with foreign keys on. PostgreSQL is reached through psycopg 3 whatever the
URL's driver part says (`postgresql://` is enough), with its sessions in UTC, as SQLite keeps times.
The same migrations run on both; what must hold whoever writes (one edit of a line wins, decisions
one after another, append-only tables) is a conditional UPDATE, a row lock or a trigger in the
database itself, never a check in one process, so it holds across servers on either database.
"""
from __future__ import annotations

import os
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import URL, Engine, create_engine, event, make_url
from sqlalchemy.exc import ArgumentError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from ..errors import DubdeskError

MIGRATIONS = Path(__file__).parent / "migrations"
POSTGRESQL_DRIVER = "postgresql+psycopg"
SUPPORTED = "sqlite:///<file> or postgresql://<user>:<password>@<host>:<port>/<database>"


def _sqlite_pragmas(connection, _record) -> None:
    cursor = connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def engine_url(url: str) -> URL:
    """`url` as SQLAlchemy opens it: SQLite as given, PostgreSQL through psycopg 3 (the driver dubdesk
    installs); any other database is refused, naming the two it runs on."""
    try:
        parsed = make_url(url)
    except ArgumentError as error:
        raise DubdeskError(f"database_url '{url}' is not a database URL; write {SUPPORTED}") from error
    backend, _, driver = parsed.drivername.partition("+")
    if backend == "sqlite":
        return parsed
    if backend in ("postgresql", "postgres") and driver in ("", "psycopg"):
        return parsed.set(drivername=POSTGRESQL_DRIVER)
    raise DubdeskError(f"database_url '{parsed.render_as_string(hide_password=True)}' names a database dubdesk does "
                       f"not run on; write {SUPPORTED}")


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    # the option is read with %-interpolation, and a URL-quoted password may hold a %
    config.set_main_option("sqlalchemy.url", engine_url(url).render_as_string(hide_password=False).replace("%", "%%"))
    return config


def migrate(url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(url), revision)


def make_engine(url: str) -> Engine:
    parsed = engine_url(url)
    if parsed.drivername == POSTGRESQL_DRIVER:
        return create_engine(parsed, pool_pre_ping=True, connect_args={"options": "-c timezone=UTC"})
    engine = create_engine(parsed)
    event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def open_database(url: str) -> sessionmaker[Session]:
    """Bring the schema to the newest revision and return a session factory."""
    sqlite_file = _sqlite_file(url)
    if sqlite_file is not None:
        sqlite_file.parent.mkdir(parents=True, exist_ok=True)
    try:
        migrate(url)
    except OperationalError as error:
        shown = make_url(url).render_as_string(hide_password=True)
        reason = " ".join(str(error.orig).split())
        remedy = ("keep the data folder on a local disk, writable by this user" if sqlite_file is not None else
                  "check database_url, and that its server is running and lets this user in")
        raise DubdeskError(f"cannot open the database {shown} ({reason}); {remedy}") from error
    engine = make_engine(url)
    if sqlite_file is not None:
        check_sqlite(engine, sqlite_file)
    return sessionmaker(engine, expire_on_commit=False)


def _sqlite_file(url: str) -> Path | None:
    """The file of an SQLite database (None for PostgreSQL, or SQLite in memory)."""
    parsed = engine_url(url)
    return Path(parsed.database) if parsed.drivername.startswith("sqlite") and parsed.database else None


def check_sqlite(engine: Engine, path: Path) -> None:
    """Refuse a database that is not in WAL mode (readers would block the writer, e.g. on a network
    share) or whose files another user owns (a server run as root would leave -wal/-shm the owner
    cannot open, or a stranger could read the password hashes)."""
    with engine.connect() as connection:
        mode = connection.exec_driver_sql("PRAGMA journal_mode").scalar()
    if str(mode).lower() != "wal":
        raise DubdeskError(f"{path} runs in {mode} journal mode, not WAL; keep the data folder on a local disk")
    me = os.geteuid()
    for part in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        if part.exists() and part.stat().st_uid != me:
            raise DubdeskError(f"{part} belongs to user id {part.stat().st_uid}, but dubdesk runs as user id {me}; "
                               f"run dubdesk as the data folder's owner, or give it the folder (chown -R)")
