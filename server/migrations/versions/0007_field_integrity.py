"""Field integrity: customer locations a manager approves, mocked check-ins

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-05 02:00:00.000000

`customers.location_approved` (existing coordinates count as approved: they were
set before reps could only propose) and `proposed_*`: a rep's new location for a
customer, waiting for a manager. `visits.check_in_mocked`: the phone's
mock-location signal. Both tables' stored pull JSON is reset, so that
`fieldsync init-db` rebuilds it with the new fields (see 0005).
"""
from alembic import op
import sqlalchemy as sa

import domain.types


# revision identifiers, used by Alembic.
revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('customers', schema=None) as batch_op:
        batch_op.add_column(sa.Column(
            'location_approved', sa.Boolean(), nullable=False, server_default=sa.true()
        ))
        batch_op.add_column(sa.Column('proposed_lat', sa.Float(), nullable=True))
        batch_op.add_column(sa.Column('proposed_lon', sa.Float(), nullable=True))
        batch_op.add_column(sa.Column('proposed_by', sa.Uuid(), nullable=True))
        batch_op.add_column(sa.Column('proposed_at', domain.types.UTCDateTime(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f('fk_customers_proposed_by_users'), 'users', ['proposed_by'], ['id']
        )
    with op.batch_alter_table('customers', schema=None) as batch_op:
        batch_op.alter_column('location_approved', server_default=None)
    with op.batch_alter_table('visits', schema=None) as batch_op:
        batch_op.add_column(sa.Column('check_in_mocked', sa.Boolean(), nullable=True))
    op.execute("UPDATE customers SET sync_json = NULL")
    op.execute("UPDATE visits SET sync_json = NULL")


def downgrade():
    with op.batch_alter_table('visits', schema=None) as batch_op:
        batch_op.drop_column('check_in_mocked')
    with op.batch_alter_table('customers', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_customers_proposed_by_users'), type_='foreignkey')
        for column in ('proposed_at', 'proposed_by', 'proposed_lon', 'proposed_lat'):
            batch_op.drop_column(column)
        batch_op.drop_column('location_approved')
    op.execute("UPDATE customers SET sync_json = NULL")
    op.execute("UPDATE visits SET sync_json = NULL")
