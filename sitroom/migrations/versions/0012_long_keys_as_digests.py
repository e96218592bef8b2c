"""long source keys as the loader now keys them: a head and a digest

Before 0012 a fact table kept a source key of up to 200 characters whole (quarantine cut it at 128);
the loader now keys every table alike (loaders.limits.store_key): a key over 128 characters, or one
that is not clean text, becomes a readable head and a digest of the whole key. Without this rewrite
the next read of such a row would insert it beside the row stored before, and count it twice.
The rule is written out here as it stood at 0012, so a later change to the loader cannot change
what this migration did.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-01
"""
import hashlib

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

FACTS = ("case_daily", "clinics", "clinic_visits", "supply_points", "supply_stock", "inflows")  # VARCHAR(200) keys
LIMIT, DIGEST = 128, 16


def _store_key(key: str) -> str:
    tail = "…#" + hashlib.blake2b(key.encode("utf-8", "surrogatepass"), digest_size=DIGEST).hexdigest()
    return key.replace("\x00", "\ufffd")[:LIMIT - len(tail)] + tail


def upgrade() -> None:
    c = op.get_bind()
    for table in FACTS:
        t = sa.table(table, sa.column("id"), sa.column("source_key"))
        long_ = c.execute(sa.select(t.c.id, t.c.source_key).where(sa.func.length(t.c.source_key) > LIMIT)).all()
        for id_, key in long_:
            c.execute(sa.update(t).where(t.c.id == id_).values(source_key=_store_key(key)))


def downgrade() -> None:
    pass   # a digest cannot be turned back into its key; the rows stay as they are
