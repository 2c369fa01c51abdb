"""`gremienbot export` and `gremienbot import` as the operator runs them."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from pathlib import Path

import openpyxl
import pytest
import yaml

from bot.cli import main
from storage.db import Database
from storage.migrate import upgrade
from tests.export_data import ROOMS, fill_year


def config_for(tmp_path: Path, name: str) -> tuple[Path, Database]:
    folder = tmp_path / name
    folder.mkdir()
    url = f"sqlite:///{folder / 'gremienbot.db'}"
    config = folder / "config.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "homeserver": "https://matrix.example.org",
                "user_id": "@gremienbot:example.org",
                "password": "x",
                "data_dir": str(folder),
                "database": {"url": url},
            }
        ),
        "utf-8",
    )
    return config, Database(url)


@pytest.fixture
def source(tmp_path: Path) -> Path:
    config, db = config_for(tmp_path, "source")
    upgrade(db.engine)
    fill_year(db, per_room=20)
    db.dispose()
    return config


def test_export_of_one_room_by_name_for_a_quarter_as_xlsx(source: Path, tmp_path: Path) -> None:
    out = tmp_path / "q1.xlsx"
    args = ["export", "-c", str(source), "--format", "xlsx", "--room", "Netzwerk Frühe Bildung"]
    code = main([*args, "--from", "2026-01-01", "--to", "31.03.2026", "--out", str(out)])
    assert code == 0
    sheet = openpyxl.load_workbook(out)["Verabredungen"]
    rooms = {row[0] for row in sheet.iter_rows(min_row=2, values_only=True)}
    assert rooms == {"Netzwerk Frühe Bildung"}


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--room", "Kein Gremium"], "no room 'Kein Gremium'"),
        (["--from", "2026-03-01", "--to", "2026-01-01"], "is before --from"),
        (["--from", "März", "--to", "2026-04-01"], "--from 'März' is no date"),
        (["--from", "2026-01-01"], "give both --from and --to"),
    ],
)
def test_bad_arguments_exit_2_with_the_reason_and_write_nothing(
    source: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], extra: list[str], message: str
) -> None:
    out = tmp_path / "out.zip"
    code = main(["export", "-c", str(source), "--format", "csv", *extra, "--out", str(out)])
    assert code == 2
    assert message in capsys.readouterr().err
    assert not out.exists()
    assert list(tmp_path.glob(".export-*")) == []


def test_an_unknown_format_exits_2(source: Path, tmp_path: Path) -> None:
    out = tmp_path / "out.pdf"
    with pytest.raises(SystemExit) as stop:
        main(["export", "-c", str(source), "--format", "pdf", "--out", str(out)])
    assert stop.value.code == 2
    assert not out.exists()


def test_json_export_imports_into_a_new_database_and_exports_the_same(
    source: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    dump = tmp_path / "backup.json"
    assert main(["export", "-c", str(source), "--format", "json", "--out", str(dump)]) == 0
    target, db = config_for(tmp_path, "target")
    assert main(["migrate", "-c", str(target)]) == 0
    assert main(["import", "-c", str(target), str(dump)]) == 0
    assert "rows imported" in capsys.readouterr().out
    again = tmp_path / "again.json"
    assert main(["export", "-c", str(target), "--format", "json", "--out", str(again)]) == 0
    assert again.read_bytes() == dump.read_bytes()
    # A second import into the now filled database is refused.
    assert main(["import", "-c", str(target), str(dump)]) == 2
    assert "the database is not empty" in capsys.readouterr().err
    db.dispose()


def test_import_refuses_a_truncated_file_and_an_unmigrated_database(
    source: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    dump = tmp_path / "backup.json"
    main(["export", "-c", str(source), "--format", "json", "--out", str(dump)])
    target, db = config_for(tmp_path, "target")
    assert main(["import", "-c", str(target), str(dump)]) == 2
    assert "run `gremienbot migrate` first" in capsys.readouterr().err
    main(["migrate", "-c", str(target)])
    truncated = tmp_path / "truncated.json"
    truncated.write_bytes(dump.read_bytes()[:5000])
    assert main(["import", "-c", str(target), str(truncated)]) == 2
    err = capsys.readouterr().err
    assert "not valid JSON (damaged or truncated?)" in err
    assert "nothing was imported" in err
    foreign = tmp_path / "foreign.json"
    foreign.write_text(json.dumps({"rooms": []}), "utf-8")
    assert main(["import", "-c", str(target), str(foreign)]) == 2
    assert "not a gremienbot dump" in capsys.readouterr().err
    db.dispose()


@pytest.mark.parametrize("name", ["all.csv", "all", "all.CSV"])
def test_csv_of_every_table_into_a_file_not_named_zip_is_refused_naming_both_ways(
    source: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str
) -> None:
    out = tmp_path / name
    assert main(["export", "-c", str(source), "-f", "csv", "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "Traceback" not in err
    assert ".zip" in err
    assert "--section agreements" in err
    assert not out.exists()
    assert list(tmp_path.glob(".export-*")) == []


@pytest.mark.parametrize("section", ["agreements", "history", "meetings", "polls"])
def test_one_section_as_a_plain_csv_file_that_excel_opens(
    source: Path, tmp_path: Path, section: str
) -> None:
    out = tmp_path / f"{section}.csv"
    args = ["export", "-c", str(source), "-f", "csv", "--section", section, "-o", str(out)]
    assert main(args) == 0
    raw = out.read_bytes()
    assert not zipfile.is_zipfile(out)
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"), newline="")))
    assert rows[0][0] == "Gremium"
    if section == "agreements":
        assert len(rows) == 3 * 20 + 1
        assert {row[0] for row in rows[1:]} == set(ROOMS.values())


def test_a_section_into_a_zip_name_or_of_the_json_dump_is_refused(
    source: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "x.zip"
    args = ["export", "-c", str(source), "--section", "agreements", "-o", str(out)]
    assert main([*args, "-f", "csv"]) == 2
    assert "name it .csv" in capsys.readouterr().err
    assert main([*args, "-f", "json"]) == 2
    assert "--section does not apply" in capsys.readouterr().err
    assert not out.exists()


def test_a_section_of_the_xlsx_is_one_sheet(source: Path, tmp_path: Path) -> None:
    out = tmp_path / "history.xlsx"
    args = ["export", "-c", str(source), "-f", "xlsx", "--section", "history", "-o", str(out)]
    assert main(args) == 0
    assert openpyxl.load_workbook(out).sheetnames == ["Verlauf"]


def test_a_period_beyond_the_calendar_exits_2_with_the_bounds(
    source: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "x.xlsx"
    args = ["export", "-c", str(source), "-f", "xlsx", "-o", str(out)]
    assert main([*args, "--from", "01.01.0001", "--to", "31.12.9999"]) == 2
    err = capsys.readouterr().err
    assert "--from and --to must lie between 2000-01-01 and " in err
    assert "Traceback" not in err
    assert not out.exists()


def test_the_operators_json_is_the_complete_dump_to_keep_like_a_database_backup(
    source: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "backup.json"
    assert main(["export", "-c", str(source), "-f", "json", "-o", str(out)]) == 0
    assert "keep it like a database backup" in capsys.readouterr().out
    data = json.loads(out.read_text("utf-8"))
    assert data["format"] == "gremienbot-dump"
    assert {"poll_vote", "survey_comment", "survey_participant"} <= {
        t["name"] for t in data["tables"]
    }


def test_csv_export_of_everything(source: Path, tmp_path: Path) -> None:
    out = tmp_path / "all.zip"
    assert main(["export", "-c", str(source), "-f", "csv", "-o", str(out)]) == 0
    assert zipfile.ZipFile(out).namelist() == [
        "verabredungen.csv",
        "verlauf.csv",
        "sitzungen.csv",
        "umfragen.csv",
        "beschlüsse.csv",
    ]
