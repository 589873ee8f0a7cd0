"""title clearances, their revocations, input rights; a project's purpose and what AI did in it

Revision ID: 0012
Revises: 0011

Guarded like voice consent (0007): a clearance's head only moves forward and is never removed, and a
clearance revocation and the input-rights log can be neither changed nor removed. The functions
dubdesk_refuse and dubdesk_head_forward of 0007 serve PostgreSQL here too.
"""
import sqlalchemy as sa
from alembic import op

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None

APPEND_ONLY = {  # table -> message
    'clearance_revocations': 'a clearance revocation is final: it can be neither changed nor removed',
    'input_rights': 'input rights are append-only: record a new status instead',
}
HEAD_BACKWARDS = "(NEW.version < OLD.version OR (NEW.version = OLD.version AND NEW.head_hash <> OLD.head_hash))"
HEAD_MESSAGE = 'a clearance head only moves forward'
KEPT = 'a title clearance cannot be removed'


def _sqlite_guards() -> list[str]:
    statements = [f"CREATE TRIGGER {table}_no_{event.lower()} BEFORE {event} ON {table} "
                  f"BEGIN SELECT RAISE(ABORT, '{message}'); END"
                  for table, message in APPEND_ONLY.items() for event in ('UPDATE', 'DELETE')]
    statements.append(f"CREATE TRIGGER clearances_forward BEFORE UPDATE ON clearances WHEN {HEAD_BACKWARDS} "
                      f"BEGIN SELECT RAISE(ABORT, '{HEAD_MESSAGE}'); END")
    statements.append(f"CREATE TRIGGER clearances_no_delete BEFORE DELETE ON clearances "
                      f"BEGIN SELECT RAISE(ABORT, '{KEPT}'); END")
    return statements


def _postgresql_guards() -> list[str]:
    statements = [f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                  f"FOR EACH ROW EXECUTE FUNCTION dubdesk_refuse('{message}')" for table, message in APPEND_ONLY.items()]
    statements.append("CREATE TRIGGER clearances_forward BEFORE UPDATE ON clearances "
                      "FOR EACH ROW EXECUTE FUNCTION dubdesk_head_forward()")
    statements.append(f"CREATE TRIGGER clearances_no_delete BEFORE DELETE ON clearances "
                      f"FOR EACH ROW EXECUTE FUNCTION dubdesk_refuse('{KEPT}')")
    return statements


def upgrade() -> None:
    op.create_table(
        'clearances',
        sa.Column('id', sa.String(80), primary_key=True),
        sa.Column('project_id', sa.Integer(), sa.ForeignKey('projects.id'), nullable=False, index=True),
        sa.Column('head_hash', sa.String(64), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.Column('updated_at', sa.DateTime(), nullable=False),
    )
    op.create_table(
        'clearance_revocations',
        sa.Column('clearance_id', sa.String(80), primary_key=True),
        sa.Column('revoked_at', sa.DateTime(), nullable=False),
    )
    op.create_table(
        'input_rights',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('project_id', sa.Integer(), sa.ForeignKey('projects.id', ondelete='CASCADE'), nullable=False,
                  index=True),
        sa.Column('input', sa.String(300), nullable=False),
        sa.Column('owner', sa.String(300), nullable=False),
        sa.Column('cleared', sa.Boolean(), nullable=False),
        sa.Column('note', sa.String(2000), nullable=False),
        sa.Column('document_ref', sa.String(500), nullable=False),
        sa.Column('document_sha256', sa.String(64), nullable=True),
        sa.Column('recorded_by', sa.String(200), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('seal', sa.String(200), nullable=True),
    )
    # plain ADD COLUMNs (no table rebuild), so the triggers of 0007 on other tables are untouched
    op.add_column('projects', sa.Column('purpose', sa.String(2000), nullable=True))
    op.add_column('projects', sa.Column('ai_uses', sa.JSON(), nullable=False, server_default='[]'))
    guards = _postgresql_guards() if op.get_bind().dialect.name == 'postgresql' else _sqlite_guards()
    for statement in guards:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        for table in APPEND_ONLY:
            op.execute(f"DROP TRIGGER {table}_append_only ON {table}")
        op.execute("DROP TRIGGER clearances_forward ON clearances")
        op.execute("DROP TRIGGER clearances_no_delete ON clearances")
    else:
        for table in APPEND_ONLY:
            op.execute(f"DROP TRIGGER {table}_no_update")
            op.execute(f"DROP TRIGGER {table}_no_delete")
        op.execute("DROP TRIGGER clearances_forward")
        op.execute("DROP TRIGGER clearances_no_delete")
    with op.batch_alter_table('projects', schema=None) as batch_op:
        batch_op.drop_column('ai_uses')
        batch_op.drop_column('purpose')
    op.drop_table('input_rights')
    op.drop_table('clearance_revocations')
    op.drop_table('clearances')
