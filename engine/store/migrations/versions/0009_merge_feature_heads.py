"""join the mail intake, web session and SLA clock branches into one head

The three were written side by side on top of 0004; from here on a new migration has one
parent again.

Revision ID: 0009
Revises: 0005, 0006, 0008
"""

revision = "0009"
down_revision = ("0005", "0006", "0008")
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Nothing to change: the branches touch different tables."""


def downgrade() -> None:
    """Nothing to undo."""
