"""The operator's counters, moved by the dialog as a committee uses the bot."""

from __future__ import annotations

import datetime as dt

from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families

from bot.runtime.metrics import Metrics
from commands.features import build_registry
from storage import outbox, rooms
from storage.db import Database
from tests.dialog import ANNA, COORDINATOR, Dialog


def _values(metrics: Metrics) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    text = generate_latest(metrics.registry).decode()
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def _commands(metrics: Metrics, command: str, outcome: str) -> float:
    key = ("gremienbot_commands_total", (("command", command), ("outcome", outcome)))
    return _values(metrics).get(key, 0.0)


def test_commands_are_counted_by_name_and_outcome(sqlite_db: Database) -> None:
    metrics = Metrics()
    registry = build_registry()
    registry.observe(metrics.command_handled)
    dialog = Dialog(sqlite_db, registry=registry)

    for n in range(40):  # a meeting's worth of agreements
        dialog.say(ANNA, f"!verabredung Punkt {n} klären bis Freitag")
    dialog.say(ANNA, "!agree Protokoll verschicken")  # an English alias counts as itself
    dialog.say(ANNA, "!erledigt 999")  # no such agreement
    dialog.say(ANNA, "!übersicht")  # coordination only
    dialog.say(COORDINATOR, "!übersicht")
    dialog.say(ANNA, "!gibtsnicht")

    assert _commands(metrics, "verabredung", "ok") == 41
    assert _commands(metrics, "erledigt", "invalid") == 1
    assert _commands(metrics, "übersicht", "refused") == 1
    assert _commands(metrics, "übersicht", "ok") == 1
    assert _commands(metrics, "unknown", "unknown") == 1


def test_outbox_and_rooms_are_read_when_scraped(sqlite_db: Database) -> None:
    metrics = Metrics()
    metrics.watch(sqlite_db)
    now = dt.datetime.now(dt.UTC)
    with sqlite_db.session() as s:
        for n in range(3):
            rooms.ensure_room(s, f"!gremium{n}:example.org", joined_at=now)
        rooms.mark_left(s, "!gremium2:example.org", at=now)
        waiting = [
            outbox.enqueue(
                s, key=f"reply:$e{n}:0", room_id="!gremium0:example.org", content={"body": "x"}
            )
            for n in range(5)
        ]
        waiting[0].created_at = now - dt.timedelta(minutes=10)
        s.add(waiting[0])
    values = _values(metrics)
    assert values[("gremienbot_outbox_pending", ())] == 5
    age = values[("gremienbot_outbox_oldest_pending_age_seconds", ())]
    assert 600 <= age < 660
    assert values[("gremienbot_rooms_joined", ())] == 2

    with sqlite_db.session() as s:
        for row in waiting:
            assert row.id is not None
            outbox.mark_sent(s, row.id, f"$sent{row.id}")
    values = _values(metrics)
    assert values[("gremienbot_outbox_pending", ())] == 0
    assert values[("gremienbot_outbox_oldest_pending_age_seconds", ())] == 0


def test_reply_latency_is_observed_once_the_answer_is_sent() -> None:
    metrics = Metrics()
    command_at = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=2)
    metrics.answer_owed("gb_answer", command_at)
    metrics.sent("gb_other")  # another message: no observation
    assert _values(metrics)[("gremienbot_reply_latency_seconds_count", ())] == 0
    metrics.sent("gb_answer")
    metrics.sent("gb_answer")  # a resend after a crash is not a second answer
    values = _values(metrics)
    assert values[("gremienbot_reply_latency_seconds_count", ())] == 1
    assert 1.5 < values[("gremienbot_reply_latency_seconds_sum", ())] < 60
    assert values[("gremienbot_reply_latency_seconds_bucket", (("le", "1.0"),))] == 0
    assert values[("gremienbot_reply_latency_seconds_bucket", (("le", "2.5"),))] == 1
