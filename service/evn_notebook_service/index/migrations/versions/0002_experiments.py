"""What the catalogue says of each experiment: its targets (for search), the embargo.

Revision ID: 0002_experiments
Revises: 0001_initial
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_experiments"
down_revision = "0001_initial"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "experiments",
        sa.Column("experiment", sa.String(64), primary_key=True),
        sa.Column("observation", sa.Text, nullable=False),
        sa.Column("public_from", sa.String(32), nullable=True),
        sa.Column("released", sa.Boolean, nullable=False),
    )
    op.create_index("ix_experiments_public_from", "experiments", ["public_from"])
    op.create_table(
        "experiment_targets",
        sa.Column("experiment", sa.String(64), nullable=False),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("name", sa.String(256), nullable=False),
        sa.Column("name_key", sa.String(256), nullable=False),
        sa.Column("ra", sa.Float, nullable=True),
        sa.Column("dec", sa.Float, nullable=True),
        sa.Column("x", sa.Float, nullable=True),
        sa.Column("y", sa.Float, nullable=True),
        sa.Column("z", sa.Float, nullable=True),
        sa.PrimaryKeyConstraint("experiment", "position", name="pk_experiment_targets"),
    )


def downgrade() -> None:
    op.drop_index("ix_experiments_public_from", table_name="experiments")
    op.drop_table("experiment_targets")
    op.drop_table("experiments")
