"""The command registry and how replies are shaped for Matrix, without a homeserver."""

from __future__ import annotations

import pytest
from sqlalchemy.exc import OperationalError

from bot.runtime.matrix_content import mentioned_users, replied_to, strip_reply_fallback
from bot.runtime.matrix_render import render_reply
from commands.core.context import Context
from commands.core.defaults import Defaults
from commands.core.effects import Reply
from commands.core.errors import CommandError
from commands.core.registry import Registry, Router, fold
from commands.core.rich import Rich, mention, template, text
from commands.core.setting import Setting
from commands.features import build_registry
from storage import outbox
from tests.dialog import ANNA, Dialog


def test_umlauts_and_their_ascii_spellings_are_one_name() -> None:
    assert fold("Ändern") == fold("aendern") == "aendern"
    assert fold("SCHLIESSEN") == fold("schließen")


def test_a_name_declared_twice_is_refused_at_start() -> None:
    router = Router("general")
    router.command("frist", aliases=("due",))(lambda ctx, args: text(""))
    router.command("fällig", aliases=("due",))(lambda ctx, args: text(""))
    with pytest.raises(ValueError, match="declared twice"):
        Registry([router])


def test_command_and_arguments_are_split_on_the_first_space_or_line() -> None:
    reg = build_registry()
    assert reg.parse("!hilfe verabredung", "!") == ("hilfe", "verabredung")
    assert reg.parse("  !liste\nzweite Zeile", "!") == ("liste", "zweite Zeile")
    assert reg.parse("!", "!") is None
    assert reg.parse("!!!", "!") is None
    assert reg.parse("hallo !hilfe", "!") is None


def test_every_command_has_usage_and_summary_in_both_languages() -> None:
    for cmd in build_registry().commands:
        for lang in ("de", "en"):
            assert cmd.usage(lang).startswith("!"), (cmd.name, lang)
            assert cmd.summary(lang), (cmd.name, lang)


def test_user_text_is_escaped_and_pills_notify() -> None:
    rich = template(
        "**{who}** schrieb: {what}",
        {
            "who": mention("@anna:example.org", "Anna <A>"),
            "what": "<img src=x onerror=alert(1)> & *fett*",
        },
    )
    assert rich.plain == "Anna <A> schrieb: <img src=x onerror=alert(1)> & *fett*"
    assert "<img" not in rich.html
    assert "&lt;img" in rich.html
    assert '<a href="https://matrix.to/#/@anna:example.org">Anna &lt;A&gt;</a>' in rich.html
    assert rich.mentions == ("@anna:example.org",)


def test_reply_is_a_notice_in_reply_to_the_command_with_intentional_mentions() -> None:
    reply = Reply(
        template("Hallo {who}", {"who": mention("@ben:example.org", "Ben")}), in_reply_to="$cmd"
    )
    content = render_reply(reply)
    assert content["msgtype"] == "m.notice"
    assert content["m.relates_to"] == {"m.in_reply_to": {"event_id": "$cmd"}}
    assert content["m.mentions"] == {"user_ids": ["@ben:example.org"]}
    assert content["format"] == "org.matrix.custom.html"
    assert content["body"] == "Hallo Ben"


def test_mentions_are_read_from_m_mentions_and_element_pills() -> None:
    content = {
        "body": "!verabredung Bericht Anna Ben",
        "formatted_body": '!verabredung Bericht <a href="https://matrix.to/#/@anna:example.org">'
        'Anna</a> <a href="https://matrix.to/#/%40ben%3Aexample.org">Ben</a>',
        "m.mentions": {"user_ids": ["@anna:example.org"]},
    }
    assert mentioned_users(content) == ("@anna:example.org", "@ben:example.org")


def test_reply_relation_and_old_style_reply_fallback() -> None:
    content = {"m.relates_to": {"m.in_reply_to": {"event_id": "$orig"}}}
    assert replied_to(content) == "$orig"
    assert replied_to({}) is None
    assert strip_reply_fallback("> <@bot:x> Verabredung #3\n> mehr\n\n!erledigt") == "!erledigt"


def test_a_message_missing_from_the_catalogue_still_gets_an_answer(dialog: Dialog) -> None:
    router = Router("general")

    @router.command("kaputt")
    def broken(ctx: Context, args: str) -> Rich:
        raise CommandError("no.such.message")

    room = Dialog(dialog.database, registry=Registry([router]))
    [reply] = room.say(ANNA, "!kaputt")
    assert "ein Fehler bei mir, nicht in Ihrer Eingabe" in reply.body
    assert "Fehlercode F-" in reply.body


def test_a_database_that_does_not_answer_is_retried_not_answered_as_an_internal_error(
    dialog: Dialog,
) -> None:
    """The bot retries the whole command once the database answers; an "internal error"
    answer would be stored as the command's answer, and the command lost."""
    router = Router("general")
    calls: list[str] = []

    @router.command("notiere")
    def flaky(ctx: Context, args: str) -> Rich:
        calls.append(args)
        if len(calls) == 1:
            raise OperationalError("INSERT …", {}, Exception("database is locked"))
        return text(f"notiert: {args}")

    room = Dialog(dialog.database, registry=Registry([router]))
    room.bot.dbt.retry = False  # the one failed attempt, as the database thread sees it
    with pytest.raises(OperationalError):
        room.say(ANNA, "!notiere Raum buchen")
    with room.database.session() as s:  # nothing stored: neither answer nor processed mark
        assert outbox.pending(s) == []
    [reply] = room.say(ANNA, "!notiere Raum buchen")
    assert reply.body == "notiert: Raum buchen"


def test_the_database_thread_retries_the_command_until_the_database_answers(
    dialog: Dialog,
) -> None:
    router = Router("general")
    calls: list[str] = []

    @router.command("notiere")
    def flaky(ctx: Context, args: str) -> Rich:
        calls.append(args)
        if len(calls) < 3:
            raise OperationalError("INSERT …", {}, Exception("database is locked"))
        return text(f"notiert: {args}")

    room = Dialog(dialog.database, registry=Registry([router]))
    [reply] = room.say(ANNA, "!notiere Raum buchen")  # one event, answered once
    assert reply.body == "notiert: Raum buchen"
    assert calls == ["Raum buchen"] * 3


# ------------------------------------------------------------------- routers and features


def _setting(key: str, *names: str) -> Setting:
    return Setting(key, names, "settings.language", lambda ctx, v: v, lambda ctx, v: v or "")


def test_a_feature_router_includes_its_modules_under_its_own_help_group() -> None:
    record, listing = Router(), Router()
    record.command("verabredung")(lambda ctx, args: text(""))
    listing.command("liste")(lambda ctx, args: text(""))
    roles = Router("roles")
    roles.command("rolle")(lambda ctx, args: text(""))
    reg = Registry([Router("agreements").include(record, listing), roles])
    assert [(c.name, c.group) for c in reg.commands] == [
        ("verabredung", "agreements"),
        ("liste", "agreements"),
        ("rolle", "roles"),
    ]
    assert reg.groups == ["agreements", "roles"]


def test_a_command_without_any_help_group_is_refused_at_start() -> None:
    router = Router()
    router.command("hilfe")(lambda ctx, args: text(""))
    with pytest.raises(ValueError, match="no help group"):
        Registry([router])


def test_settings_and_reaction_rules_come_from_the_routers_in_their_order() -> None:
    general, reminders = Router("general"), Router("reminders")
    general.setting(_setting("language", "sprache", "language"))
    reminders.setting(_setting("reminder.state", "bundesland", "state"))
    reminders.reaction("reminder", {"✅\ufe0f"})(lambda ctx, key, ref_id: None)
    reg = Registry([general, reminders])
    assert [s.key for s in reg.settings] == ["language", "reminder.state"]
    assert reg.find_setting("Bundesland") is reg.settings[1]
    [rule] = reg.reactions
    assert rule.matches("reminder", "✅")
    assert not rule.matches("agreement", "✅")


def test_a_setting_name_declared_twice_is_refused_at_start() -> None:
    router = Router("general")
    router.setting(_setting("language", "sprache", "language"))
    router.setting(_setting("locale", "Sprache"))
    with pytest.raises(ValueError, match="declared twice"):
        Registry([router])


def test_the_bots_features_in_help_order_with_their_settings() -> None:
    reg = build_registry()
    groups = [
        "general",
        "agreements",
        "reminders",
        "meetings",
        "procedure",
        "polls",
        "evaluation",
        "roles",
    ]
    assert reg.groups == [*groups, "coordination"]
    assert [s.key for s in reg.settings] == [
        "language",
        "timezone",
        "reminder.before",
        "reminder.hour",
        "reminder.overdue",
        "reminder.digest",
        "reminder.state",
    ]
    assert [(r.ref_kind, "✅" in r.keys) for r in reg.reactions] == [
        ("agreement", True),
        ("meeting", True),  # the roll call
    ]


def test_the_configured_defaults_reach_the_commands(dialog: Dialog) -> None:
    room = Dialog(
        dialog.database, defaults=Defaults(language="en", timezone="Europe/Vienna", state="BY")
    )
    shown = room.text(ANNA, "!settings")
    assert "Language: English" in shown
    assert "Time zone: Europe/Vienna" in shown
    assert "State (public holidays): BY" in shown
