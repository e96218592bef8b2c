"""four feeds: aggregates, clinics, supply, inflows

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23
"""
from alembic import op
import sqlalchemy as sa


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('case_daily',
    sa.Column('region', sa.String(length=6), nullable=False),
    sa.Column('bucket', sa.String(length=16), nullable=True),
    sa.Column('prefecture', sa.String(length=6), nullable=True),
    sa.Column('province', sa.String(length=6), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('counting', sa.String(length=12), nullable=False),
    sa.Column('confirmed', sa.Integer(), nullable=True),
    sa.Column('suspected', sa.Integer(), nullable=True),
    sa.Column('asymptomatic', sa.Integer(), nullable=True),
    sa.Column('cured', sa.Integer(), nullable=True),
    sa.Column('dead', sa.Integer(), nullable=True),
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('source', sa.String(length=64), nullable=False),
    sa.Column('source_key', sa.String(length=200), nullable=False),
    sa.Column('source_updated_at', sa.DateTime(), nullable=False),
    sa.Column('loaded_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('source', 'source_key', name='uq_case_daily_source_key')
    )
    with op.batch_alter_table('case_daily', schema=None) as batch_op:
        batch_op.create_index('ix_case_daily_prefecture_day', ['prefecture', 'day'], unique=False)
        batch_op.create_index('ix_case_daily_province_day', ['province', 'day'], unique=False)
        batch_op.create_index('ix_case_daily_region_day', ['region', 'day'], unique=False)

    op.create_table('clinic_visits',
    sa.Column('clinic_source', sa.String(length=64), nullable=False),
    sa.Column('clinic', sa.String(length=200), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.Column('visits', sa.Integer(), nullable=False),
    sa.Column('fever', sa.Integer(), nullable=True),
    sa.Column('referred', sa.Integer(), nullable=True),
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('source', sa.String(length=64), nullable=False),
    sa.Column('source_key', sa.String(length=200), nullable=False),
    sa.Column('source_updated_at', sa.DateTime(), nullable=False),
    sa.Column('loaded_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('source', 'source_key', name='uq_clinic_visits_source_key')
    )
    with op.batch_alter_table('clinic_visits', schema=None) as batch_op:
        batch_op.create_index('ix_clinic_visits_at', ['at'], unique=False)
        batch_op.create_index('ix_clinic_visits_clinic_source_clinic_at', ['clinic_source', 'clinic', 'at'], unique=False)

    op.create_table('clinics',
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('address', sa.String(length=300), nullable=True),
    sa.Column('lon', sa.Float(), nullable=False),
    sa.Column('lat', sa.Float(), nullable=False),
    sa.Column('region', sa.String(length=6), nullable=False),
    sa.Column('prefecture', sa.String(length=6), nullable=False),
    sa.Column('province', sa.String(length=6), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('capacity', sa.Integer(), nullable=True),
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('source', sa.String(length=64), nullable=False),
    sa.Column('source_key', sa.String(length=200), nullable=False),
    sa.Column('source_updated_at', sa.DateTime(), nullable=False),
    sa.Column('loaded_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('source', 'source_key', name='uq_clinics_source_key')
    )
    with op.batch_alter_table('clinics', schema=None) as batch_op:
        batch_op.create_index('ix_clinics_prefecture', ['prefecture'], unique=False)
        batch_op.create_index('ix_clinics_region', ['region'], unique=False)

    op.create_table('inflows',
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('origin', sa.String(length=100), nullable=False),
    sa.Column('region', sa.String(length=6), nullable=False),
    sa.Column('prefecture', sa.String(length=6), nullable=False),
    sa.Column('province', sa.String(length=6), nullable=False),
    sa.Column('mode', sa.String(length=8), nullable=True),
    sa.Column('stayed', sa.Boolean(), nullable=True),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('source', sa.String(length=64), nullable=False),
    sa.Column('source_key', sa.String(length=200), nullable=False),
    sa.Column('source_updated_at', sa.DateTime(), nullable=False),
    sa.Column('loaded_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('source', 'source_key', name='uq_inflows_source_key')
    )
    with op.batch_alter_table('inflows', schema=None) as batch_op:
        batch_op.create_index('ix_inflows_day', ['day'], unique=False)
        batch_op.create_index('ix_inflows_prefecture_day', ['prefecture', 'day'], unique=False)
        batch_op.create_index('ix_inflows_region_day', ['region', 'day'], unique=False)

    op.create_table('supply_points',
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('lon', sa.Float(), nullable=False),
    sa.Column('lat', sa.Float(), nullable=False),
    sa.Column('region', sa.String(length=6), nullable=False),
    sa.Column('prefecture', sa.String(length=6), nullable=False),
    sa.Column('province', sa.String(length=6), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('source', sa.String(length=64), nullable=False),
    sa.Column('source_key', sa.String(length=200), nullable=False),
    sa.Column('source_updated_at', sa.DateTime(), nullable=False),
    sa.Column('loaded_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('source', 'source_key', name='uq_supply_points_source_key')
    )
    with op.batch_alter_table('supply_points', schema=None) as batch_op:
        batch_op.create_index('ix_supply_points_kind', ['kind'], unique=False)
        batch_op.create_index('ix_supply_points_prefecture', ['prefecture'], unique=False)

    op.create_table('supply_stock',
    sa.Column('point_source', sa.String(length=64), nullable=False),
    sa.Column('point', sa.String(length=200), nullable=False),
    sa.Column('item', sa.String(length=32), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.Column('stock', sa.Float(), nullable=False),
    sa.Column('daily_consumption', sa.Float(), nullable=False),
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('source', sa.String(length=64), nullable=False),
    sa.Column('source_key', sa.String(length=200), nullable=False),
    sa.Column('source_updated_at', sa.DateTime(), nullable=False),
    sa.Column('loaded_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('source', 'source_key', name='uq_supply_stock_source_key')
    )
    with op.batch_alter_table('supply_stock', schema=None) as batch_op:
        batch_op.create_index('ix_supply_stock_day', ['day'], unique=False)
        batch_op.create_index('ix_supply_stock_point_source_point_item_day', ['point_source', 'point', 'item', 'day'], unique=False)

    op.create_table('travel_seen',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('source', sa.String(length=64), nullable=False),
    sa.Column('newest', sa.DateTime(), nullable=False),
    sa.Column('digests', sa.LargeBinary(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('travel_seen', schema=None) as batch_op:
        batch_op.create_index('ix_travel_seen_source_id', ['source', 'id'], unique=False)

    with op.batch_alter_table('case_reports', schema=None) as batch_op:
        batch_op.add_column(sa.Column('imported_from', sa.String(length=64), nullable=True))



def downgrade() -> None:
    with op.batch_alter_table('case_reports', schema=None) as batch_op:
        batch_op.drop_column('imported_from')

    with op.batch_alter_table('travel_seen', schema=None) as batch_op:
        batch_op.drop_index('ix_travel_seen_source_id')

    op.drop_table('travel_seen')
    with op.batch_alter_table('supply_stock', schema=None) as batch_op:
        batch_op.drop_index('ix_supply_stock_point_source_point_item_day')
        batch_op.drop_index('ix_supply_stock_day')

    op.drop_table('supply_stock')
    with op.batch_alter_table('supply_points', schema=None) as batch_op:
        batch_op.drop_index('ix_supply_points_prefecture')
        batch_op.drop_index('ix_supply_points_kind')

    op.drop_table('supply_points')
    with op.batch_alter_table('inflows', schema=None) as batch_op:
        batch_op.drop_index('ix_inflows_region_day')
        batch_op.drop_index('ix_inflows_prefecture_day')
        batch_op.drop_index('ix_inflows_day')

    op.drop_table('inflows')
    with op.batch_alter_table('clinics', schema=None) as batch_op:
        batch_op.drop_index('ix_clinics_region')
        batch_op.drop_index('ix_clinics_prefecture')

    op.drop_table('clinics')
    with op.batch_alter_table('clinic_visits', schema=None) as batch_op:
        batch_op.drop_index('ix_clinic_visits_clinic_source_clinic_at')
        batch_op.drop_index('ix_clinic_visits_at')

    op.drop_table('clinic_visits')
    with op.batch_alter_table('case_daily', schema=None) as batch_op:
        batch_op.drop_index('ix_case_daily_region_day')
        batch_op.drop_index('ix_case_daily_province_day')
        batch_op.drop_index('ix_case_daily_prefecture_day')

    op.drop_table('case_daily')
