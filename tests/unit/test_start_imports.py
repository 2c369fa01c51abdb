"""The running bot's memory budget (issue 21: the empty bot under 110 MB) is mostly the
libraries it imports. What only a command, a file or an operator's tool needs is imported
when first used, so a bot that just started has none of these loaded.

Measured with `python -c "import bot.cli, bot.runtime.app"` in a fresh interpreter: what
`gremienbot run` has imported before its first sync.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# Library -> what needs it. Each costs the running bot from one to tens of MB.
LOADED_ON_FIRST_USE = {
    "matplotlib": "the evaluation chart",
    "PIL": "the chart's thumbnail",
    "weasyprint": "PDF papers",
    "jinja2": "PDF papers' templates",
    "openpyxl": "nothing in the bot (tests read exports with it)",
    "icalendar": "calendar exports",
    "rapidfuzz": "possible duplicates",
    "alembic": "migrations (gremienbot migrate, and at start only when the schema is behind)",
    "cryptography": "nothing: cross-signing uses PyCryptodome, which matrix-nio loads anyway",
    # The operator's tools (bot/cli.py TOOLS): loaded by their own subcommand only.
    "bot.transfer": "gremienbot export and import",
    "bot.forget": "gremienbot forget",
    "bot.papers": "gremienbot report",
    "bot.devtools": "gremienbot demo",
}


def test_a_started_bot_has_loaded_no_library_it_needs_only_later() -> None:
    probe = "import json, sys, bot.cli, bot.runtime.app; print(json.dumps(sorted(sys.modules)))"
    out = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    modules = set(json.loads(out))
    loaded = modules | {name.split(".")[0] for name in modules}
    assert {"nio", "sqlalchemy", "bot.runtime.app"} <= loaded  # the probe imported the bot
    early = {name: why for name, why in LOADED_ON_FIRST_USE.items() if name in loaded}
    assert not early, f"imported at start although only needed for: {early}"
