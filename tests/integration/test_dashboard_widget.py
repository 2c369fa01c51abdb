"""The coordinator's dashboard as Element shows it: the real widget from the bot's own
dashboard server in an iframe of a page that plays Element's widget host
(tests/integration/widget_host.html), driven with Playwright in Debian's chromium, logged
in with real OpenID tokens of the test Synapse. A year of fifteen committees lies in the
bot's database (tests/dashboard_scene.py), written into the rooms the bot sits in.

One bot, one browser, one German and one English page for the whole module: the browser
tests cost seconds, not minutes. Screenshots (German, English, 400 px wide) are kept in
tests/artifacts/.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import socket
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode, urlsplit, urlunsplit

import aiohttp
import openpyxl
import pytest
from aiohttp import web
from playwright.async_api import Browser, Frame, Page, async_playwright

from bot.config import load_config
from bot.devtools.light_member import LightMember, RoomEvent
from bot.devtools.synapse import LocalSynapse
from bot.runtime.app import GremienBot
from commands.core import dashboard_link
from commands.core.context import Role
from commands.desk.dashboard_data import Viewer, overview
from storage import rooms
from storage.types import utcnow
from tests import dashboard_scene
from tests.integration.conftest import PASSWORD, unique, write_config

pytestmark = pytest.mark.synapse

CHROMIUM = Path("/usr/bin/chromium")
HOST_PAGE = Path(__file__).with_name("widget_host.html")
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
WIDGET_ID = "gremienbot-dashboard"
# Where the reverse proxy would put the dashboard; the test's bot serves it there itself.
DASHBOARD_PATH = "/dashboard"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def chromium() -> str:
    """Debian's chromium: Playwright downloads no browser of its own here."""
    assert CHROMIUM.exists(), "the browser tests drive Debian's chromium: apt-get install chromium"
    return str(CHROMIUM)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Stage:
    synapse: LocalSynapse
    bot: GremienBot
    public_url: str
    host_origin: str
    coordinator: LightMember
    member: LightMember
    room_ids: list[str]
    scene: dashboard_scene.Scene


# ---------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
async def host_origin() -> AsyncIterator[str]:
    """The page that plays Element, on an origin of its own (another port), as Element's."""
    app = web.Application()

    async def host(_request: web.Request) -> web.Response:
        return web.Response(text=HOST_PAGE.read_text("utf-8"), content_type="text/html")

    app.router.add_get("/host.html", host)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    yield f"http://127.0.0.1:{port}"
    await runner.cleanup()


@pytest.fixture(scope="module")
async def stage(
    synapse: LocalSynapse, host_origin: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Stage]:
    """The bot with its dashboard on, fifteen committee rooms it sits in, a year in them."""
    path = tmp_path_factory.mktemp("dashboard")
    coordinator = LightMember(synapse.url, synapse.register(unique("buero"), PASSWORD), PASSWORD)
    member = LightMember(synapse.url, synapse.register(unique("anna"), PASSWORD), PASSWORD)
    await coordinator.login()
    await member.login()
    port = free_port()
    public_url = f"http://127.0.0.1:{port}{DASHBOARD_PATH}"
    localpart = unique("bot")
    synapse.register(localpart, PASSWORD)
    config = load_config(
        write_config(
            path,
            synapse,
            localpart,
            coordination=[coordinator.user_id],
            dashboard={
                "listen": f"127.0.0.1:{port}",
                "public_url": public_url,
                "element_origins": [host_origin],
            },
        )
    )
    bot = GremienBot(config, sync_timeout_ms=1000, max_retry_wait=1.0)
    await bot.start()
    task = asyncio.create_task(bot.run())
    try:
        await asyncio.wait_for(bot.ready.wait(), timeout=30)
        names = list(dashboard_scene.NAMES)
        room_ids = [await coordinator.create_room(name, invite=(config.user_id,)) for name in names]
        # Anna is a member of the first committee, not its chair.
        await coordinator.invite(room_ids[0], member.user_id)
        await member.join(room_ids[0])
        for room_id in room_ids:
            await coordinator.wait_for_member(room_id, config.user_id, timeout=60)
        await _bot_knows_rooms(bot, room_ids, names)
        scene = await asyncio.to_thread(dashboard_scene.build, bot.db, room_ids, now=utcnow())
        await _answers(public_url + "/")
        yield Stage(synapse, bot, public_url, host_origin, coordinator, member, room_ids, scene)
    finally:
        bot.stop()
        with contextlib.suppress(asyncio.CancelledError, TimeoutError):
            await asyncio.wait_for(task, timeout=30)
        await coordinator.close()
        await member.close()


@pytest.fixture(scope="module")
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as p:
        launched = await p.chromium.launch(executable_path=chromium())
        yield launched
        await launched.close()


@pytest.fixture(scope="module")
async def german(stage: Stage, browser: Browser) -> AsyncIterator[Widget]:
    """The coordinator's dashboard in German, Element allowing the identity at once."""
    token = await openid_token(stage.synapse, stage.coordinator)
    widget = await open_widget(browser, stage, mode="allowed", token=token, lang="de")
    await widget.ready()
    yield widget
    await widget.page.context.close()


# ---------------------------------------------------------------------------- helpers


@dataclass
class Widget:
    """The host page and the widget's frame in it."""

    page: Page
    frame: Frame
    # What the browser's console said meanwhile (a blocked inline script would be here).
    console: list[str]

    async def ready(self) -> None:
        await self.frame.wait_for_selector("body[data-state=ready]", timeout=30_000)

    async def wait_state(self, state: str) -> None:
        await self.frame.wait_for_selector(f"body[data-state={state}]", timeout=30_000)

    async def text(self, selector: str = "body") -> str:
        return str(await self.frame.locator(selector).inner_text())

    async def screenshot(self, name: str) -> Path:
        """The whole widget, however long, as Element would show it scrolled through."""
        height = await self.frame.evaluate("document.documentElement.scrollHeight")
        await self.page.evaluate(f"document.querySelector('iframe').style.height = '{height}px'")
        ARTIFACTS.mkdir(exist_ok=True)
        target = ARTIFACTS / f"{name}.png"
        await self.page.locator("iframe").screenshot(path=str(target))
        return target


async def openid_token(synapse: LocalSynapse, member: LightMember) -> str:
    """An OpenID token as Element asks the homeserver for one (MSC1960)."""
    url = f"{synapse.url}/_matrix/client/v3/user/{quote(member.user_id)}/openid/request_token"
    headers = {"Authorization": f"Bearer {member.access_token}"}
    async with aiohttp.ClientSession() as http, http.post(url, json={}, headers=headers) as resp:
        assert resp.status == 200, await resp.text()
        data = await resp.json()
    assert data["matrix_server_name"] == synapse.server_name
    return str(data["access_token"])


def widget_url(stage: Stage, lang: str, host_origin: str) -> str:
    """The widget's URL as Element loads it: the URL `!dashboard einrichten` puts into the
    room, its template variables filled in (URL-encoded, as matrix-widget-api does), then
    `widgetId` and `parentUrl` added to the query (Element's StopGapWidget)."""
    filled = dashboard_link.widget_url(stage.public_url)
    for name, value in (
        ("$matrix_room_id", stage.room_ids[0]),
        ("$org.matrix.msc2873.client_language", lang),
        ("$org.matrix.msc2873.client_theme", "light"),
        ("$matrix_widget_id", WIDGET_ID),
    ):
        filled = filled.replace(name, quote(value, safe=""))
    parts = urlsplit(filled)
    query = urlencode({"widgetId": WIDGET_ID, "parentUrl": f"{host_origin}/host.html"})
    return urlunsplit(parts._replace(query=query))


async def open_widget(
    browser: Browser,
    stage: Stage,
    *,
    mode: str,
    token: str = "",
    lang: str = "de",
    host_origin: str | None = None,
) -> Widget:
    """The host page (at `host_origin`, the one Element is at by default) with the widget."""
    host = host_origin or stage.host_origin
    context = await browser.new_context(
        viewport={"width": 1160, "height": 1000},
        locale="de-DE" if lang == "de" else "en-GB",
        accept_downloads=True,
    )
    page = await context.new_page()
    console: list[str] = []
    page.on("console", lambda message: console.append(message.text))
    query = urlencode(
        {
            "widget": widget_url(stage, lang, host),
            "widgetId": WIDGET_ID,
            "mode": mode,
            "token": token,
            "server": stage.synapse.server_name,
            "width": "1100",
        }
    )
    await page.goto(f"{host}/host.html?{query}")
    iframe = await page.wait_for_selector("iframe")
    assert iframe is not None
    frame = await iframe.content_frame()
    assert frame is not None
    await frame.wait_for_load_state()
    return Widget(page, frame, console)


async def _bot_knows_rooms(bot: GremienBot, room_ids: Sequence[str], names: Sequence[str]) -> None:
    """Wait until the bot has stored every room it joined, with its name."""

    def named() -> bool:
        with bot.db.session(write=False) as s:
            found = [rooms.get_room(s, r) for r in room_ids]
            return all(
                row is not None and row.name == n for row, n in zip(found, names, strict=True)
            )

    for _ in range(300):
        if await asyncio.to_thread(named):
            return
        await asyncio.sleep(0.2)
    raise AssertionError("the bot did not store its rooms with their names")


async def _answers(url: str) -> None:
    async with aiohttp.ClientSession() as http:
        for _ in range(150):
            with contextlib.suppress(aiohttp.ClientError):
                async with http.get(url) as resp:
                    if resp.status == 200:
                        return
            await asyncio.sleep(0.2)
    raise AssertionError(f"the dashboard does not answer at {url}")


async def overview_report(stage: Stage) -> str:
    """What `!übersicht` answers the coordinator in the room: the report the widget's
    figures must agree with."""
    room = stage.room_ids[0]
    sent = await stage.coordinator.send(room, "!übersicht")
    bot_id = stage.bot.config.user_id
    for _ in range(300):
        events: list[RoomEvent] = await stage.coordinator.messages(room)
        after = events[[e.event_id for e in events].index(sent) + 1 :]
        replies = [e.body for e in after if e.sender == bot_id]
        joined = "\n".join(replies)
        if all(name in joined for name in dashboard_scene.NAMES):
            return joined
        await asyncio.sleep(0.2)
    raise AssertionError("no complete !übersicht from the bot")


async def committee_rows(widget: Widget) -> dict[str, tuple[str, str, str, str]]:
    """The committees table as the coordinator reads it: name -> open, overdue, done on
    time, share on time (as shown)."""
    rows = await widget.frame.evaluate(
        """() => Array.from(document.querySelectorAll('#committees tbody tr')).map(row => [
            (row.querySelector('th summary') || row.querySelector('th')).textContent,
            ...['open', 'overdue', 'done', 'punctuality'].map(
                kind => row.querySelector(`td[data-kind=${kind}]`).textContent)])"""
    )
    return {name: (o, d, t, p) for name, o, d, t, p in rows}


def expected_overview(stage: Stage, lang: str) -> dict[str, Any]:
    """What the dashboard's read model says the coordinator may see (the server's data)."""
    viewer = Viewer(stage.coordinator.user_id, Role.COORDINATION)
    with stage.bot.db.session(write=False) as s:
        return overview(s, viewer, lang=lang, now=utcnow(), defaults=stage.bot.settings.defaults)


async def show_all_overdue(widget: Widget) -> None:
    """The longest overdue come first; the coordinator asks for the rest."""
    more = widget.frame.locator("#overdue button.more")
    if await more.count():
        await more.click()
    assert await widget.frame.locator("#overdue tbody tr[hidden]").count() == 0


# ---------------------------------------------------------------------------- tests


async def test_opened_in_a_plain_browser_tab_it_asks_to_be_opened_in_element(
    stage: Stage, browser: Browser
) -> None:
    context = await browser.new_context(locale="de-DE")
    page = await context.new_page()
    asked: list[str] = []
    page.on("request", lambda request: asked.append(request.url))
    answer = await page.goto(stage.public_url + "/")
    assert answer is not None
    policy = answer.headers["content-security-policy"]
    assert "script-src 'self'" in policy
    assert f"frame-ancestors {stage.host_origin}" in policy
    await page.wait_for_selector("body[data-state=plain]")
    assert "Bitte in Element öffnen" in await page.locator("body").inner_text()
    # In English, as Element's English users would see it.
    await page.goto(stage.public_url + "/#/?lang=en")
    await page.reload()
    await page.wait_for_selector("body[data-state=plain]")
    assert "Please open in Element" in await page.locator("body").inner_text()
    # Nothing was asked of the API: the page, its style and its script only.
    assert [u for u in asked if "/api/" in u] == []
    await context.close()


async def test_the_german_dashboard_looks_right_wide_and_400_px_narrow(german: Widget) -> None:
    headings = await german.frame.locator("h2").all_inner_texts()
    assert headings[:3] == ["Gremien", "Überfällige Verabredungen", "Mögliche Doppelstrukturen"]
    await german.screenshot("dashboard-de")
    await german.page.evaluate("document.querySelector('iframe').style.width = '400px'")
    # The widget has laid itself out anew once a frame has been drawn.
    await german.frame.evaluate("new Promise(done => requestAnimationFrame(() => done(null)))")
    width = await german.frame.evaluate("[document.documentElement.scrollWidth, innerWidth]")
    assert width[0] <= width[1], "the narrow widget scrolls sideways"
    await german.screenshot("dashboard-de-400")
    await german.page.evaluate("document.querySelector('iframe').style.width = '1100px'")


async def test_the_coordinator_sees_each_committees_figures_as_the_overview_report_gives_them(
    stage: Stage, german: Widget
) -> None:
    shown = await committee_rows(german)
    assert sorted(shown) == sorted(dashboard_scene.NAMES)
    # Open and overdue as `!übersicht` says them in the room.
    report = await overview_report(stage)
    for name, (open_, overdue, _, _) in shown.items():
        line = re.search(rf"^\**{re.escape(name)}\**: (\d+) offen, (\d+) überfällig", report, re.M)
        assert line is not None, f"{name} not in the report:\n{report}"
        assert (open_, overdue) == (line[1], line[2]), name
    # Every figure as the read model gives it.
    expected = await asyncio.to_thread(expected_overview, stage, "de")
    assert shown == {
        c["name"]: (
            str(c["open"]),
            str(c["overdue"]),
            str(c["done_on_time"]),
            c["punctuality_text"],
        )
        for c in expected["committees"]
    }
    # A year of work: the figures are not all zero. (Done on time counts the calendar
    # year, which may have just begun: it is checked against the read model above only.)
    assert sum(int(o) for o, _, _, _ in shown.values()) > 50
    assert sum(int(d) for _, d, _, _ in shown.values()) > 10
    overdue_rows = german.frame.locator("#overdue tbody tr")
    assert await overdue_rows.count() == len(expected["overdue"])
    # Each committee's curve over the last months is drawn, and named for screen readers.
    sparks = german.frame.locator("#committees svg.spark[role=img]")
    assert await sparks.count() == 15
    row = german.frame.locator("#committees tbody tr", has_text="Steuerungsgruppe Bildung")
    label = str(await row.locator("svg.spark").get_attribute("aria-label"))
    assert label.startswith("Steuerungsgruppe Bildung von ")
    # The pulse of each month with at least three votes, as the read model has it.
    means = await german.frame.locator("#pulse tbody tr td:first-of-type").all_text_contents()
    assert means == [p["mean_text"] for p in expected["pulses"]]
    assert len(means) >= 11  # a year of monthly pulses, the current month perhaps without


async def test_an_overdue_agreement_shows_who_is_responsible_since_when_and_why(
    stage: Stage, german: Widget
) -> None:
    await show_all_overdue(german)
    row = german.frame.locator("#overdue tbody tr", has_text=dashboard_scene.KNOWN_TEXT)
    assert await row.is_visible()
    assert await row.count() == 1
    cells = [c.strip() for c in await row.locator("td").all_inner_texts()]
    due = stage.scene.known_due
    assert cells[0] == dashboard_scene.KNOWN_COMMITTEE
    assert cells[2] == dashboard_scene.KNOWN_TEXT
    assert cells[3] == dashboard_scene.KNOWN_OFFICE
    assert cells[4] == due.strftime("%d.%m.%Y")
    assert cells[5] == dashboard_scene.KNOWN_REASON
    # The alike agreements of two committees are shown as possible duplicate work.
    overlaps = await german.text("#overlaps")
    assert dashboard_scene.NAMES[1] in overlaps
    assert dashboard_scene.NAMES[7] in overlaps
    assert dashboard_scene.TWIN in overlaps


async def test_hostile_html_in_an_agreement_stays_text(german: Widget) -> None:
    await show_all_overdue(german)
    row = german.frame.locator("#overdue tbody tr", has_text="Schulentwicklungsplan")
    assert await row.locator("td.text").inner_text() == dashboard_scene.HOSTILE_TEXT
    assert await row.locator("td.reason").inner_text() == dashboard_scene.HOSTILE_REASON
    assert await row.locator("td.text").is_visible()
    # No element came out of it, and none of its code ran.
    assert await german.frame.locator("img").count() == 0
    assert await german.frame.locator("b").count() == 0
    assert await german.frame.evaluate("document.scripts.length") == 1
    assert await german.frame.evaluate("window.__pwned === undefined")


async def test_the_content_security_policy_blocks_nothing_the_widget_needs(
    german: Widget,
) -> None:
    # Chromium reports every refused script, style or request on the console.
    assert [line for line in german.console if "Content Security Policy" in line] == []
    assert await german.frame.locator("[style]").count() == 0


async def test_the_widget_speaks_the_widget_api_without_capabilities(german: Widget) -> None:
    sent = await german.page.evaluate("window.fromWidget.map(m => m.action)")
    assert sent[:2] == ["content_loaded", "get_openid"]
    answered = await german.page.evaluate("window.responses.map(m => [m.action, m.response])")
    assert ["capabilities", {"capabilities": []}] in answered


async def test_the_coordinator_downloads_the_excel_export_and_opens_it(
    stage: Stage, german: Widget
) -> None:
    button = german.frame.locator("#exports button[data-format=xlsx]")
    async with german.page.expect_download() as waiting:
        await button.click()
    download = await waiting.value
    ARTIFACTS.mkdir(exist_ok=True)
    target = ARTIFACTS / f"dashboard-{download.suggested_filename}"
    await download.save_as(target)
    assert download.suggested_filename.endswith(".xlsx")
    book = openpyxl.load_workbook(target)
    texts = {str(c) for sheet in book for row in sheet.iter_rows(values_only=True) for c in row}
    assert dashboard_scene.KNOWN_TEXT in texts
    assert dashboard_scene.HOSTILE_TEXT in texts
    status = await german.text("#exports .export-result")
    assert download.suggested_filename in status


async def test_a_member_who_is_neither_coordination_nor_chair_gets_no_figures(
    stage: Stage, browser: Browser
) -> None:
    token = await openid_token(stage.synapse, stage.member)
    widget = await open_widget(browser, stage, mode="allowed", token=token)
    await widget.wait_state("error")
    assert await widget.frame.evaluate("document.body.dataset.error") == "forbidden"
    assert "Nur für die Koordination und den Vorsitz." in await widget.text()
    assert await widget.frame.locator("main table").count() == 0
    assert await widget.frame.locator("main").is_hidden()
    await widget.page.context.close()


async def test_when_element_refuses_to_tell_who_the_user_is_the_widget_says_so(
    stage: Stage, browser: Browser
) -> None:
    widget = await open_widget(browser, stage, mode="blocked")
    await widget.wait_state("error")
    assert "Element hat die Anmeldung nicht erlaubt." in await widget.text()
    assert await widget.frame.locator("button.retry").is_visible()
    await widget.page.context.close()


async def test_in_english_the_dashboard_loads_once_the_user_confirms_in_element(
    stage: Stage, browser: Browser
) -> None:
    token = await openid_token(stage.synapse, stage.coordinator)
    widget = await open_widget(browser, stage, mode="request", token=token, lang="en")
    await widget.wait_state("confirm")
    assert "Please confirm in Element" in await widget.text()
    await widget.page.click("#allow")  # the user's "Continue" in Element's dialog
    await widget.ready()
    headings = await widget.frame.locator("h2").all_inner_texts()
    assert headings[:3] == ["Committees", "Overdue agreements", "Possible duplicate work"]
    row = widget.frame.locator("#overdue tbody tr", has_text=dashboard_scene.KNOWN_TEXT)
    assert dashboard_scene.KNOWN_REASON in await row.inner_text()
    await widget.screenshot("dashboard-en")
    await widget.page.context.close()


async def test_a_page_at_another_address_than_element_cannot_embed_the_dashboard(
    stage: Stage, browser: Browser
) -> None:
    # The same host page, at an origin not in dashboard.element_origins (CSP frame-ancestors).
    foreign = stage.host_origin.replace("127.0.0.1", "localhost")
    widget = await open_widget(browser, stage, mode="allowed", host_origin=foreign)
    assert widget.frame.url.startswith("chrome-error://")
    assert await widget.page.evaluate("window.fromWidget.length") == 0
    await widget.page.context.close()
