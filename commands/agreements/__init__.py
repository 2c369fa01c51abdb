"""Agreements (Verabredungen): record, list, show and change them, the reason for a delay
(`!grund`), the members' offices (`!amt`); ✅ on the bot's message about one closes it."""

from commands.agreements import changes, listing, offices, reasons, record
from commands.core.registry import Router

router = Router("agreements").include(
    record.router, listing.router, changes.router, reasons.router, offices.router
)
