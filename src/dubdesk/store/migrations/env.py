"""Alembic environment: runs migrations on the URL the caller configured.

On PostgreSQL the whole upgrade is one transaction that first takes an advisory lock, so servers and
command lines starting together on one database migrate it one after the other: the first brings it
to the newest revision, the others then find nothing left to do.
"""
from alembic import context

from dubdesk.store.database import make_engine
from dubdesk.store.models import Base

MIGRATION_LOCK = 0x64756264  # any number of dubdesk's own: "dubd"

engine = make_engine(context.config.get_main_option("sqlalchemy.url"))
try:
    with engine.connect() as connection:
        context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
        with context.begin_transaction():
            if connection.dialect.name == "postgresql":
                connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({MIGRATION_LOCK})")
            context.run_migrations()
finally:
    engine.dispose()  # a server's own engine opens later; this one's connection is not kept open beside it
