"""Alembic environment: runs migrations on the URL the caller configured."""
from alembic import context

from dubdesk.store.database import make_engine
from dubdesk.store.models import Base

url = context.config.get_main_option("sqlalchemy.url")
with make_engine(url).connect() as connection:
    context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()
