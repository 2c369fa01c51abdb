"""Bring a database to the newest schema with Alembic (used by `migrate` and at start-up).

Alembic is imported only when there is something to migrate: a bot restarted on an
up-to-date database (nearly every start) is spared its 10 MB of resident memory.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import inspect, text
from sqlalchemy.engine import Engine

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).parent / "migrations"
# The newest migration; tests/storage/test_foundation_storage.py checks it against Alembic's.
HEAD = "0012"


def _config(engine: Engine) -> Config:
    from alembic.config import Config  # lazy: Alembic only when migrating (see above)

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["engine"] = engine
    return cfg


def upgrade(engine: Engine, revision: str = "head") -> None:
    if revision == "head" and stored_revision(engine) == HEAD:
        return
    from alembic import command  # lazy: Alembic only when migrating (see above)

    command.upgrade(_config(engine), revision)


def downgrade(engine: Engine, revision: str) -> None:
    from alembic import command  # lazy: Alembic only when migrating (see above)

    command.downgrade(_config(engine), revision)


def stored_revision(engine: Engine) -> str | None:
    """The schema's revision as Alembic records it, read without Alembic."""
    with engine.connect() as conn:
        if not inspect(conn).has_table("alembic_version"):
            return None
        return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()


def current_revision(engine: Engine) -> str | None:
    from alembic.runtime.migration import MigrationContext  # lazy: see the module's docstring

    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def head_revision() -> str | None:
    # Lazy: Alembic only when migrating (see the module's docstring).
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return ScriptDirectory.from_config(cfg).get_current_head()
