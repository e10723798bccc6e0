"""Accounts and field integrity: folded emails, approved customer locations, mocked check-ins

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-05 02:00:00.000000

`customers.location_approved` (existing coordinates count as approved: they were
set before reps could only propose) and `proposed_*`: a rep's new location for a
customer, waiting for a manager. `visits.check_in_mocked`: the phone's
mock-location signal. Both tables' stored pull JSON is reset, so that
`fieldsync init-db` rebuilds it with the new fields (see 0005). Users' emails
are folded as the service now compares them (NFKC, case folded): a stored
email that folds to another is renamed in place, with a change-log row so that
phones learn it; two accounts that fold to one stop the migration, naming
them, for an admin to rename one first. (Folding uses `domain.text` as it is
when this runs; all-ASCII emails never change.)
"""
from datetime import datetime, timezone

from alembic import op
import sqlalchemy as sa

import domain.types


# revision identifiers, used by Alembic.
revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade():
    _fold_emails()
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


def _fold_emails():
    from domain.text import fold_email, search_key

    conn = op.get_bind()
    users = sa.table(
        'users', sa.column('id', sa.Uuid()), sa.column('email', sa.String()),
        sa.column('name', sa.String()), sa.column('search_text', sa.String()),
        sa.column('version', sa.Integer()), sa.column('updated_at', domain.types.UTCDateTime()),
    )
    changes = sa.table(
        'sync_changes', sa.column('table_name', sa.String()), sa.column('record_id', sa.Uuid()),
        sa.column('kind', sa.String()), sa.column('changed_at', domain.types.UTCDateTime()),
        sa.column('changes', sa.JSON()), sa.column('version', sa.Integer()),
    )
    rows = conn.execute(sa.select(users.c.id, users.c.email, users.c.name, users.c.version)).all()
    owners = {}
    for row in rows:
        owners.setdefault(fold_email(row.email), []).append(row)
    clashes = {email: found for email, found in owners.items() if len(found) > 1}
    if clashes:
        listed = "; ".join(
            f"{email}: " + ", ".join(f"{r.email} ({r.id})" for r in found)
            for email, found in list(clashes.items())[:20]
        )
        raise RuntimeError(
            "These accounts' emails are one email now (compared folded): rename all but one "
            f"of each, then run the migration again: {listed}"
        )
    now = datetime.now(timezone.utc)
    for row in rows:
        folded = fold_email(row.email)
        if folded == row.email:
            continue
        conn.execute(users.update().where(users.c.id == row.id).values(
            email=folded, search_text=search_key(row.name, folded),
            version=row.version + 1, updated_at=now,
        ))
        conn.execute(changes.insert().values(
            table_name='users', record_id=row.id, kind='update', changed_at=now,
            changes={'email': [row.email, folded]}, version=row.version + 1,
        ))


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
