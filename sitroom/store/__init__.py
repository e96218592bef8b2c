"""The store: one SQLAlchemy database shared by the loaders and the web server."""
from .db import bump_version, make_engine, session_factory, upgrade  # noqa: F401
