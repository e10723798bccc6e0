"""Sessions that end: each spent refresh token names its successor

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-05 10:00:00.000000

`refresh_tokens.replaced_by`: the token a refresh issued for this one, so that
a retry of a refresh whose answer was lost gets the same successor (issue 15,
ADR 0018). Sessions of users who are already disabled or deleted are ended
now (`disabled`, `deleted`): from this revision on, a write that disables,
deletes or changes the password of a user ends their sessions, and
re-enabling an account must not revive sessions left open before it.
"""
from datetime import datetime, timezone

from alembic import op
import sqlalchemy as sa

import domain.types


# revision identifiers, used by Alembic.
revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('refresh_tokens', schema=None) as batch_op:
        batch_op.add_column(sa.Column('replaced_by', sa.Uuid(), nullable=True))
        batch_op.create_index(batch_op.f('ix_refresh_tokens_replaced_by'), ['replaced_by'], unique=False)
        batch_op.create_foreign_key(
            batch_op.f('fk_refresh_tokens_replaced_by_refresh_tokens'),
            'refresh_tokens', ['replaced_by'], ['id'], ondelete='SET NULL',
        )
    _end_sessions_of_closed_accounts()


def _end_sessions_of_closed_accounts():
    users = sa.table('users', sa.column('id', sa.Uuid()), sa.column('active', sa.Boolean()),
                     sa.column('deleted_at', domain.types.UTCDateTime()))
    sessions = sa.table('device_sessions', sa.column('user_id', sa.Uuid()),
                        sa.column('ended_at', domain.types.UTCDateTime()),
                        sa.column('end_reason', sa.String(20)))
    now = datetime.now(timezone.utc)
    closed = {
        'deleted': users.c.deleted_at.is_not(None),
        'disabled': sa.and_(users.c.deleted_at.is_(None), users.c.active == sa.false()),
    }
    for reason, condition in closed.items():
        op.execute(
            sessions.update()
            .where(sessions.c.ended_at.is_(None),
                   sessions.c.user_id.in_(sa.select(users.c.id).where(condition)))
            .values(ended_at=now, end_reason=reason)
        )


def downgrade():
    with op.batch_alter_table('refresh_tokens', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_refresh_tokens_replaced_by_refresh_tokens'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_refresh_tokens_replaced_by'))
        batch_op.drop_column('replaced_by')
