"""conflict inbox: patient_conflict

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "patient_conflict",
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("patient_id", sa.Uuid(), nullable=False),
        sa.Column("other_patient_id", sa.Uuid(), nullable=True),
        sa.Column("fields", sa.JSON(), nullable=False),
        sa.Column("reasons", sa.JSON(), nullable=False),
        sa.Column("source_client", sa.String(length=64), nullable=False),
        sa.Column("source_username", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("resolution", sa.String(length=20), nullable=True),
        sa.Column("resolved_by", sa.String(length=64), nullable=True),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("row_version", sa.Integer(), nullable=False),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patient.id"], name=op.f("fk_patient_conflict_patient_id_patient")
        ),
        sa.ForeignKeyConstraint(
            ["other_patient_id"],
            ["patient.id"],
            name=op.f("fk_patient_conflict_other_patient_id_patient"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_patient_conflict")),
    )
    op.create_index(
        op.f("ix_patient_conflict_patient_id"), "patient_conflict", ["patient_id"], unique=False
    )
    op.create_index(
        op.f("ix_patient_conflict_status"), "patient_conflict", ["status"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_patient_conflict_status"), table_name="patient_conflict")
    op.drop_index(op.f("ix_patient_conflict_patient_id"), table_name="patient_conflict")
    op.drop_table("patient_conflict")
