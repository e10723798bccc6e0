"""Sync integrity: a user's previous team in the change log

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-04 23:00:00.000000

`sync_changes.prev_team_id`: a user who changes team (or joins or leaves a
team's managers) is logged as a move with the team before, so that former
teammates remove them (issue 14).
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('sync_changes', schema=None) as batch_op:
        batch_op.add_column(sa.Column('prev_team_id', sa.Uuid(), nullable=True))


def downgrade():
    with op.batch_alter_table('sync_changes', schema=None) as batch_op:
        batch_op.drop_column('prev_team_id')
