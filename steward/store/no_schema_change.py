"""The upgrade and downgrade of a revision that changes no schema.

Such a revision keeps the chain of revisions the same on every branch (a number taken by work that
landed without tables, or whose tables a later revision makes); it must never gain a change, since
databases have already recorded it as applied.
"""


def upgrade() -> None:
    """Nothing to change."""


def downgrade() -> None:
    """Nothing to undo."""
