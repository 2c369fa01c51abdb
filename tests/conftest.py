"""Shared fixtures: databases on SQLite and PostgreSQL, and dialogs with the bot's commands."""

from __future__ import annotations

import logging
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlmodel import SQLModel

from commands.core import i18n
from storage.db import Database
from storage.migrate import upgrade
from tests.dialog import Dialog

# Where the PostgreSQL tests create their throwaway database (trust auth on this machine).
PG_ADMIN_URL = os.environ.get(
    "GREMIENBOT_TEST_PG_URL", "postgresql+psycopg2://postgres@127.0.0.1:5432/test"
)


class _Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.msg == i18n.FALLBACK_WARNING:
            self.records.append(record)


@pytest.fixture(autouse=True)
def catalogue_fallbacks() -> Iterator[list[logging.LogRecord]]:
    """Fails a test in which a text was missing in the room's catalogue.

    At run time the bot answers such a gap in German rather than not at all; in a test
    that would let an English text go missing unnoticed.
    """
    handler = _Records()
    logger = logging.getLogger(i18n.__name__)
    logger.addHandler(handler)
    try:
        yield handler.records
    finally:
        logger.removeHandler(handler)
    if handler.records:
        pytest.fail("catalogue gap: " + "; ".join(r.getMessage() for r in handler.records))


@pytest.fixture(scope="session")
def sqlite_database(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Database]:
    path = Path(tmp_path_factory.mktemp("sqlite")) / "gremienbot.db"
    db = Database(f"sqlite:///{path}")
    upgrade(db.engine)
    yield db
    db.dispose()


@pytest.fixture(scope="session")
def postgresql_database() -> Iterator[Database]:
    name = f"gremienbot_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # never skip silently: PostgreSQL is part of the suite
        pytest.fail(f"PostgreSQL at {PG_ADMIN_URL} is not usable: {exc}")
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    db = Database(url)
    upgrade(db.engine)
    yield db
    db.dispose()
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _empty(db: Database) -> None:
    import storage.models  # noqa: F401  (all tables on the metadata)

    with db.engine.begin() as conn:
        for table in reversed(SQLModel.metadata.sorted_tables):
            conn.execute(table.delete())


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "postgresql: runs on PostgreSQL (`scripts/test --fast` deselects it)"
    )


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # Tests asking for PostgreSQL by name; those on both backends are marked by `db`'s param.
    for item in items:
        if "postgresql_database" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.postgresql)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgresql)])
def db(request: pytest.FixtureRequest) -> Iterator[Database]:
    """A migrated, empty database: every test using it runs on SQLite and on PostgreSQL."""
    database: Database = request.getfixturevalue(f"{request.param}_database")
    _empty(database)
    yield database
    _empty(database)


@pytest.fixture
def sqlite_db(sqlite_database: Database) -> Iterator[Database]:
    """SQLite only, for the many dialog tests whose storage is covered on both elsewhere."""
    _empty(sqlite_database)
    yield sqlite_database
    _empty(sqlite_database)


@pytest.fixture
def dialog(sqlite_db: Database) -> Dialog:
    return Dialog(sqlite_db)


@pytest.fixture
def dialog_both(db: Database) -> Dialog:
    """A dialog on SQLite and on PostgreSQL."""
    return Dialog(db)
