"""Agreements (Verabredungen): record, list, show and change them; ✅ on the bot's
message about one closes it."""

from commands.agreements import changes, listing, record
from commands.core.registry import Router

router = Router("agreements").include(record.router, listing.router, changes.router)
