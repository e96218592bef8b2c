"""Alembic environment: the URL comes from sitroom's settings, not from an ini file."""
from alembic import context
from sqlalchemy import pool, text

from sitroom.settings import Settings
from sitroom.store.db import make_engine
from sitroom.store.models import Base

config = context.config
url = config.attributes.get("url") or Settings.from_env().database_url

if context.is_offline_mode():
    context.configure(url=url, target_metadata=Base.metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()
else:
    engine = make_engine(url, poolclass=pool.NullPool)
    with engine.connect() as connection:
        context.configure(connection=connection, target_metadata=Base.metadata,
                          render_as_batch=connection.dialect.name == "sqlite")
        with context.begin_transaction():
            if connection.dialect.name == "postgresql":  # concurrent starts: one migrates, the rest wait
                connection.execute(text("SELECT pg_advisory_xact_lock(7240311)"))
            context.run_migrations()
    engine.dispose()
