"""The shipped fonts of the PDF catalogues (DejaVu Sans, see portal/data/fonts/).

ReportLab's built-in Helvetica has no € in its standard encoding and no glyphs beyond Latin-1;
an embedded TrueType font gives every French character and text that pdftotext can extract.
"""

from __future__ import annotations

import threading
from pathlib import Path

from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont

FONT_DIR = Path(__file__).resolve().parent.parent / "data" / "fonts"
REGULAR = "DejaVuSans"
BOLD = "DejaVuSans-Bold"

_lock = threading.Lock()
_registered = False


def register_fonts() -> None:
    """Register the fonts with ReportLab once per process (background jobs may race here)."""
    global _registered
    if _registered:
        return
    with _lock:
        if {REGULAR, BOLD} <= set(pdfmetrics.getRegisteredFontNames()):
            _registered = True
            return
        for name in (REGULAR, BOLD):
            pdfmetrics.registerFont(TTFont(name, str(FONT_DIR / f"{name}.ttf")))
        # <b> in paragraphs picks the bold face.
        pdfmetrics.registerFontFamily(
            REGULAR, normal=REGULAR, bold=BOLD, italic=REGULAR, boldItalic=BOLD
        )
        _registered = True
