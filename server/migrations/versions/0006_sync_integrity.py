"""Sync integrity: a user's previous team in the change log; record history

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-04 23:00:00.000000

`sync_changes.prev_team_id`: a user who changes team (or joins or leaves a
team's managers) is logged as a move with the team before, so that former
teammates remove them (issue 14). `record_history`: each write's changed
fields, old and new, with who wrote them. `uq_visits_one_open`: one open
visit (checked in, not out) per rep and customer.
"""
from alembic import op
import sqlalchemy as sa

import domain.types


# revision identifiers, used by Alembic.
revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('sync_changes', schema=None) as batch_op:
        batch_op.add_column(sa.Column('prev_team_id', sa.Uuid(), nullable=True))
    op.create_table(
        'record_history',
        sa.Column('seq', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
        sa.Column('table_name', sa.String(length=32), nullable=False),
        sa.Column('record_id', sa.Uuid(), nullable=False),
        sa.Column('op', sa.String(length=8), nullable=False),
        sa.Column('changes', sa.JSON(), nullable=False),
        sa.Column('user_id', sa.Uuid(), nullable=True),
        sa.Column('device_id', sa.String(length=200), nullable=True),
        sa.Column('mutation_id', sa.Uuid(), nullable=True),
        sa.Column('changed_at', domain.types.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint('seq', name=op.f('pk_record_history')),
    )
    op.create_index('ix_record_history_record', 'record_history', ['table_name', 'record_id', 'seq'])
    op.create_index(op.f('ix_record_history_changed_at'), 'record_history', ['changed_at'])
    _refuse_duplicate_open_visits()
    op.create_index(
        'uq_visits_one_open', 'visits', ['rep_id', 'customer_id'], unique=True,
        sqlite_where=sa.text(OPEN_VISIT), postgresql_where=sa.text(OPEN_VISIT),
    )


OPEN_VISIT = (
    "check_in_at IS NOT NULL AND check_out_at IS NULL AND deleted_at IS NULL"
    " AND status NOT IN ('completed', 'cancelled', 'missed')"
)


def _refuse_duplicate_open_visits():
    """Say which visits break the new rule rather than fail on an anonymous index error."""
    duplicates = op.get_bind().execute(sa.text(
        f"SELECT rep_id, customer_id, COUNT(*) FROM visits WHERE {OPEN_VISIT}"
        " GROUP BY rep_id, customer_id HAVING COUNT(*) > 1"
    )).all()
    if duplicates:
        listed = "; ".join(f"rep {r} at customer {c}: {n} open" for r, c, n in duplicates[:20])
        raise RuntimeError(
            "A rep may have one open visit per customer now. Check out or complete all but "
            f"one of these visits, then run the migration again: {listed}"
        )


def downgrade():
    op.drop_index('uq_visits_one_open', table_name='visits')
    op.drop_index(op.f('ix_record_history_changed_at'), table_name='record_history')
    op.drop_index('ix_record_history_record', table_name='record_history')
    op.drop_table('record_history')
    with op.batch_alter_table('sync_changes', schema=None) as batch_op:
        batch_op.drop_column('prev_team_id')
