"""Privacy: the daily retention job (what is older than the configured periods is deleted
or anonymised, `storage.retention`) and the pseudonym of erased members
(`storage.erasure`, `gremienbot forget`). No commands: nothing here is in `!hilfe`."""

from commands.core.registry import Router
from commands.privacy import config, retention

router = Router().include(retention.router, config.router)
