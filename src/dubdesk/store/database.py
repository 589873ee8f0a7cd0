"""Open (and migrate) the database. SQLite runs in WAL mode with foreign keys on."""
from __future__ import annotations

import os
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

from ..errors import DubdeskError

MIGRATIONS = Path(__file__).parent / "migrations"


def _sqlite_pragmas(connection, _record) -> None:
    cursor = connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url)
    return config


def migrate(url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(url), revision)


def make_engine(url: str) -> Engine:
    engine = create_engine(url)
    if url.startswith("sqlite"):
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def open_database(url: str) -> sessionmaker[Session]:
    """Bring the schema to the newest revision and return a session factory."""
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    migrate(url)
    engine = make_engine(url)
    if url.startswith("sqlite:///"):
        check_sqlite(engine, Path(url.removeprefix("sqlite:///")))
    return sessionmaker(engine, expire_on_commit=False)


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
