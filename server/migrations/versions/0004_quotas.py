"""Quotas: per-rep monthly revenue and visit targets

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-24 09:00:00.000000

"""
from alembic import op
import sqlalchemy as sa

import domain.types


# revision identifiers, used by Alembic.
revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('quotas',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('rep_id', sa.Uuid(), nullable=False),
    sa.Column('month', sa.Date(), nullable=False),
    sa.Column('revenue_target', domain.types.Money(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('visits_target', sa.Integer(), nullable=False),
    sa.Column('created_at', domain.types.UTCDateTime(), nullable=False),
    sa.Column('updated_at', domain.types.UTCDateTime(), nullable=False),
    sa.Column('updated_by', sa.Uuid(), nullable=True),
    sa.ForeignKeyConstraint(['rep_id'], ['users.id'], name=op.f('fk_quotas_rep_id_users'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['updated_by'], ['users.id'], name=op.f('fk_quotas_updated_by_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_quotas')),
    sa.UniqueConstraint('rep_id', 'month', name=op.f('uq_quotas_rep_id'))
    )
    with op.batch_alter_table('quotas', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_quotas_month'), ['month'], unique=False)


def downgrade():
    with op.batch_alter_table('quotas', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_quotas_month'))

    op.drop_table('quotas')
