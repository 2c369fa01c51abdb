"""What every room has: `!hilfe` and `!einstellungen` (with language and time zone).

`!rolle` (roles.py) lives here too but has a help section of its own, after the
features: commands.features lists its router separately.
"""

from commands.core.registry import Router
from commands.general import help, settings

router = Router("general").include(help.router, settings.router)
