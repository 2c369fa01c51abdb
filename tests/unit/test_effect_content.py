"""Effects as Matrix content and Matrix content read back: threads, native polls in both
forms (MSC3381), edits, files, pictures. Pure: content in, content out."""

from __future__ import annotations

from bot.runtime.matrix_content import (
    ParsedPollResponse,
    parse_poll_end,
    parse_poll_response,
    parse_poll_start,
    replied_to,
    selection,
    thread_root,
)
from bot.runtime.matrix_render import (
    render_edit,
    render_file,
    render_poll_end,
    render_poll_start,
    render_reply,
    with_media,
    with_target,
)
from commands.core.effects import Edit, File, Image, PollAnswer, PollEnd, PollStart, Reply
from commands.core.rich import mention, template, text

ANNA = "@anna:example.org"
BEN = "@ben:example.org"

PULSE = PollStart(
    question="Wie zufrieden sind Sie mit der Sitzung?",
    answers=(PollAnswer("a1", "sehr"), PollAnswer("a2", "teils"), PollAnswer("a3", "wenig")),
    disclosed=False,
    key="poll:7:start",
)


# ------------------------------------------------------------------------------- threads


def test_a_reply_in_a_thread_carries_the_thread_relation_and_elements_reply_fallback() -> None:
    content = render_reply(Reply(text("Verabredung #3"), in_reply_to="$cmd", thread_root="$root"))
    assert content["m.relates_to"] == {
        "rel_type": "m.thread",
        "event_id": "$root",
        "is_falling_back": True,
        "m.in_reply_to": {"event_id": "$cmd"},
    }
    assert thread_root(content) == "$root"
    # The fallback is no explicit reply: it must not make anything act on "$cmd".
    assert replied_to(content) is None


def test_a_reply_outside_threads_stays_a_plain_reply() -> None:
    content = render_reply(Reply(text("ok"), in_reply_to="$cmd"))
    assert content["m.relates_to"] == {"m.in_reply_to": {"event_id": "$cmd"}}
    assert thread_root(content) is None


def test_inside_a_thread_only_an_explicit_reply_names_the_replied_to_message() -> None:
    fallback = {
        "m.relates_to": {
            "rel_type": "m.thread",
            "event_id": "$root",
            "is_falling_back": True,
            "m.in_reply_to": {"event_id": "$bot-message"},
        }
    }
    explicit = {
        "m.relates_to": {
            "rel_type": "m.thread",
            "event_id": "$root",
            "is_falling_back": False,
            "m.in_reply_to": {"event_id": "$bot-message"},
        }
    }
    assert replied_to(fallback) is None
    assert thread_root(fallback) == "$root"
    assert replied_to(explicit) == "$bot-message"
    assert thread_root(explicit) == "$root"
    # Main timeline replies are unchanged.
    assert replied_to({"m.relates_to": {"m.in_reply_to": {"event_id": "$x"}}}) == "$x"


# ------------------------------------------------------------------------------- polls


def test_a_poll_start_has_the_unstable_form_element_sends_and_reads() -> None:
    event_type, content = render_poll_start(PULSE)
    assert event_type == "org.matrix.msc3381.poll.start"
    assert content == {
        "org.matrix.msc1767.text": (
            "Wie zufrieden sind Sie mit der Sitzung?\n1. sehr\n2. teils\n3. wenig"
        ),
        "org.matrix.msc3381.poll.start": {
            "kind": "org.matrix.msc3381.poll.undisclosed",
            "max_selections": 1,
            "question": {"org.matrix.msc1767.text": "Wie zufrieden sind Sie mit der Sitzung?"},
            "answers": [
                {"id": "a1", "org.matrix.msc1767.text": "sehr"},
                {"id": "a2", "org.matrix.msc1767.text": "teils"},
                {"id": "a3", "org.matrix.msc1767.text": "wenig"},
            ],
        },
    }


def test_a_poll_start_in_the_stable_form() -> None:
    poll = PollStart(
        question="Termin?",
        answers=(PollAnswer("mo", "Montag"), PollAnswer("di", "Dienstag")),
        max_selections=2,
        fallback=text("Umfrage: Termin? (Montag, Dienstag)"),
    )
    event_type, content = render_poll_start(poll, stable=True)
    assert event_type == "m.poll.start"
    assert content == {
        "m.text": [{"body": "Umfrage: Termin? (Montag, Dienstag)"}],
        "m.poll": {
            "kind": "m.disclosed",
            "max_selections": 2,
            "question": {"m.text": [{"body": "Termin?"}]},
            "answers": [
                {"m.id": "mo", "m.text": [{"body": "Montag"}]},
                {"m.id": "di", "m.text": [{"body": "Dienstag"}]},
            ],
        },
    }


def test_both_forms_read_back_as_the_same_poll() -> None:
    for stable in (False, True):
        event_type, content = render_poll_start(PULSE, stable=stable)
        parsed = parse_poll_start(event_type, content)
        assert parsed is not None
        assert parsed.question == PULSE.question
        assert parsed.answers == PULSE.answers
        assert not parsed.disclosed
        assert parsed.max_selections == 1
        assert parsed.stable is stable
        assert parsed.fallback.startswith("Wie zufrieden")


def test_a_poll_as_matrix_js_sdk_serialises_it_is_read() -> None:
    # PollStartEvent.from("Pizza?", ["Ja", "Nein"], M_POLL_KIND_DISCLOSED).serialize(),
    # answer IDs as Element makes them (random strings).
    content = {
        "org.matrix.msc3381.poll.start": {
            "question": {"org.matrix.msc1767.text": "Pizza?"},
            "kind": "org.matrix.msc3381.poll.disclosed",
            "max_selections": 1,
            "answers": [
                {"id": "Xk2d9", "org.matrix.msc1767.text": "Ja"},
                {"id": "p0Qz1", "org.matrix.msc1767.text": "Nein"},
            ],
        },
        "org.matrix.msc1767.text": "Pizza?\n1. Ja\n2. Nein",
    }
    parsed = parse_poll_start("org.matrix.msc3381.poll.start", content)
    assert parsed is not None
    assert parsed.disclosed
    assert [a.id for a in parsed.answers] == ["Xk2d9", "p0Qz1"]
    # matrix-js-sdk also names the stable kinds m.poll.disclosed.
    stable = {
        "m.poll": {
            "kind": "m.poll.disclosed",
            "question": {"m.text": [{"mimetype": "text/html", "body": "<b>Q</b>"}, {"body": "Q"}]},
            "answers": [{"m.id": "a", "m.text": [{"body": "A"}]}],
        }
    }
    parsed = parse_poll_start("m.poll.start", stable)
    assert parsed is not None
    assert parsed.disclosed
    assert parsed.question == "Q"


def test_broken_polls_are_read_as_elements_reads_them() -> None:
    t = "org.matrix.msc3381.poll.start"
    assert parse_poll_start("m.room.message", {"body": "x"}) is None
    assert parse_poll_start(t, {}) is None
    no_answers = {t: {"question": {"org.matrix.msc1767.text": "Q"}, "answers": []}}
    assert parse_poll_start(t, no_answers) is None
    many = {
        t: {
            "question": {"org.matrix.msc1767.text": "Q"},
            "kind": "something.else",
            "max_selections": 0,
            "answers": [{"id": f"a{i}", "org.matrix.msc1767.text": str(i)} for i in range(30)]
            + [{"id": "a0", "org.matrix.msc1767.text": "duplicate"}],
        }
    }
    parsed = parse_poll_start(t, many)
    assert parsed is not None
    assert len(parsed.answers) == 20  # at most 20, like matrix-js-sdk
    assert not parsed.disclosed  # unknown kinds are undisclosed
    assert parsed.max_selections == 1


def test_poll_responses_in_both_forms_and_what_they_vote_for() -> None:
    rel = {"rel_type": "m.reference", "event_id": "$poll"}
    unstable = parse_poll_response(
        "org.matrix.msc3381.poll.response",
        {"m.relates_to": rel, "org.matrix.msc3381.poll.response": {"answers": ["a2"]}},
    )
    stable = parse_poll_response(
        "m.poll.response", {"m.relates_to": rel, "m.selections": ["a2", "a1"]}
    )
    assert unstable == ParsedPollResponse("$poll", ("a2",), stable=False)
    assert stable == ParsedPollResponse("$poll", ("a2", "a1"), stable=True)
    _, content = render_poll_start(PULSE)
    poll = parse_poll_start("org.matrix.msc3381.poll.start", content)
    assert poll is not None
    assert selection(poll, unstable) == ("a2",)
    assert selection(poll, stable) == ("a2",)  # only max_selections count
    unknown = ParsedPollResponse("$poll", ("a9",), stable=False)
    spoiled = parse_poll_response("m.poll.response", {"m.relates_to": rel, "m.selections": "a1"})
    assert spoiled is not None
    assert spoiled.answers is None
    assert selection(poll, unknown) == selection(poll, spoiled) == ()
    # Without a reference to the poll it is no response at all.
    assert parse_poll_response("m.poll.response", {"m.selections": ["a1"]}) is None


def test_a_poll_end_refers_to_its_start_and_carries_the_results_as_text() -> None:
    end = PollEnd(poll_key="poll:7:start", results=text("Ergebnis: sehr 3, teils 1"))
    event_type, content = render_poll_end(end, start_event_id="$start")
    assert event_type == "org.matrix.msc3381.poll.end"
    assert content == {
        "m.relates_to": {"rel_type": "m.reference", "event_id": "$start"},
        "org.matrix.msc3381.poll.end": {},
        "org.matrix.msc1767.text": "Ergebnis: sehr 3, teils 1",
    }
    parsed = parse_poll_end(event_type, content)
    assert parsed is not None
    assert not parsed.stable
    assert (parsed.start_event_id, parsed.text, parsed.results) == (
        "$start",
        "Ergebnis: sehr 3, teils 1",
        None,
    )
    event_type, content = render_poll_end(
        end, stable=True, start_event_id="$start", counts={"a1": 3, "a2": 1}
    )
    assert event_type == "m.poll.end"
    assert content["m.text"] == [{"body": "Ergebnis: sehr 3, teils 1"}]
    parsed = parse_poll_end(event_type, content)
    assert parsed is not None
    assert parsed.stable
    assert parsed.results == {"a1": 3, "a2": 1}


def test_the_sender_fills_in_the_start_once_it_is_sent() -> None:
    end = PollEnd(poll_key="poll:7:start", results=text("vorbei"))
    _, content = render_poll_end(end)
    assert content["m.relates_to"] == {"rel_type": "m.reference"}
    filled = with_target(content, "$start")
    assert filled["m.relates_to"] == {"rel_type": "m.reference", "event_id": "$start"}
    assert content["m.relates_to"] == {"rel_type": "m.reference"}  # the stored one unchanged


def test_a_poll_in_a_thread_stays_in_the_thread() -> None:
    poll = PollStart(question="Q", answers=(PollAnswer("a", "A"),), thread_root="$root")
    _, content = render_poll_start(poll)
    assert thread_root(content) == "$root"


# ------------------------------------------------------------------------------- edits, files


def test_an_edit_replaces_the_text_and_notifies_only_newly_named_users() -> None:
    rich = template(
        "Verabredung #3: {a} und {b}", {"a": mention(ANNA, "Anna"), "b": mention(BEN, "Ben")}
    )
    content = render_edit(
        Edit(target_key="agreement:3:card", rich=rich),
        msgtype="m.notice",
        previous_mentions=[ANNA],
        target_event_id="$orig",
    )
    assert content["body"] == "* Verabredung #3: Anna und Ben"
    assert content["formatted_body"].startswith("* Verabredung #3: <a href")
    assert content["m.relates_to"] == {"rel_type": "m.replace", "event_id": "$orig"}
    assert content["m.mentions"] == {"user_ids": [BEN]}
    assert content["m.new_content"] == {
        "msgtype": "m.notice",
        "body": "Verabredung #3: Anna und Ben",
        "format": "org.matrix.custom.html",
        "formatted_body": rich.html,
        "m.mentions": {"user_ids": [ANNA, BEN]},
    }
    assert "m.relates_to" not in content["m.new_content"]


def test_a_file_message_names_the_file_and_a_caption_becomes_its_body() -> None:
    data = b"Nr;Text\n1;Bericht\n"
    plain = render_file(File(filename="export.csv", data=data, mimetype="text/csv"))
    assert plain == {
        "msgtype": "m.file",
        "body": "export.csv",
        "filename": "export.csv",
        "info": {"mimetype": "text/csv", "size": len(data)},
    }
    captioned = render_file(
        File(filename="export.csv", data=data, mimetype="text/csv", caption=text("Ihr Export"))
    )
    assert captioned["body"] == "Ihr Export"
    assert captioned["filename"] == "export.csv"
    assert "url" not in captioned
    assert "file" not in captioned


CHART = Image(
    filename="auswertung-2026.png",
    data=b"\x89PNG not really",
    mimetype="image/png",
    width=1584,
    height=489,
    caption=text("Auswertung 2026 – Steuerungsgruppe"),
)
THUMB_INFO = {"w": 800, "h": 247, "mimetype": "image/png", "size": 13_000}


def _encrypted(url: str) -> dict[str, object]:
    """An EncryptedFile as nio's upload(encrypt=True) describes it, with its URL."""
    return {
        "url": url,
        "v": "v2",
        "key": {"kty": "oct", "alg": "A256CTR", "ext": True, "k": url[-4:], "key_ops": []},
        "iv": "AAAAAAAAAAAAAAAAAAAAAA",
        "hashes": {"sha256": url[-4:]},
    }


def test_a_picture_is_an_image_message_with_its_size_in_pixels_and_its_caption() -> None:
    assert render_file(CHART) == {
        "msgtype": "m.image",
        "body": "Auswertung 2026 – Steuerungsgruppe",
        "filename": "auswertung-2026.png",
        "format": "org.matrix.custom.html",
        "formatted_body": "Auswertung 2026 – Steuerungsgruppe",
        "m.mentions": {},
        "info": {"mimetype": "image/png", "size": len(CHART.data), "w": 1584, "h": 489},
    }


def test_in_an_unencrypted_room_the_picture_and_its_thumbnail_are_urls() -> None:
    content = with_media(
        render_file(CHART),
        {"url": "mxc://example.org/chart"},
        ({"url": "mxc://example.org/thumb"}, THUMB_INFO),
    )
    assert content["url"] == "mxc://example.org/chart"
    assert content["info"] == {
        "mimetype": "image/png",
        "size": len(CHART.data),
        "w": 1584,
        "h": 489,
        "thumbnail_url": "mxc://example.org/thumb",
        "thumbnail_info": THUMB_INFO,
    }
    assert "file" not in content
    assert content["body"] == "Auswertung 2026 – Steuerungsgruppe"


def test_in_an_encrypted_room_picture_and_thumbnail_are_encrypted_files_of_their_own() -> None:
    picture, thumbnail = _encrypted("mxc://example.org/aaaa"), _encrypted("mxc://example.org/bbbb")
    content = with_media(render_file(CHART), {"file": picture}, ({"file": thumbnail}, THUMB_INFO))
    assert content["file"] == picture
    assert content["info"]["thumbnail_file"] == thumbnail
    assert content["info"]["thumbnail_info"] == THUMB_INFO
    assert (content["info"]["w"], content["info"]["h"]) == (1584, 489)
    # Nothing in the clear points at either: only the encrypted files do.
    assert "url" not in content
    assert "thumbnail_url" not in content["info"]


def test_a_picture_without_a_thumbnail_and_a_file_only_get_their_upload() -> None:
    content = with_media(render_file(CHART), {"url": "mxc://example.org/chart"})
    assert not any(key.startswith("thumbnail") for key in content["info"])
    data = b"Nr;Text\n"
    plain = render_file(File(filename="export.csv", data=data, mimetype="text/csv"))
    assert with_media(plain, {"url": "mxc://example.org/csv"}) == {
        **plain,
        "url": "mxc://example.org/csv",
    }
