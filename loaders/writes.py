"""Bulk writes in SQLAlchemy Core: executemany without the ORM's per-row bookkeeping (loaders write millions)."""
from __future__ import annotations

from sqlalchemy import bindparam, insert, update
from sqlalchemy.orm import Session


def insert_rows(s: Session, model, rows: list[dict]) -> None:
    if rows:
        s.execute(insert(model.__table__), rows)


def update_rows(s: Session, model, rows: list[dict]) -> None:
    """Update rows by id; every dict has the same keys: 'id' and the columns to set."""
    if not rows:
        return
    t = model.__table__
    cols = [k for k in rows[0] if k != "id"]
    stmt = update(t).where(t.c.id == bindparam("row_id")).values({c: bindparam(c) for c in cols})
    s.execute(stmt, [{"row_id": r["id"], **{c: r[c] for c in cols}} for r in rows])


def add_counts(s: Session, model, rows: list[dict]) -> None:
    """Insert each row, or add its count to the row with the same (source, source_key): one upsert."""
    if not rows:
        return
    t = model.__table__
    dialect = s.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as upsert
    else:
        from sqlalchemy.dialects.sqlite import insert as upsert
    stmt = upsert(t)
    stmt = stmt.on_conflict_do_update(index_elements=[t.c.source, t.c.source_key], set_={
        "count": t.c.count + stmt.excluded.count, "source_updated_at": stmt.excluded.source_updated_at,
        "loaded_at": stmt.excluded.loaded_at})
    s.execute(stmt, rows)


def record_places(s: Session, source: str, seen: dict[str, int], how: dict[str, tuple], now) -> None:
    """Count each raw place name of a batch and keep how it resolved (one upsert per name)."""
    from sitroom.store.models import PlaceName
    if not seen:
        return
    t = PlaceName.__table__
    upsert = _upsert(s)
    rows = []
    for raw, n in seen.items():
        region, bucket, province, rule, note, detail, _label = how[raw]
        rows.append({"source": source, "raw": raw[:100], "region": region, "bucket": bucket, "province": province,
                     "rule": rule, "note": (note or None) and note[:100], "detail": detail, "rows": n,
                     "first_seen": now, "last_seen": now})
    stmt = upsert(t)
    stmt = stmt.on_conflict_do_update(index_elements=[t.c.source, t.c.raw], set_={
        "rows": t.c.rows + stmt.excluded.rows, "last_seen": stmt.excluded.last_seen,
        **{c: stmt.excluded[c] for c in ("region", "bucket", "province", "rule", "note", "detail")}})
    s.execute(stmt, rows)


def _upsert(s: Session):
    if s.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as upsert
    else:
        from sqlalchemy.dialects.sqlite import insert as upsert
    return upsert
