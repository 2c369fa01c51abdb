"""The process log: one structured line per event, with IDs, never text or secrets."""

from __future__ import annotations

import io
import json
import logging

from bot.runtime.dbthread import DbThread
from bot.runtime.logs import log_context, make_handler


def _logger(fmt: str) -> tuple[logging.Logger, io.StringIO]:
    stream = io.StringIO()
    logger = logging.getLogger(f"gremienbot.test.{fmt}")
    logger.handlers[:] = [make_handler("json" if fmt == "json" else "text", stream)]
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    return logger, stream


async def test_a_line_logged_in_the_database_thread_carries_the_room_and_event() -> None:
    logger, stream = _logger("json")
    dbt = DbThread()
    try:
        with log_context(room_id="!gremium:example.org", event_id="$abc"):
            await dbt.run(logger.info, "command %s: %s", "verabredung", "ok")
        logger.warning("outside")
    finally:
        dbt.close()
    inside, outside = (json.loads(line) for line in stream.getvalue().splitlines())
    assert inside["message"] == "command verabredung: ok"
    assert inside["room_id"] == "!gremium:example.org"
    assert inside["event_id"] == "$abc"
    assert inside["level"] == "INFO"
    assert inside["time"].endswith("+00:00")
    assert "room_id" not in outside


def test_text_lines_name_the_ids_and_hold_the_whole_exception() -> None:
    logger, stream = _logger("text")
    with log_context(room_id="!r:x", outbox_id=17):
        try:
            raise ValueError("kaputt")
        except ValueError:
            logger.exception("sending failed")
    first, *rest = stream.getvalue().splitlines()
    assert first.endswith("ERROR gremienbot.test.text: sending failed [room_id=!r:x outbox_id=17]")
    assert "ValueError: kaputt" in rest[-1]


def test_an_access_token_in_a_logged_url_or_header_is_masked() -> None:
    for fmt in ("text", "json"):
        logger, stream = _logger(fmt)
        logger.warning("GET /sync?since=s1&access_token=syt_c2VjcmV0_abcdef failed")
        logger.warning("header Authorization: Bearer syt_c2VjcmV0_abcdef")
        out = stream.getvalue()
        assert "syt_c2VjcmV0_abcdef" not in out, fmt
        assert out.count("***") == 2, fmt
