"""What Element's own library (matrix-js-sdk) makes of the bot's effects: the answer to a
command written in a thread is in that thread; a native poll is a poll, and its end ends
it; an edit replaces the text of the message it edits."""

from __future__ import annotations

import pytest

from bot.devtools.synapse import LocalSynapse
from commands.core.effects import Edit, PollAnswer, PollEnd, PollStart, Reply
from commands.core.rich import text
from tests.integration.conftest import PASSWORD, BotFactory, unique
from tests.integration.effect_helpers import queue_in, wait_sent
from tests.integration.js_client import ElementClient, node_or_skip

pytestmark = pytest.mark.synapse


@pytest.fixture(scope="session")
def node() -> str:
    return node_or_skip()


async def test_element_sees_a_threaded_answer_a_poll_its_end_and_an_edit(
    make_bot: BotFactory, synapse: LocalSynapse, node: str
) -> None:
    bot = await make_bot()
    user = synapse.register(unique("elke"), PASSWORD)
    element = await ElementClient.start(
        node,
        mode="watch",
        homeserver=synapse.url,
        user=user,
        password=PASSWORD,
        botUser=bot.user_id,
        rootText="Sitzung am Montag: Fragen dazu hier",
        command="!hilfe",
        expect={"polls": 1, "endedPolls": 1, "edited": 1},
        timeoutMs=60000,
    )
    try:
        ready = await element.line()
        assert ready["ready"]
        # No command returns these yet: queued as a command's handling queues them.
        db = bot.bot.db
        await queue_in(
            bot.bot,
            "$effects-for-element",
            ready["roomId"],
            [
                PollStart(
                    question="Wie zufrieden sind Sie mit der Sitzung?",
                    answers=(PollAnswer("a1", "sehr"), PollAnswer("a2", "teils")),
                    disclosed=False,
                    key="poll:e2e:start",
                ),
                Reply(text("Verabredung #1: Haushaltsentwurf lesen"), key="card:e2e"),
                Edit(
                    target_key="card:e2e",
                    rich=text("Verabredung #1: Haushaltsentwurf lesen (erledigt)"),
                    key="card:e2e:edit",
                ),
                PollEnd(
                    poll_key="poll:e2e:start",
                    results=text("Ergebnis: sehr 0, teils 0"),
                    key="poll:e2e:end",
                ),
            ],
        )
        bot.bot.sender.wake()
        result = await element.result()
    finally:
        element.kill()

    sent = await wait_sent(db, ["poll:e2e:start", "card:e2e", "card:e2e:edit", "poll:e2e:end"])
    assert not any(e["decryptionFailure"] for e in result["botEvents"]), result["botEvents"]

    answer = result["threadAnswer"]
    assert "Gremienbot – Hilfe" in answer["body"]
    assert answer["threadRootId"] == result["rootEventId"]
    assert answer["inThreadTimeline"]
    assert not answer["inMainTimeline"]
    assert answer["relation"] == {
        "rel_type": "m.thread",
        "event_id": result["rootEventId"],
        "is_falling_back": True,
        "m.in_reply_to": {"event_id": result["commandEventId"]},
    }

    [poll] = result["polls"]
    assert poll["eventId"] == sent["poll:e2e:start"]
    assert poll["type"] == "org.matrix.msc3381.poll.start"
    assert poll["question"] == "Wie zufrieden sind Sie mit der Sitzung?"
    assert poll["answers"] == [{"id": "a1", "text": "sehr"}, {"id": "a2", "text": "teils"}]
    assert poll["kind"] == "org.matrix.msc3381.poll.undisclosed"
    assert poll["maxSelections"] == 1
    assert poll["isEnded"]
    assert poll["endEventId"] == sent["poll:e2e:end"]
    assert poll["endText"] == "Ergebnis: sehr 0, teils 0"

    [edited] = result["edited"]
    assert edited["eventId"] == sent["card:e2e"]
    assert edited["body"] == "Verabredung #1: Haushaltsentwurf lesen (erledigt)"
    assert edited["replacedBy"] == sent["card:e2e:edit"]
