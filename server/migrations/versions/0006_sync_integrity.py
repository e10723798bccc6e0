"""Sync integrity: a user's previous team and each record's history in the change log

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-04 23:00:00.000000

`sync_changes.prev_team_id`: a user who changes team (or joins or leaves a
team's managers) is logged as a move with the team before, so that former
teammates remove them (issue 14). `changes`, `version`, `user_id`,
`device_id`, `mutation_id`: each write's changed fields, old and new, and who
wrote them (the record's history, `ix_sync_changes_record` to read it).
`uq_visits_one_open`: one open visit (checked in, not out) per rep and customer.
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
        batch_op.add_column(sa.Column('changes', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('version', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('user_id', sa.Uuid(), nullable=True))
        batch_op.add_column(sa.Column('device_id', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('mutation_id', sa.Uuid(), nullable=True))
        batch_op.create_index('ix_sync_changes_record', ['record_id', 'seq'])
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
    with op.batch_alter_table('sync_changes', schema=None) as batch_op:
        batch_op.drop_index('ix_sync_changes_record')
        for column in ('mutation_id', 'device_id', 'user_id', 'version', 'changes'):
            batch_op.drop_column(column)
        batch_op.drop_column('prev_team_id')
