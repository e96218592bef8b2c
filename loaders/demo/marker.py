"""The mark `sitroom demo` leaves in each simulated source database, so that `sitroom drill` writes
into nothing else: a production source (another department's database) never has it."""
from __future__ import annotations

from sqlalchemy import inspect, text
from sqlalchemy.engine import Engine

from loaders.source_db import source_engine

TABLE = "sitroom_demo"
MADE_BY = "sitroom demo"


def mark_demo(engine: Engine) -> None:
    """Mark a database the demo's simulator made (idempotent)."""
    with engine.begin() as c:
        c.execute(text(f"CREATE TABLE IF NOT EXISTS {TABLE} (made_by VARCHAR(32) NOT NULL)"))
        if not c.execute(text(f"SELECT 1 FROM {TABLE} WHERE made_by = :m"), {"m": MADE_BY}).first():
            c.execute(text(f"INSERT INTO {TABLE} (made_by) VALUES (:m)"), {"m": MADE_BY})


class NotADemoDatabase(RuntimeError):
    pass


def claim_for_demo(engine: Engine, source: str) -> None:
    """Before the demo writes into a source database: it must be empty or one the demo made. A database
    with tables and no mark belongs to someone else (a production config) and is left untouched."""
    with engine.connect() as c:
        tables = inspect(c).get_table_names()
        if TABLE in tables and c.execute(text(f"SELECT 1 FROM {TABLE} WHERE made_by = :m"), {"m": MADE_BY}).first():
            return
    if tables:
        shown = ", ".join(sorted(tables)[:5]) + (" …" if len(tables) > 5 else "")
        raise NotADemoDatabase(
            f"source {source}: {engine.url.render_as_string(hide_password=True)} has tables ({shown}) and no "
            f"{TABLE} mark: it is not a database `sitroom demo` made, so the demo writes nothing into it")


def demo_problem(url: str) -> str | None:
    """None when `url` is a demo database made by `sitroom demo`, else why not (read-only look)."""
    engine = source_engine(url)
    try:
        with engine.connect() as c:
            if not inspect(c).has_table(TABLE):
                return f"it has no {TABLE} table (the mark `sitroom demo` leaves)"
            if not c.execute(text(f"SELECT 1 FROM {TABLE} WHERE made_by = :m"), {"m": MADE_BY}).first():
                return f"its {TABLE} table does not say it was made by `sitroom demo`"
            return None
    except Exception as e:   # missing file, unreachable server: not a demo database either
        return str(e).splitlines()[0]
    finally:
        engine.dispose()
