"""Property-based tests (hypothesis) of everything that reads what members send.

Profiles (environment variable HYPOTHESIS_PROFILE):

- `default`: a few hundred examples per parser test, a few dozen per command, derandomized
  (the same examples on every run, so CI is reproducible); the whole package runs in well
  under a minute.
- `thorough`: thousands of examples per test and random ones each run, for hunting:
  `HYPOTHESIS_PROFILE=thorough .venv/bin/pytest tests/fuzz`.

No example may raise, answer "interner Fehler" (error.internal), damage what was stored
before it, or let member text become markup in a reply's formatted_body.
"""

from __future__ import annotations

import os
from pathlib import Path

from hypothesis import HealthCheck, settings
from hypothesis.configuration import set_hypothesis_home_dir
from hypothesis.database import DirectoryBasedExampleDatabase

# Hypothesis keeps caches (and, when hunting, failing examples) in a folder: one git ignores.
HOME = Path(__file__).resolve().parents[2] / ".pytest_cache" / "hypothesis"
set_hypothesis_home_dir(str(HOME))

_SLOW = [HealthCheck.too_slow, HealthCheck.function_scoped_fixture, HealthCheck.data_too_large]
settings.register_profile(
    "default",
    max_examples=200,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=_SLOW,
)
# Failing examples are kept (and tried first next time) where git ignores them.
settings.register_profile(
    "thorough",
    max_examples=5000,
    deadline=None,
    database=DirectoryBasedExampleDatabase(str(HOME / "examples")),
    suppress_health_check=_SLOW,
)
PROFILE = os.environ.get("HYPOTHESIS_PROFILE", "default")
settings.load_profile(PROFILE)
# Examples per command of the registry (each goes through the database).
COMMAND_EXAMPLES = 500 if PROFILE == "thorough" else 50
