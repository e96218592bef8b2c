"""The store-backend fixtures give working databases (runs on SQLite and on PostgreSQL)."""

from __future__ import annotations

import os

import sqlalchemy as sa

import pgcluster


def _roundtrip(url: str, table: str = "probe") -> list[tuple]:
    engine = sa.create_engine(url)
    try:
        assert sa.inspect(engine).get_table_names() == [], "database is not empty"
        meta = sa.MetaData()
        t = sa.Table(
            table, meta,
            sa.Column("id", sa.Integer, primary_key=True),
            sa.Column("name", sa.String(50), nullable=False),
        )
        meta.create_all(engine)
        with engine.begin() as conn:
            conn.execute(t.insert(), [{"id": 1, "name": "郑州市"}, {"id": 2, "name": "Wuhan"}])
        with engine.connect() as conn:
            return [tuple(r) for r in conn.execute(sa.select(t.c.id, t.c.name).order_by(t.c.id))]
    finally:
        engine.dispose()


def test_store_url_matches_selected_backend(store_url):
    backend = os.environ.get(pgcluster.STORE_ENV) or "sqlite"
    expected = {"sqlite": "sqlite:///", "postgresql": "postgresql+psycopg://"}[backend]
    assert store_url.startswith(expected)


def test_store_url_is_empty_and_writable(store_url):
    assert _roundtrip(store_url) == [(1, "郑州市"), (2, "Wuhan")]


def test_source_urls_are_fresh_and_distinct(store_url, make_source_url):
    a = make_source_url("health")
    b = make_source_url("health")
    c = make_source_url("铁路 rail")
    assert len({store_url, a, b, c}) == 4
    assert _roundtrip(a) == [(1, "郑州市"), (2, "Wuhan")]
    # Writing to one source left the others (and the store) empty.
    for url in (b, c, store_url):
        assert _roundtrip(url) == [(1, "郑州市"), (2, "Wuhan")]


def test_unknown_backend_is_a_clear_error(monkeypatch):
    monkeypatch.setenv(pgcluster.STORE_ENV, "postgres")
    try:
        pgcluster.test_store_backend()
    except pgcluster.PgClusterError as exc:
        assert pgcluster.STORE_ENV in str(exc)
        assert "sqlite" in str(exc) and "postgresql" in str(exc)
    else:
        raise AssertionError("expected PgClusterError")


# Not marked `browser`: runs in both passes of scripts/test (it always needs PostgreSQL).
def test_pg_server_is_postgresql_15(pg_server):
    engine = sa.create_engine(pg_server.url("postgres"))
    try:
        with engine.connect() as conn:
            version = conn.execute(sa.text("SELECT version()")).scalar_one()
            settings = dict(conn.execute(sa.text(
                "SELECT name, setting FROM pg_settings WHERE name IN "
                "('fsync', 'listen_addresses', 'max_connections', 'server_encoding')"
            )).all())
    finally:
        engine.dispose()
    assert version.startswith("PostgreSQL 15"), version
    assert settings == {
        "fsync": "off", "listen_addresses": "127.0.0.1",
        "max_connections": "200", "server_encoding": "UTF8",
    }
    assert pg_server.url("x") == f"postgresql+psycopg://postgres@127.0.0.1:{pg_server.port}/x"
