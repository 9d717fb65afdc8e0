"""Lay out a catalogue as PDF with ReportLab platypus: plain data in, PDF bytes out.

No database and no Flask here: ``portal.pdf.catalogue`` turns published rows into the
``FormationEntry`` records below, and this module only draws them.

The document is built in **one pass**. A table of contents normally needs two (platypus'
``multiBuild`` lays the whole document out again once the page numbers are known); here the
page numbers of the contents and the "/ total" of the footers are PDF form XObjects that the
pages reference while they are drawn and that the canvas defines when it saves, once every
page number is known. The text stays real text (pdftotext reads it), and the layout cost is
paid once.

The body is drawn by small flowables rather than platypus' Paragraph (which parses markup and
measures every fragment) and Table (which styles and measures every cell, then draws each line
of each cell as its own text object): ``TextBlock`` (plain text wrapped with cached word
widths) and ``SessionsTable`` (rows of pre-wrapped strings, split between pages by rows)
each draw their text in one PDF text object. bench/pdf_bench.py measures it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from typing import Any, BinaryIO
from xml.sax.saxutils import escape

from reportlab import rl_config
from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    BaseDocTemplate,
    CondPageBreak,
    Flowable,
    Frame,
    NextPageTemplate,
    PageBreak,
    PageTemplate,
    Paragraph,
    Spacer,
)

from .fonts import BOLD, REGULAR, register_fonts

Progress = Callable[[int, int], None]

PAGE_WIDTH, PAGE_HEIGHT = A4
MARGIN_X = 16 * mm
MARGIN_TOP = 22 * mm
MARGIN_BOTTOM = 20 * mm
FRAME_WIDTH = PAGE_WIDTH - 2 * MARGIN_X

BLUE = colors.HexColor("#1d4f91")
GREY = colors.HexColor("#5b6675")
LINE = colors.HexColor("#c9d1dc")
HEADER_BG = colors.HexColor("#eef2f7")

# Columns of the sessions table: (header, width in points). They add up to FRAME_WIDTH.
SESSION_COLUMNS = (
    ("Session", 62),
    ("Dates", 64),
    ("Lieu", 76),
    ("Durées", 74),
    ("Places", 34),
    ("Frais TTC", 62),
)
CONTACT_WIDTH = FRAME_WIDTH - sum(w for _, w in SESSION_COLUMNS)
_COLUMN_WIDTHS = (*(w for _, w in SESSION_COLUMNS), CONTACT_WIDTH)
_COLUMN_X = tuple(sum(_COLUMN_WIDTHS[:i]) for i in range(len(_COLUMN_WIDTHS)))
TABLE_FONT_SIZE = 7.5
TABLE_LEADING = 9.2
CELL_PADDING = 3
ROW_PADDING = 4
HEADER_HEIGHT = TABLE_LEADING + ROW_PADDING
MAX_CELL_LINES = 8
TOC_NUMBER_WIDTH = 36
FOOTER_NUMBER_ROOM = 70
TOC_FONT_SIZE = 9
TOC_LEADING = 11.5
TOC_MAX_LINES = 2


@dataclass(frozen=True)
class SessionEntry:
    """One row of a sessions table; every value is already formatted for display."""

    fas_code: str
    dates: str
    place: str
    durations: str
    places: str
    fees: str
    contact: str


@dataclass(frozen=True)
class ActionEntry:
    code: str  # F-A
    organisation: str
    title_complement: str = ""
    lines: tuple[str, ...] = ()  # "Lieu de formation : …", "Niveau d'entrée : …"
    sessions: tuple[SessionEntry, ...] = ()


@dataclass(frozen=True)
class FormationEntry:
    key: str  # unique within the document: the bookmark name
    title: str
    organisation: str  # shown in the contents after the title
    details: tuple[str, ...] = ()  # certification, programme, lot
    objective: str = ""
    actions: tuple[ActionEntry, ...] = ()


@dataclass(frozen=True)
class CatalogueMeta:
    title: str
    criteria: tuple[tuple[str, str], ...]  # ("Programme", "…"), shown on the cover
    generated_on: date
    publisher: str = "Carif-Oref des Pays de la Loire"
    notice: str = ""
    formations: int = 0
    sessions: int = 0


@dataclass
class _Book:
    """What the pages learn while they are drawn, read back when the canvas saves."""

    total: int
    progress: Progress | None
    pages: dict[str, int] = field(default_factory=dict)  # bookmark key → page number
    last_page: int = 0
    drawn: int = 0


def _setup() -> None:
    register_fonts()
    # Plain deflated streams: ReportLab's default extra ASCII85 layer makes files a quarter
    # bigger and, without its C accelerator, takes a quarter of the build time. The setting is
    # process-wide, but nothing else in the portal draws PDFs.
    rl_config.useA85 = 0


@lru_cache(maxsize=1)
def _styles() -> dict[str, ParagraphStyle]:
    _setup()
    base = ParagraphStyle("base", fontName=REGULAR, fontSize=9, leading=11.5)
    return {
        "cover_title": ParagraphStyle(
            "cover_title",
            base,
            fontName=BOLD,
            fontSize=26,
            leading=32,
            textColor=BLUE,
            alignment=TA_CENTER,
            spaceAfter=10 * mm,
        ),
        "cover": ParagraphStyle(
            "cover", base, fontSize=12, leading=17, alignment=TA_CENTER, spaceAfter=3 * mm
        ),
        "cover_small": ParagraphStyle(
            "cover_small", base, fontSize=9.5, leading=13, alignment=TA_CENTER, textColor=GREY
        ),
        "h1": ParagraphStyle(
            "h1", base, fontName=BOLD, fontSize=18, leading=22, textColor=BLUE, spaceAfter=6 * mm
        ),
        "empty": ParagraphStyle("empty", base, fontSize=11, leading=15, textColor=GREY),
    }


@lru_cache(maxsize=65536)
def _width(text: str, font: str, size: float) -> float:
    register_fonts()  # wrap_text may be the first use of the fonts
    return stringWidth(text, font, size)


def _hard_cut(word: str, width: float, font: str, size: float) -> list[str]:
    """Cut a word wider than ``width`` (an e-mail, a URL) into pieces that fit."""
    pieces = []
    while word and _width(word, font, size) > width:
        cut = len(word) - 1
        while cut > 1 and _width(word[:cut], font, size) > width:
            cut -= 1
        # Rather after a separator of the address: "prenom.nom@" / "organisme.fr".
        separator = max(word.rfind(c, 0, cut) for c in "@.-_/")
        if separator > cut // 2:
            cut = separator + 1
        pieces.append(word[:cut])
        word = word[cut:]
    return [*pieces, word] if word else pieces


def wrap_text(
    text: str,
    width: float,
    font: str = REGULAR,
    size: float = TABLE_FONT_SIZE,
    max_lines: int | None = None,
    first_indent: float = 0,
) -> list[str]:
    """Break ``text`` into lines no wider than ``width`` (the first one ``first_indent``
    narrower); words too long are cut. Widths are summed from cached word widths: the fonts
    have no kerning, so this is exact, and far cheaper than a Paragraph."""
    lines: list[str] = []
    space = _width(" ", font, size)
    for raw in text.split("\n"):
        current: list[str] = []
        used = 0.0
        for word in raw.split():
            room = width - (first_indent if not lines else 0)
            w = _width(word, font, size)
            if current and used + space + w <= room:
                current.append(word)
                used += space + w
                continue
            if current:
                lines.append(" ".join(current))
                room = width
            if w > room:
                *full, word = _hard_cut(word, room, font, size)
                lines.extend(full)
                w = _width(word, font, size)
            current, used = [word], w
        lines.append(" ".join(current))
    if max_lines is not None and len(lines) > max_lines:
        lines = lines[:max_lines]
        last = lines[-1]
        while last and _width(last + "…", font, size) > width:
            last = last[:-1]
        lines[-1] = last.rstrip() + "…"
    return lines


class TextBlock(Flowable):
    """Plain text wrapped to the frame's width, drawn in one text object; splits by lines.

    ``prefix`` is set in bold before the text ("Objectif :").
    """

    def __init__(
        self,
        text: str,
        *,
        font: str = REGULAR,
        size: float = 9,
        leading: float = 11.5,
        color: colors.Color = colors.black,
        space_before: float = 0,
        space_after: float = 0,
        prefix: str = "",
        lines: list[str] | None = None,
    ):
        super().__init__()
        self.text = text
        self.font, self.size, self.leading, self.color = font, size, leading, color
        self.spaceBefore, self.spaceAfter = space_before, space_after
        self.prefix = prefix
        self.lines = lines
        self._wrapped_for: float | None = None if lines is None else -1

    def _copy(self, lines: list[str], **changes: Any) -> TextBlock:
        values: dict[str, Any] = {
            "font": self.font,
            "size": self.size,
            "leading": self.leading,
            "color": self.color,
            "space_before": self.spaceBefore,
            "space_after": self.spaceAfter,
            "prefix": self.prefix,
        }
        return TextBlock(self.text, lines=lines, **(values | changes))

    def wrap(self, availWidth: float, availHeight: float) -> tuple[float, float]:
        if self._wrapped_for not in (availWidth, -1):
            indent = _width(self.prefix + " ", BOLD, self.size) if self.prefix else 0
            self.lines = wrap_text(self.text, availWidth, self.font, self.size, first_indent=indent)
            self._wrapped_for = availWidth
        self.width = availWidth
        self.height = len(self.lines or ()) * self.leading
        return self.width, self.height

    def split(self, availWidth: float, availHeight: float) -> list[Flowable]:
        self.wrap(availWidth, availHeight)
        lines = self.lines or []
        fit = int(availHeight // self.leading)
        if fit < 2 or len(lines) < 4:  # no widow or orphan line: move the block instead
            return []
        fit = min(fit, len(lines) - 2)
        return [
            self._copy(lines[:fit], space_after=0),
            self._copy(lines[fit:], space_before=0, prefix=""),
        ]

    def draw(self) -> None:
        canv = self.canv
        text = canv.beginText(0, self.height - self.size)
        text.setFillColor(self.color)
        lines = self.lines or []
        if self.prefix and lines:
            text.setFont(BOLD, self.size, self.leading)
            text.textOut(self.prefix + " ")
        text.setFont(self.font, self.size, self.leading)
        for line in lines:
            text.textLine(line)
        canv.drawText(text)


class FormationHeading(TextBlock):
    """The formation's title: drawing it sets its bookmark, outline entry and page number."""

    def __init__(self, text: str, key: str, outline_title: str, book: _Book, **style: Any):
        super().__init__(text, **style)
        self.key = key
        self.outline_title = outline_title
        self.book = book

    def draw(self) -> None:
        super().draw()
        book = self.book
        if self.key in book.pages:  # drawn again? the first place counts
            return
        canv = self.canv
        canv.bookmarkHorizontal(self.key, 0, self.height + 4)
        canv.addOutlineEntry(self.outline_title, self.key, level=1)
        book.pages[self.key] = canv.getPageNumber()
        book.drawn += 1
        if book.progress:
            book.progress(book.drawn, book.total)

    def split(self, availWidth: float, availHeight: float) -> list[Flowable]:
        return []  # a title moves to the next page whole


@dataclass(frozen=True)
class _Row:
    fas_head: str  # "19482-89393-", regular
    fas_tail: str  # "143842", bold
    fas_two_lines: bool
    cells: tuple[tuple[str, ...], ...]  # the other columns, as lines
    height: float


def _row(session: SessionEntry) -> _Row:
    head, _, tail = session.fas_code.rpartition("-")
    head = f"{head}-" if head else ""
    room = SESSION_COLUMNS[0][1] - 2 * CELL_PADDING
    two = bool(head) and (
        _width(head, REGULAR, TABLE_FONT_SIZE) + _width(tail, BOLD, TABLE_FONT_SIZE) > room
    )
    values = (
        session.dates,
        session.place,
        session.durations,
        session.places,
        session.fees,
        session.contact,
    )
    cells = tuple(
        tuple(wrap_text(value, width - 2 * CELL_PADDING, max_lines=MAX_CELL_LINES))
        for value, width in zip(values, _COLUMN_WIDTHS[1:], strict=True)
    )
    lines = max(2 if two else 1, *(len(c) for c in cells))
    return _Row(head, tail, two, cells, lines * TABLE_LEADING + ROW_PADDING)


class SessionsTable(Flowable):
    """The sessions of an action, one row each, with the header repeated on every page."""

    def __init__(self, rows: Sequence[_Row]):
        super().__init__()
        self.rows = list(rows)
        self.spaceBefore, self.spaceAfter = 1.5 * mm, 0

    @classmethod
    def of(cls, sessions: Sequence[SessionEntry]) -> SessionsTable:
        return cls([_row(s) for s in sessions])

    def wrap(self, availWidth: float, availHeight: float) -> tuple[float, float]:
        self.width = FRAME_WIDTH
        self.height = HEADER_HEIGHT + sum(r.height for r in self.rows)
        return self.width, self.height

    def split(self, availWidth: float, availHeight: float) -> list[Flowable]:
        room, fit = availHeight - HEADER_HEIGHT, 0
        for row in self.rows:
            if row.height > room:
                break
            room -= row.height
            fit += 1
        if fit == 0 or fit == len(self.rows):
            return []
        return [SessionsTable(self.rows[:fit]), SessionsTable(self.rows[fit:])]

    def draw(self) -> None:
        canv = self.canv
        top = self.height
        canv.saveState()
        canv.setFillColor(HEADER_BG)
        canv.rect(0, top - HEADER_HEIGHT, self.width, HEADER_HEIGHT, stroke=0, fill=1)
        rules = canv.beginPath()
        y = top - HEADER_HEIGHT
        for row in self.rows:
            rules.moveTo(0, y)
            rules.lineTo(self.width, y)
            y -= row.height
        rules.moveTo(0, y)
        rules.lineTo(self.width, y)
        canv.setStrokeColor(LINE)
        canv.setLineWidth(0.5)
        canv.drawPath(rules, stroke=1, fill=0)
        canv.restoreState()

        text = canv.beginText()
        first = TABLE_FONT_SIZE + 1.5
        text.setFont(BOLD, TABLE_FONT_SIZE, TABLE_LEADING)
        for x, (label, _) in zip(_COLUMN_X, SESSION_COLUMNS, strict=False):
            text.setTextOrigin(x + CELL_PADDING, top - first)
            text.textLine(label)
        text.setTextOrigin(_COLUMN_X[-1] + CELL_PADDING, top - first)
        text.textLine("Contact")
        # Regular text of every row first, then the bold S parts: two font changes per table.
        text.setFont(REGULAR, TABLE_FONT_SIZE, TABLE_LEADING)
        y = top - HEADER_HEIGHT
        for row in self.rows:
            baseline = y - first
            if row.fas_head:
                text.setTextOrigin(CELL_PADDING, baseline)
                text.textLine(row.fas_head)
            for x, lines in zip(_COLUMN_X[1:], row.cells, strict=True):
                if lines and lines[0]:
                    text.setTextOrigin(x + CELL_PADDING, baseline)
                    for line in lines:
                        text.textLine(line)
            y -= row.height
        text.setFont(BOLD, TABLE_FONT_SIZE, TABLE_LEADING)
        y = top - HEADER_HEIGHT
        for row in self.rows:
            if row.fas_two_lines:
                text.setTextOrigin(CELL_PADDING, y - first - TABLE_LEADING)
            else:
                x = CELL_PADDING + _width(row.fas_head, REGULAR, TABLE_FONT_SIZE)
                text.setTextOrigin(x, y - first)
            text.textLine(row.fas_tail)
            y -= row.height
        canv.drawText(text)


class Bookmark(Flowable):
    """A zero-height anchor: bookmark and outline entry at the top of a part (the contents)."""

    def __init__(self, key: str, title: str):
        super().__init__()
        self.key = key
        self.title = title

    def wrap(self, availWidth: float, availHeight: float) -> tuple[float, float]:
        return 0, 0

    def draw(self) -> None:
        self.canv.bookmarkHorizontal(self.key, 0, 20)
        self.canv.addOutlineEntry(self.title, self.key, level=0)


class TocLine(Flowable):
    """One line of the contents: title, dot leader, page number (a form filled in at save)."""

    def __init__(self, text: str, key: str, number_form: str):
        super().__init__()
        self.text = text
        self.key = key
        self.number_form = number_form
        self.lines: list[str] = []

    def wrap(self, availWidth: float, availHeight: float) -> tuple[float, float]:
        self.width = availWidth
        self.lines = wrap_text(
            self.text,
            availWidth - TOC_NUMBER_WIDTH - 6,
            REGULAR,
            TOC_FONT_SIZE,
            max_lines=TOC_MAX_LINES,
        )
        self.height = len(self.lines) * TOC_LEADING + 2
        return self.width, self.height

    def draw(self) -> None:
        canv = self.canv
        canv.setFont(REGULAR, TOC_FONT_SIZE)
        y = self.height - TOC_FONT_SIZE
        for line in self.lines:
            canv.drawString(0, y, line)
            y -= TOC_LEADING
        y += TOC_LEADING
        last_width = _width(self.lines[-1], REGULAR, TOC_FONT_SIZE)
        start = last_width + 4
        end = self.width - TOC_NUMBER_WIDTH
        if end > start:
            canv.saveState()
            canv.setFillColor(GREY)
            dots = int((end - start) / _width(". ", REGULAR, TOC_FONT_SIZE))
            canv.drawRightString(end, y, ". " * dots)
            canv.restoreState()
        canv.saveState()
        canv.translate(self.width, y)
        canv.doForm(self.number_form)
        canv.restoreState()
        canv.linkRect("", self.key, (0, 0, self.width, self.height), relative=1, thickness=0)


class _CatalogueDoc(BaseDocTemplate):
    def __init__(self, out: BinaryIO, meta: CatalogueMeta, book: _Book):
        super().__init__(
            out,
            pagesize=A4,
            leftMargin=MARGIN_X,
            rightMargin=MARGIN_X,
            topMargin=MARGIN_TOP,
            bottomMargin=MARGIN_BOTTOM,
            title=meta.title,
            author=meta.publisher,
            subject=" · ".join(f"{k} : {v}" for k, v in meta.criteria) or meta.title,
            creator="SOFI",
            lang="fr-FR",
        )
        self.meta = meta
        self.book = book
        frame = Frame(
            MARGIN_X,
            MARGIN_BOTTOM,
            FRAME_WIDTH,
            PAGE_HEIGHT - MARGIN_TOP - MARGIN_BOTTOM,
            leftPadding=0,
            rightPadding=0,
            topPadding=0,
            bottomPadding=0,
            id="body",
        )
        self.addPageTemplates(
            [
                PageTemplate(id="cover", frames=[frame], onPage=self._on_cover),
                PageTemplate(id="body", frames=[frame], onPage=self._on_page),
            ]
        )

    def _on_cover(self, canv: Canvas, doc: BaseDocTemplate) -> None:
        self.book.last_page = canv.getPageNumber()

    def _on_page(self, canv: Canvas, doc: BaseDocTemplate) -> None:
        page = canv.getPageNumber()
        self.book.last_page = page
        canv.saveState()
        canv.setStrokeColor(LINE)
        canv.setLineWidth(0.5)
        top = PAGE_HEIGHT - MARGIN_TOP + 6 * mm
        canv.line(MARGIN_X, top - 2, PAGE_WIDTH - MARGIN_X, top - 2)
        canv.line(MARGIN_X, MARGIN_BOTTOM - 6 * mm, PAGE_WIDTH - MARGIN_X, MARGIN_BOTTOM - 6 * mm)
        canv.setFillColor(GREY)
        canv.setFont(BOLD, 8)
        canv.drawString(MARGIN_X, top + 2, self.meta.title)
        canv.setFont(REGULAR, 8)
        criteria = " · ".join(f"{k} : {v}" for k, v in self.meta.criteria)
        if criteria:
            room = FRAME_WIDTH - _width(self.meta.title, BOLD, 8) - 12
            line = wrap_text(criteria, room, REGULAR, 8, max_lines=1)[0]
            canv.drawRightString(PAGE_WIDTH - MARGIN_X, top + 2, line)
        bottom = MARGIN_BOTTOM - 6 * mm - 10
        canv.drawString(
            MARGIN_X,
            bottom,
            f"{self.meta.publisher} · édité le {self.meta.generated_on.strftime('%d/%m/%Y')}",
        )
        # "Page 12 / " then the total, a form defined once the last page is known.
        label = f"Page {page} / "
        x = PAGE_WIDTH - MARGIN_X - FOOTER_NUMBER_ROOM
        canv.drawString(x, bottom, label)
        canv.translate(x + _width(label, REGULAR, 8), bottom)
        canv.doForm("total_pages")
        canv.restoreState()


def _number_form(canv: Canvas, name: str, text: str, size: float, *, right: bool) -> None:
    """Define the form ``name``: ``text`` starting (or, if ``right``, ending) at its origin."""
    room = TOC_NUMBER_WIDTH + 30
    if right:
        canv.beginForm(name, lowerx=-room, lowery=-3, upperx=0, uppery=size + 2)
        canv.setFont(REGULAR, size)
        canv.drawRightString(0, 0, text)
    else:
        canv.beginForm(name, lowerx=0, lowery=-3, upperx=room, uppery=size + 2)
        canv.setFont(REGULAR, size)
        canv.setFillColor(GREY)
        canv.drawString(0, 0, text)
    canv.endForm()


def _canvas_maker(book: _Book, toc_forms: dict[str, str]) -> Callable[..., Canvas]:
    class CatalogueCanvas(Canvas):
        def save(self) -> None:
            # Every page is drawn: now the forms the pages refer to can say their numbers.
            _number_form(self, "total_pages", str(book.last_page), 8, right=False)
            for key, form in toc_forms.items():
                _number_form(self, form, str(book.pages.get(key, "")), TOC_FONT_SIZE, right=True)
            super().save()

    return CatalogueCanvas


def _cover(meta: CatalogueMeta) -> list[Flowable]:
    styles = _styles()
    story: list[Flowable] = [
        Spacer(1, 55 * mm),
        Paragraph(escape(meta.title), styles["cover_title"]),
    ]
    for label, value in meta.criteria:
        story.append(Paragraph(f"<b>{escape(label)} :</b> {escape(value)}", styles["cover"]))
    if not meta.criteria:
        story.append(Paragraph("Toute l'offre publiée", styles["cover"]))
    story += [
        Spacer(1, 8 * mm),
        Paragraph(f"{meta.formations} formation(s) · {meta.sessions} session(s)", styles["cover"]),
        Spacer(1, 30 * mm),
        Paragraph(
            f"{escape(meta.publisher)} · édité le {meta.generated_on.strftime('%d/%m/%Y')}",
            styles["cover_small"],
        ),
    ]
    if meta.notice:
        story.append(Paragraph(escape(meta.notice), styles["cover_small"]))
    return story


def _formation(entry: FormationEntry, book: _Book) -> list[Flowable]:
    story: list[Flowable] = [
        CondPageBreak(45 * mm),
        FormationHeading(
            entry.title,
            entry.key,
            f"{entry.title} – {entry.organisation}",
            book,
            font=BOLD,
            size=12.5,
            leading=15.5,
            color=BLUE,
            space_before=2 * mm,
            space_after=1.5 * mm,
        ),
    ]
    if entry.details:
        story.append(
            TextBlock(
                "\n".join(entry.details), size=8, leading=10, color=GREY, space_after=1.5 * mm
            )
        )
    if entry.objective:
        story.append(TextBlock(entry.objective, prefix="Objectif :", space_after=2 * mm))
    for action in entry.actions:
        heading = f"{action.organisation} – action {action.code}"
        if action.title_complement:
            heading += f" – {action.title_complement}"
        story += [
            CondPageBreak(25 * mm),
            TextBlock(
                heading,
                font=BOLD,
                size=9.5,
                leading=12,
                space_before=1.5 * mm,
                space_after=0.8 * mm,
            ),
        ]
        if action.lines:
            story.append(TextBlock("\n".join(action.lines), size=8, leading=10))
        story.append(SessionsTable.of(action.sessions))
    story.append(Spacer(1, 5 * mm))
    return story


def render_catalogue(
    meta: CatalogueMeta,
    formations: Sequence[FormationEntry],
    out: BinaryIO,
    progress: Progress | None = None,
) -> int:
    """Write the catalogue to ``out``; return its number of pages.

    ``progress(done, total)`` is called as each formation is laid out.
    """
    styles = _styles()
    book = _Book(total=len(formations), progress=progress)
    toc_forms = {entry.key: f"toc{i}" for i, entry in enumerate(formations)}
    story: list[Flowable] = _cover(meta)
    story += [
        NextPageTemplate("body"),
        PageBreak(),
        Bookmark("sommaire", "Sommaire"),
        Paragraph("Sommaire", styles["h1"]),
    ]
    if formations:
        story += [
            TocLine(f"{entry.title} – {entry.organisation}", entry.key, toc_forms[entry.key])
            for entry in formations
        ]
    else:
        story.append(
            Paragraph("Aucune session publiée ne correspond à ces critères.", styles["empty"])
        )
    story += [PageBreak(), Bookmark("formations", "Formations")]
    for entry in formations:
        story += _formation(entry, book)
    doc = _CatalogueDoc(out, meta, book)
    doc.build(story, canvasmaker=_canvas_maker(book, toc_forms))
    return book.last_page
