"""seals on clips, fits, verdicts and decisions; the pinned key; revocations; append-only guards

Revision ID: 0007
Revises: 0006

The guards are triggers: a key pin and a revocation can be neither changed nor removed, a voice
profile's head only moves forward, and decisions and the audit log are append-only.
"""
import sqlalchemy as sa
from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

APPEND_ONLY = {  # table -> message
    'key_pins': 'a pinned key can be neither changed nor removed',
    'revocations': 'a revocation is final: it can be neither changed nor removed',
    'reviews': 'review decisions are append-only',
    'audit_log': 'the audit log is append-only',
}
HEAD_BACKWARDS = "(NEW.version < OLD.version OR (NEW.version = OLD.version AND NEW.head_hash <> OLD.head_hash))"
HEAD_MESSAGE = 'a voice profile head only moves forward'
PROFILE_KEPT = 'a voice profile cannot be removed'


def _sqlite_guards() -> list[str]:
    statements = []
    for table, message in APPEND_ONLY.items():
        for event in ('UPDATE', 'DELETE'):
            statements.append(f"CREATE TRIGGER {table}_no_{event.lower()} BEFORE {event} ON {table} "
                              f"BEGIN SELECT RAISE(ABORT, '{message}'); END")
    statements.append(f"CREATE TRIGGER voice_profiles_forward BEFORE UPDATE ON voice_profiles WHEN {HEAD_BACKWARDS} "
                      f"BEGIN SELECT RAISE(ABORT, '{HEAD_MESSAGE}'); END")
    statements.append(f"CREATE TRIGGER voice_profiles_no_delete BEFORE DELETE ON voice_profiles "
                      f"BEGIN SELECT RAISE(ABORT, '{PROFILE_KEPT}'); END")
    return statements


def _postgresql_guards() -> list[str]:
    statements = [
        "CREATE FUNCTION dubdesk_refuse() RETURNS trigger LANGUAGE plpgsql AS "
        "$$ BEGIN RAISE EXCEPTION '%', TG_ARGV[0]; END $$",
        f"CREATE FUNCTION dubdesk_head_forward() RETURNS trigger LANGUAGE plpgsql AS "
        f"$$ BEGIN IF {HEAD_BACKWARDS} THEN RAISE EXCEPTION '{HEAD_MESSAGE}'; END IF; RETURN NEW; END $$",
    ]
    for table, message in APPEND_ONLY.items():
        statements.append(f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                          f"FOR EACH ROW EXECUTE FUNCTION dubdesk_refuse('{message}')")
    statements.append("CREATE TRIGGER voice_profiles_forward BEFORE UPDATE ON voice_profiles "
                      "FOR EACH ROW EXECUTE FUNCTION dubdesk_head_forward()")
    statements.append(f"CREATE TRIGGER voice_profiles_no_delete BEFORE DELETE ON voice_profiles "
                      f"FOR EACH ROW EXECUTE FUNCTION dubdesk_refuse('{PROFILE_KEPT}')")
    return statements


def upgrade() -> None:
    op.create_table(
        'key_pins',
        sa.Column('name', sa.String(40), primary_key=True),
        sa.Column('fingerprint', sa.String(100), nullable=False),
        sa.Column('pinned_at', sa.DateTime(), nullable=False),
    )
    op.create_table(
        'revocations',
        sa.Column('profile_id', sa.String(80), primary_key=True),
        sa.Column('pcm_sha256', sa.JSON(), nullable=False),
        sa.Column('revoked_at', sa.DateTime(), nullable=False),
    )
    with op.batch_alter_table('clips', schema=None) as batch_op:
        for column in ('seal', 'fit_seal', 'qc_seal'):
            batch_op.add_column(sa.Column(column, sa.String(200), nullable=True))
    with op.batch_alter_table('reviews', schema=None) as batch_op:
        batch_op.add_column(sa.Column('seal', sa.String(200), nullable=True))
    guards = _postgresql_guards() if op.get_bind().dialect.name == 'postgresql' else _sqlite_guards()
    for statement in guards:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        for table in APPEND_ONLY:
            op.execute(f"DROP TRIGGER {table}_append_only ON {table}")
        op.execute("DROP TRIGGER voice_profiles_forward ON voice_profiles")
        op.execute("DROP TRIGGER voice_profiles_no_delete ON voice_profiles")
        op.execute("DROP FUNCTION dubdesk_refuse(); DROP FUNCTION dubdesk_head_forward()")
    else:
        for table in APPEND_ONLY:
            op.execute(f"DROP TRIGGER {table}_no_update")
            op.execute(f"DROP TRIGGER {table}_no_delete")
        op.execute("DROP TRIGGER voice_profiles_forward")
        op.execute("DROP TRIGGER voice_profiles_no_delete")
    with op.batch_alter_table('reviews', schema=None) as batch_op:
        batch_op.drop_column('seal')
    with op.batch_alter_table('clips', schema=None) as batch_op:
        for column in ('qc_seal', 'fit_seal', 'seal'):
            batch_op.drop_column(column)
    op.drop_table('revocations')
    op.drop_table('key_pins')
