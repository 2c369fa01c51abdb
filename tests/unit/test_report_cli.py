"""`gremienbot report` as the operator runs it: the Beschlusskontrolle, the evaluation and
a meeting's minutes as PDF files to file, and one clear line with exit code 2 for what
cannot be done."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.cli import main
from storage.migrate import upgrade
from tests.dialog import CHAIR, Dialog
from tests.export_data import ROOMS, fill_year
from tests.papers_support import open_pdf, pages, words, write_artifacts
from tests.unit.test_export_cli import config_for

FRUEHE = "Netzwerk Frühe Bildung"
FRUEHE_ID = next(room_id for room_id, name in ROOMS.items() if name == FRUEHE)


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Three committees' agreements of 2026, and one meeting of the Netzwerk."""
    config, db = config_for(tmp_path_factory.mktemp("report"), "source")
    upgrade(db.engine)
    fill_year(db, per_room=6)
    network = Dialog(db, room_id=FRUEHE_ID)
    network.say(CHAIR, "!sitzung start Februarsitzung")
    network.say(CHAIR, "!sitzung ende")
    db.dispose()
    return config


def report(source: Path, out: Path, *args: str) -> int:
    return main(["report", "-c", str(source), *args, "--out", str(out)])


def test_the_quarters_report_of_every_committee(
    source: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "bericht.pdf"
    assert report(source, out, "--kind", "bericht", "--period", "Q1 2026") == 0
    pdf = out.read_bytes()
    write_artifacts("report-cli-bericht", pdf)
    text = words(pdf)
    assert "Beschlusskontrolle: 1. Quartal 2026" in text
    assert "3 Gremien · 1. Quartal 2026" in pages(pdf)[0]
    for name in ROOMS.values():
        assert name in text
    with open_pdf(pdf) as doc:
        assert str(doc.Root.Lang) == "de"
        assert "/StructTreeRoot" in doc.Root
    assert f"{out}: Beschlusskontrolle: 1. Quartal 2026" in capsys.readouterr().out


def test_one_committees_report_by_the_rooms_name(source: Path, tmp_path: Path) -> None:
    out = tmp_path / "netzwerk.pdf"
    assert report(source, out, "--kind", "bericht", "--room", FRUEHE, "--period", "2026") == 0
    text = words(out.read_bytes())
    assert f"{FRUEHE} · 2026" in text
    others = [name for name in ROOMS.values() if name != FRUEHE]
    assert not any(name in text for name in others)


@pytest.mark.parametrize(
    ("args", "title"),
    [
        (["--kind", "auswertung", "--room", FRUEHE, "--period", "2026"], "Auswertung 2026"),
        (["--kind", "protokoll", "--room", FRUEHE, "--meeting", "1"], "Februarsitzung"),
    ],
)
def test_the_evaluation_and_the_minutes_as_the_chat_sends_them(
    source: Path, tmp_path: Path, args: list[str], title: str
) -> None:
    out = tmp_path / "paper.pdf"
    assert report(source, out, *args) == 0
    pdf = out.read_bytes()
    assert title in words(pdf)
    assert FRUEHE in words(pdf)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--kind", "bericht", "--room", "Kein Gremium"], "report: no room 'Kein Gremium'"),
        (
            ["--kind", "bericht", "--period", "gestern"],
            "report: Den Zeitraum „gestern“ verstehe ich nicht.",
        ),
        (["--kind", "auswertung", "--period", "2099"], "report: Der Zeitraum „2099“ geht nicht"),
        (["--kind", "protokoll", "--meeting", "1"], "report: --kind protokoll needs --room"),
        (["--kind", "protokoll", "--room", FRUEHE], "report: --kind protokoll needs --room"),
        (
            ["--kind", "protokoll", "--room", FRUEHE, "--meeting", "1", "--period", "2026"],
            "report: --kind protokoll takes no --period",
        ),
        (["--kind", "bericht", "--meeting", "1"], "report: --meeting is for --kind protokoll"),
        (
            ["--kind", "protokoll", "--room", FRUEHE, "--meeting", "9"],
            "report: In diesem Raum gibt es keine Sitzung #9",
        ),
    ],
)
def test_bad_input_exits_2_with_one_line_and_writes_nothing(
    source: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    args: list[str],
    message: str,
) -> None:
    out = tmp_path / "paper.pdf"
    assert report(source, out, *args) == 2
    err = capsys.readouterr().err
    assert err.startswith(message)
    assert err.count("\n") == 1
    assert list(tmp_path.iterdir()) == []


def test_a_missing_folder_for_the_file_exits_2(
    source: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "nowhere" / "bericht.pdf"
    assert report(source, out, "--kind", "bericht") == 2
    assert capsys.readouterr().err == f"report: {out.parent} is no directory\n"


def test_an_unknown_kind_is_refused_by_the_parser(
    source: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_:
        report(source, tmp_path / "x.pdf", "--kind", "jahresbericht")
    assert exit_.value.code == 2
    assert "invalid choice: 'jahresbericht'" in capsys.readouterr().err
