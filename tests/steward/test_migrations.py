"""The Alembic migrations are the only way the schema is made, on SQLite and PostgreSQL alike."""

import pytest
from sqlalchemy import inspect

from steward.store.database import downgrade, is_migrated, make_engine, upgrade
from steward.store.models import Base


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_migrations_upgrade_to_the_models_and_downgrade_to_nothing(backend, empty_database_url):
    engine = make_engine(empty_database_url(backend))
    assert not is_migrated(engine)

    upgrade(engine)
    assert is_migrated(engine)
    tables = set(inspect(engine).get_table_names())
    assert set(Base.metadata.tables) <= tables
    for name, table in Base.metadata.tables.items():
        columns = {column["name"] for column in inspect(engine).get_columns(name)}
        assert columns == set(table.columns.keys()), name

    downgrade(engine, "base")
    assert not is_migrated(engine)
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}

    upgrade(engine)
    assert is_migrated(engine)
    engine.dispose()


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_a_database_past_the_placeholders_that_landed_empty_gets_their_tables(backend,
                                                                              empty_database_url):
    """A deployment migrated when 0009–0012 were empty placeholders is at 0012 already: the tables
    their issues need come from a later revision, or it would never get them."""
    engine = make_engine(empty_database_url(backend))
    upgrade(engine, "0012")
    assert not {"equipment", "device_signatures", "drill_schedules"} & set(inspect(engine).get_table_names())

    upgrade(engine)
    assert {"equipment", "device_signatures", "drill_schedules"} <= set(inspect(engine).get_table_names())
    assert "equipment_id" in {column["name"] for column in inspect(engine).get_columns("cases")}
    engine.dispose()
