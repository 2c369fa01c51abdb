"""`!dashboard einrichten` / `!dashboard setup`: the coordinator's dashboard beside the
room, as an Element widget; `!dashboard entfernen` / `!dashboard remove` takes it out
again (issue 24). Coordination only.

The widget is room state (`im.vector.modular.widgets`) under a fixed state key, so the
room has at most one, and setting it up twice leaves it as it was. Its address is the
dashboard's (config `dashboard.public_url`, commands.core.dashboard_link) with the room,
the client's language and the widget's ID as template variables after `#`. It asks for
no capabilities, so Element shows no dialog about what it may do. Where the bot may, it
also pins the widget at the top of the room (`io.element.widgets.layout`), beside
whatever else is pinned there.

The bot checks its own level first (commands.core.power, as for the commands it
publishes): where the room does not let it send the widget, it says which rights it needs
and changes nothing. Removing sets the widget's content to `{}`, which is how a state
event is withdrawn, and unpins it.
"""

from __future__ import annotations

from typing import Any

from commands.core import i18n
from commands.core.context import Context, Role, command_hint
from commands.core.dashboard_link import dashboard_link, widget_url
from commands.core.effects import RoomState
from commands.core.errors import UsageError
from commands.core.power import ADMIN_LEVEL, MODERATOR_LEVEL, may_send_state
from commands.core.registry import Router, fold
from commands.core.rich import Rich

router = Router()

WIDGETS_TYPE = "im.vector.modular.widgets"
LAYOUT_TYPE = "io.element.widgets.layout"
# The widget's ID and state key: one dashboard per room, whoever set it up.
WIDGET_ID = "gremienbot-dashboard"
# The layout's object the widget's place is merged into (other widgets keep theirs).
LAYOUT_WIDGETS = "widgets"
# At the top of the room, the whole width, half of the room's height.
PINNED = {"container": "top", "index": 0, "width": 100, "height": 50}
WIDGET_NAME = "Gremienbot"

_SETUP = frozenset(fold(w) for w in ("einrichten", "setup"))
_REMOVE = frozenset(fold(w) for w in ("entfernen", "remove"))


def widget_content(public_url: str, bot_user: str, lang: str) -> dict[str, Any]:
    """The widget's state content: no `capabilities`, nothing secret in the address."""
    return {
        "type": "m.custom",
        "url": widget_url(public_url),
        "name": WIDGET_NAME,
        "id": WIDGET_ID,
        "creatorUserId": bot_user,
        "data": {"title": i18n.plain(lang, "dashboard_setup.title")},
        "waitForIframeLoad": False,
    }


def pinned_layout() -> RoomState:
    return RoomState(
        event_type=LAYOUT_TYPE,
        state_key="",
        content={LAYOUT_WIDGETS: {WIDGET_ID: dict(PINNED)}},
        merge=LAYOUT_WIDGETS,
    )


def unpinned_layout() -> RoomState:
    return RoomState(
        event_type=LAYOUT_TYPE,
        state_key="",
        content={LAYOUT_WIDGETS: {WIDGET_ID: None}},
        merge=LAYOUT_WIDGETS,
    )


@router.command("dashboard", role=Role.COORDINATION)
def dashboard(ctx: Context, args: str) -> list[RoomState | Rich] | Rich:
    word = fold(args)
    if word in _SETUP:
        return _setup(ctx)
    if word in _REMOVE:
        return _remove(ctx)
    raise UsageError("dashboard_setup.which")


def _setup(ctx: Context) -> list[RoomState | Rich] | Rich:
    public_url = dashboard_link(ctx.defaults).public_url
    if not public_url:
        return i18n.t(ctx.lang, "dashboard_setup.not_served")
    if not _may_send(ctx, WIDGETS_TYPE):
        return _refused(ctx, "dashboard_setup.refused_setup", "einrichten", "setup")
    assert ctx.bot_user is not None  # _may_send knew the bot's own level
    effects: list[RoomState | Rich] = [
        RoomState(
            event_type=WIDGETS_TYPE,
            state_key=WIDGET_ID,
            content=widget_content(public_url, ctx.bot_user, ctx.lang),
        )
    ]
    remove = command_hint(ctx, "dashboard", "dashboard", _word(ctx, "entfernen", "remove"))
    if _may_send(ctx, LAYOUT_TYPE):
        effects.append(pinned_layout())
        done = i18n.t(ctx.lang, "dashboard_setup.set_up_pinned", remove=remove)
    else:
        rights = _rights(ctx, LAYOUT_TYPE)
        done = i18n.t(ctx.lang, "dashboard_setup.set_up", remove=remove, rights=rights)
    return [*effects, done]


def _remove(ctx: Context) -> list[RoomState | Rich] | Rich:
    # Needs no address: a dashboard the operator has since switched off can still go.
    if not _may_send(ctx, WIDGETS_TYPE):
        return _refused(ctx, "dashboard_setup.refused_remove", "entfernen", "remove")
    effects: list[RoomState | Rich] = [
        RoomState(event_type=WIDGETS_TYPE, state_key=WIDGET_ID, content={})
    ]
    if _may_send(ctx, LAYOUT_TYPE):
        effects.append(unpinned_layout())
    setup = command_hint(ctx, "dashboard", "dashboard", _word(ctx, "einrichten", "setup"))
    return [*effects, i18n.t(ctx.lang, "dashboard_setup.removed", setup=setup)]


def _own_level(ctx: Context) -> int:
    if ctx.bot_user is None:
        return 0
    return ctx.power_levels.get(ctx.bot_user, 0)


def _may_send(ctx: Context, event_type: str) -> bool:
    return ctx.bot_user is not None and may_send_state(
        _own_level(ctx), ctx.state_levels, event_type
    )


def _word(ctx: Context, de: str, en: str) -> str:
    return en if ctx.lang == "en" else de


def _rights(ctx: Context, event_type: str) -> str:
    """The rights a room's admin gives in Element for the level `event_type` needs."""
    needed = ctx.state_levels.needed(event_type)
    if needed <= MODERATOR_LEVEL:
        return i18n.plain(ctx.lang, "dashboard_setup.rights_moderator")
    if needed <= ADMIN_LEVEL:
        return i18n.plain(ctx.lang, "dashboard_setup.rights_admin")
    return i18n.plain(ctx.lang, "dashboard_setup.rights_level", level=needed)


def _refused(ctx: Context, key: str, de: str, en: str) -> Rich:
    again = command_hint(ctx, "dashboard", "dashboard", _word(ctx, de, en))
    return i18n.t(ctx.lang, key, rights=_rights(ctx, WIDGETS_TYPE), command=again)
