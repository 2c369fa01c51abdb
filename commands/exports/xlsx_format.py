"""XLSX: one sheet per section, with real dates and numbers, a frozen bold header row and
set column widths.

The workbook's XML is written here, not by a spreadsheet library: a section's cells are
only text, whole numbers, dates and moments, and at 100,000 rows XlsxWriter spent three
quarters of an export in its general per-cell machinery (3.3 of 4.3 s). The parts around
the cells are the ones XlsxWriter wrote (its files open in Excel and LibreOffice), less its
theme (the fonts name Calibri themselves) and with a <col> per column; the cells are
written as it wrote them, byte for byte: inline strings (user text is a string cell, never
a formula or a link, whatever it starts with), control characters as `_xHHHH_`, text cut
at Excel's limit of 32,767 characters, dates as Excel's serial numbers with a date format.
Rows stream through a temporary file, as in XlsxWriter's constant-memory mode: memory
does not grow with the row count."""

from __future__ import annotations

import datetime as dt
import re
import shutil
import tempfile
import zipfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import BinaryIO, TextIO

from sqlmodel import Session

from commands.exports.rendering import Progress, counted
from commands.exports.sections import Column, ColumnType, Scope, Section, Value, local

MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DATE_FORMAT = "DD.MM.YYYY"
DATETIME_FORMAT = "DD.MM.YYYY HH:MM"
# Sheet names: at most 31 characters, none of these.
_FORBIDDEN = str.maketrans(dict.fromkeys("[]:*?/\\", "-"))
# Excel's limit for a cell's text, in UTF-16 code units.
MAX_TEXT = 32_767
# Cell styles: their index in styles.xml's <cellXfs>.
_BOLD, _DATE, _DATETIME = ' s="1"', ' s="2"', ' s="3"'
# The XML of one non-empty cell from its reference ("B7") and value.
CellWriter = Callable[[str, Value], str]
# Rows are written to the temporary file in batches of this many.
_BATCH = 1000
# What a text needs more than its characters for: XML's special characters, control
# characters (which XML 1.0 cannot hold; Excel writes them as _xHHHH_), and text that
# already looks like such an escape (Excel would read it as one: its "_" is escaped).
_SPECIAL = re.compile(r"[&<>\x00-\x08\x0b-\x1f\ufffe\uffff]|_x[0-9a-fA-F]{4}_")
_LOOKS_ESCAPED = re.compile(r"(_x[0-9a-fA-F]{4}_)")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f]")
# Excel's day 0; it counts 29 February 1900, which never was, so later days are one more.
_EPOCH_DAY = dt.date(1899, 12, 31).toordinal()
# Every part is stored with this time, as XlsxWriter does: the same rows, the same file.
_ZIP_TIME = (1980, 1, 31, 0, 0, 0)

_XML = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_DOCUMENT = "http://schemas.openxmlformats.org/officeDocument/2006"
_DOC_RELS = f"{_DOCUMENT}/relationships"
_PACKAGE = "http://schemas.openxmlformats.org/package/2006"
_PACKAGE_RELS = f"{_PACKAGE}/relationships"
_TYPES = "application/vnd.openxmlformats-officedocument"
_STYLES = (
    f'{_XML}<styleSheet xmlns="{_MAIN}">'
    f'<numFmts count="2"><numFmt numFmtId="164" formatCode="{DATE_FORMAT}"/>'
    f'<numFmt numFmtId="165" formatCode="{DATETIME_FORMAT}"/></numFmts>'
    '<fonts count="2"><font><sz val="11"/><name val="Calibri"/><family val="2"/></font>'
    '<font><b/><sz val="11"/><name val="Calibri"/><family val="2"/></font></fonts>'
    '<fills count="2"><fill><patternFill patternType="none"/></fill>'
    '<fill><patternFill patternType="gray125"/></fill></fills>'
    '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
    '<cellXfs count="4"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
    '<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/>'
    '<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    '<xf numFmtId="165" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    "</cellXfs>"
    '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
    '<dxfs count="0"/><tableStyles count="0" defaultTableStyle="TableStyleMedium9" '
    'defaultPivotStyle="PivotStyleLight16"/></styleSheet>'
)
_SHEET_END = (
    '</sheetData><pageMargins left="0.7" right="0.7" top="0.75" bottom="0.75" '
    'header="0.3" footer="0.3"/></worksheet>'
)


def sheet_name(title: str) -> str:
    return title.translate(_FORBIDDEN)[:31]


def render(
    db: Session, sections: Sequence[Section], scope: Scope, out: BinaryIO, progress: Progress
) -> None:
    names = [sheet_name(section.title(scope.lang)) for section in sections]
    with (
        tempfile.TemporaryDirectory(prefix="gremienbot-xlsx-") as tmp,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive,
    ):
        for name, text in _package(names, scope.now).items():
            _store(archive, name, text.encode())
        for i, section in enumerate(sections, 1):
            rows = Path(tmp) / f"sheet{i}.xml"
            with rows.open("w", encoding="utf-8") as fh:
                last_row = _write_rows(fh, db, section, scope, progress)
            head = _sheet_head(section, first=i == 1, last_row=last_row).encode()
            _store_sheet(archive, f"xl/worksheets/sheet{i}.xml", head, rows)


def _write_rows(fh: TextIO, db: Session, section: Section, scope: Scope, progress: Progress) -> int:
    """The header row and the section's rows as <row> elements; the last row's number."""
    letters = [_column_letter(c) for c in range(len(section.columns))]
    headers = section.headers(scope.lang)
    fh.write('<row r="1">')
    fh.write("".join(_text(f"{x}1", h, _BOLD) for x, h in zip(letters, headers, strict=True)))
    fh.write("</row>")
    # A writer per column, chosen once: the loop below runs for every cell of large sheets.
    writers = [_cell_writer(column, scope) for column in section.columns]
    last_row = 1
    batch: list[str] = []
    for r, row in enumerate(counted(section.rows(db, scope), section.name, progress), 2):
        n = str(r)
        cells = [
            write(x + n, value)
            for write, x, value in zip(writers, letters, row, strict=True)
            if value is not None
        ]
        # A row without values is left out, as Excel leaves it out.
        if cells:
            batch.append(f'<row r="{n}">{"".join(cells)}</row>')
            last_row = r
        if len(batch) >= _BATCH:
            fh.write("".join(batch))
            batch.clear()
    fh.write("".join(batch))
    return last_row


def _cell_writer(column: Column, scope: Scope) -> CellWriter:
    lang, tz = scope.lang, scope.tz

    def labelled(ref: str, value: Value) -> str:
        return _plain(ref, column.show(value, lang))

    other = _plain if column.labels is None else labelled

    if column.type == ColumnType.DATETIME:

        def moment(ref: str, value: Value) -> str:
            if isinstance(value, dt.datetime):
                return _number(ref, _serial(local(value, tz)), _DATETIME)
            return other(ref, value)

        return moment
    if column.type == ColumnType.DATE:

        def day(ref: str, value: Value) -> str:
            if isinstance(value, dt.date):
                return _number(ref, _serial(value), _DATE)
            return other(ref, value)

        return day
    return other


def _plain(ref: str, value: Value) -> str:
    if isinstance(value, str):
        return _text(ref, value)
    if isinstance(value, dt.date):
        # A date outside a date column: its serial number, as XlsxWriter's write() did.
        return _number(ref, _serial(value))
    if isinstance(value, int):
        return _number(ref, value)
    raise TypeError(f"no XLSX cell for {type(value).__name__}")


def _number(ref: str, number: float, style: str = "") -> str:
    return f'<c r="{ref}"{style}><v>{number:.16G}</v></c>'


def _text(ref: str, text: str, style: str = "") -> str:
    """A string cell: text, never a formula, a number or a link."""
    if len(text) > MAX_TEXT // 2:
        text = _fit(text)
    if _SPECIAL.search(text) is not None:
        text = _escaped(text)
    # Leading or trailing spaces, tabs or line breaks are kept.
    space = ' xml:space="preserve"' if text[:1].isspace() or text[-1:].isspace() else ""
    return f'<c r="{ref}"{style} t="inlineStr"><is><t{space}>{text}</t></is></c>'


def _fit(text: str) -> str:
    """The text cut to Excel's limit (in UTF-16 units, where an emoji counts two), as
    XlsxWriter cut it; never in the middle of a character."""
    length = 0
    for i, char in enumerate(text):
        length += 2 if ord(char) > 0xFFFF else 1
        if length > MAX_TEXT:
            return text[:i]
    return text


def _escaped(text: str) -> str:
    text = _LOOKS_ESCAPED.sub(r"_x005F\1", text)
    text = _CONTROL.sub(lambda m: f"_x{ord(m.group()):04X}_", text)
    text = text.replace("\ufffe", "_xFFFE_").replace("\uffff", "_xFFFF_")
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _serial(moment: dt.date) -> float:
    """Excel's serial number of a day or a wall-clock moment (its time zone dropped): the
    days since day 0 and the fraction of the day, computed as XlsxWriter computed them."""
    serial: float = moment.toordinal() - _EPOCH_DAY
    if isinstance(moment, dt.datetime):
        seconds = moment.hour * 3600 + moment.minute * 60 + moment.second
        serial += (seconds + moment.microsecond / 1e6) / 86400
    return serial + 1 if serial > 59 else serial


def _escaped_name(name: str) -> str:
    """A sheet's name in an attribute or an element (not xml.sax.saxutils: it imports
    urllib.request, 50 ms and more memory for the running bot)."""
    return (
        name.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
    )


def _column_letter(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return letters


def _column_width(width: float) -> str:
    """A width in characters as Excel stores it: in pixels of Calibri 11's digits (7)
    with 5 pixels of padding, in 1/256 of a digit."""
    pixels = int(width * 12 + 0.5) if width < 1 else int(width * 7 + 0.5) + 5
    return f"{pixels * 256 // 7 / 256:.16g}"


def _sheet_head(section: Section, *, first: bool, last_row: int) -> str:
    last_column = _column_letter(len(section.columns) - 1)
    dimension = "A1" if last_row == 1 and last_column == "A" else f"A1:{last_column}{last_row}"
    selected = ' tabSelected="1"' if first else ""
    cols = "".join(
        f'<col min="{i}" max="{i}" width="{_column_width(c.width)}" customWidth="1"/>'
        for i, c in enumerate(section.columns, 1)
    )
    return (
        f'{_XML}<worksheet xmlns="{_MAIN}" xmlns:r="{_DOC_RELS}">'
        f'<dimension ref="{dimension}"/>'
        f'<sheetViews><sheetView{selected} workbookViewId="0">'
        '<pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/>'
        '<selection pane="bottomLeft"/></sheetView></sheetViews>'
        f'<sheetFormatPr defaultRowHeight="15"/><cols>{cols}</cols><sheetData>'
    )


def _package(names: Sequence[str], now: dt.datetime) -> dict[str, str]:
    """Every part of the workbook but its sheets, in the order they are stored."""
    count = len(names)
    sheets = range(1, count + 1)
    sheet_type = f"{_TYPES}.spreadsheetml.worksheet+xml"
    created = f"{now.astimezone(dt.UTC):%Y-%m-%dT%H:%M:%SZ}"
    return {
        "[Content_Types].xml": (
            f'{_XML}<Types xmlns="{_PACKAGE}/content-types">'
            '<Default Extension="rels" '
            'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/docProps/app.xml" '
            f'ContentType="{_TYPES}.extended-properties+xml"/>'
            '<Override PartName="/docProps/core.xml" '
            'ContentType="application/vnd.openxmlformats-package.core-properties+xml"/>'
            '<Override PartName="/xl/styles.xml" '
            f'ContentType="{_TYPES}.spreadsheetml.styles+xml"/>'
            '<Override PartName="/xl/workbook.xml" '
            f'ContentType="{_TYPES}.spreadsheetml.sheet.main+xml"/>'
            + "".join(
                f'<Override PartName="/xl/worksheets/sheet{i}.xml" ContentType="{sheet_type}"/>'
                for i in sheets
            )
            + "</Types>"
        ),
        "_rels/.rels": (
            f'{_XML}<Relationships xmlns="{_PACKAGE_RELS}">'
            f'<Relationship Id="rId1" Type="{_DOC_RELS}/officeDocument" Target="xl/workbook.xml"/>'
            f'<Relationship Id="rId2" Type="{_PACKAGE_RELS}/metadata/core-properties" '
            'Target="docProps/core.xml"/>'
            f'<Relationship Id="rId3" Type="{_DOC_RELS}/extended-properties" '
            'Target="docProps/app.xml"/></Relationships>'
        ),
        "docProps/app.xml": (
            f'{_XML}<Properties xmlns="{_DOCUMENT}/extended-properties" '
            f'xmlns:vt="{_DOCUMENT}/docPropsVTypes"><Application>Microsoft Excel</Application>'
            "<DocSecurity>0</DocSecurity><ScaleCrop>false</ScaleCrop><HeadingPairs>"
            '<vt:vector size="2" baseType="variant"><vt:variant><vt:lpstr>Worksheets</vt:lpstr>'
            f"</vt:variant><vt:variant><vt:i4>{count}</vt:i4></vt:variant></vt:vector>"
            f'</HeadingPairs><TitlesOfParts><vt:vector size="{count}" baseType="lpstr">'
            + "".join(f"<vt:lpstr>{_escaped_name(name)}</vt:lpstr>" for name in names)
            + "</vt:vector></TitlesOfParts><Company></Company><LinksUpToDate>false"
            "</LinksUpToDate><SharedDoc>false</SharedDoc><HyperlinksChanged>false"
            "</HyperlinksChanged><AppVersion>12.0000</AppVersion></Properties>"
        ),
        "docProps/core.xml": (
            f"{_XML}<cp:coreProperties "
            f'xmlns:cp="{_PACKAGE}/metadata/core-properties" '
            'xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/" '
            'xmlns:dcmitype="http://purl.org/dc/dcmitype/" '
            'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
            "<dc:creator></dc:creator><cp:lastModifiedBy></cp:lastModifiedBy>"
            f'<dcterms:created xsi:type="dcterms:W3CDTF">{created}</dcterms:created>'
            f'<dcterms:modified xsi:type="dcterms:W3CDTF">{created}</dcterms:modified>'
            "</cp:coreProperties>"
        ),
        "xl/workbook.xml": (
            f'{_XML}<workbook xmlns="{_MAIN}" xmlns:r="{_DOC_RELS}">'
            '<fileVersion appName="xl" lastEdited="4" lowestEdited="4" rupBuild="4505"/>'
            '<workbookPr defaultThemeVersion="124226"/><bookViews><workbookView xWindow="240" '
            'yWindow="15" windowWidth="16095" windowHeight="9660"/></bookViews><sheets>'
            + "".join(
                f'<sheet name="{_escaped_name(name)}" sheetId="{i}" r:id="rId{i}"/>'
                for i, name in enumerate(names, 1)
            )
            + '</sheets><calcPr calcId="124519" fullCalcOnLoad="1"/></workbook>'
        ),
        "xl/_rels/workbook.xml.rels": (
            f'{_XML}<Relationships xmlns="{_PACKAGE_RELS}">'
            + "".join(
                f'<Relationship Id="rId{i}" Type="{_DOC_RELS}/worksheet" '
                f'Target="worksheets/sheet{i}.xml"/>'
                for i in sheets
            )
            + f'<Relationship Id="rId{count + 1}" Type="{_DOC_RELS}/styles" Target="styles.xml"/>'
            "</Relationships>"
        ),
        "xl/styles.xml": _STYLES,
    }


def _store(archive: zipfile.ZipFile, name: str, data: bytes) -> None:
    info = zipfile.ZipInfo(name, _ZIP_TIME)
    info.compress_type = zipfile.ZIP_DEFLATED
    archive.writestr(info, data)


def _store_sheet(archive: zipfile.ZipFile, name: str, head: bytes, rows: Path) -> None:
    info = zipfile.ZipInfo(name, _ZIP_TIME)
    info.compress_type = zipfile.ZIP_DEFLATED
    tail = _SHEET_END.encode()
    # Known beforehand, so that a sheet over 2 GB is stored in the ZIP64 format.
    info.file_size = len(head) + rows.stat().st_size + len(tail)
    with archive.open(info, "w") as part, rows.open("rb") as body:
        part.write(head)
        shutil.copyfileobj(body, part)
        part.write(tail)
