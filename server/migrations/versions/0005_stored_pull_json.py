"""Stored pull JSON: each record's JSON as pulls send it

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23 19:00:00.000000

The column starts NULL; `fieldsync init-db` fills it after upgrading, and a
pull builds the JSON of a row whose column is still NULL. A later migration
that changes what a record's JSON holds sets the column back to NULL for its
table (one UPDATE), and `init-db` rebuilds it.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

TABLES = ('customers', 'contacts', 'products', 'visits', 'orders', 'tasks', 'route_plans')


def upgrade():
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column('sync_json', sa.Text(), nullable=True))


def downgrade():
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column('sync_json')
