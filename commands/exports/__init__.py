"""Exports for the coordination: `!export` in chat, `gremienbot export` and `import` on
the command line. What an export holds is a list of sections (sections.py); each format
renders any list of them (one module per format)."""

from commands.core.registry import Router
from commands.exports import chat

router = Router("coordination").include(chat.router)
