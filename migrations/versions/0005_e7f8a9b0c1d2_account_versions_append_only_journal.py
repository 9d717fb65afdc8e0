"""Optimistic locking on accounts (users.version); the journal refuses updates of its content.

Revision ID: e7f8a9b0c1d2
Revises: d5e6f7a8b9c0
Create Date: 2026-11-27 04:20:00
"""

import sqlalchemy as sa
from alembic import op

revision = "e7f8a9b0c1d2"
down_revision = "d5e6f7a8b9c0"
branch_labels = None
depends_on = None

# The content columns: user_id may still be set to NULL when an account is deleted.
JOURNAL_CONTENT = ", ".join(
    f'"{name}"'
    for name in (
        "at",
        "establishment_id",
        "record_type",
        "record_id",
        "operation",
        "field",
        "before",
        "after",
    )
)
REFUSAL = "the journal is append-only"


def upgrade():
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("version", sa.Integer(), nullable=False, server_default=sa.text("1"))
        )
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.alter_column("version", server_default=None)

    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            f"""
            CREATE FUNCTION journal_refuse_update() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                RAISE EXCEPTION '{REFUSAL}' USING ERRCODE = 'restrict_violation';
            END $$;
            """
        )
        op.execute(
            f"""
            CREATE TRIGGER journal_append_only BEFORE UPDATE OF {JOURNAL_CONTENT}
            ON journal FOR EACH ROW EXECUTE FUNCTION journal_refuse_update();
            """
        )
    else:
        op.execute(
            f"""
            CREATE TRIGGER journal_append_only BEFORE UPDATE OF {JOURNAL_CONTENT} ON journal
            BEGIN SELECT RAISE(ABORT, '{REFUSAL}'); END;
            """
        )


def downgrade():
    op.execute(
        "DROP TRIGGER IF EXISTS journal_append_only"
        + (" ON journal" if op.get_bind().dialect.name == "postgresql" else "")
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS journal_refuse_update()")
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("version")
