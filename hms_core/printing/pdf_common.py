"""Pieces every printed document shares: fonts, paragraph styles, the logo, "COPY", page numbers."""

from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

from reportlab.lib.colors import Color, HexColor
from reportlab.lib.styles import ParagraphStyle
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas

from hms_core.rules.money import format_amount

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_LOGO = ROOT / "resources" / "branding" / "logo.png"
# Searched in order; the first pair found is used, else Helvetica (Latin-1 only).
FONT_DIRS = (
    ROOT / "resources" / "fonts",
    Path("/usr/share/fonts/truetype/dejavu"),
    Path("/usr/share/fonts/dejavu"),
    Path("/Library/Fonts"),
)
ACCENT = HexColor("#00797C")
RULE = HexColor("#B0B7BB")
SHADE = HexColor("#EAF2F2")
WATERMARK = Color(0.55, 0.55, 0.55, alpha=0.25)


@cache
def fonts() -> tuple[str, str]:
    """(regular, bold) font names: DejaVu Sans when installed (Latin Extended), else Helvetica."""
    for folder in FONT_DIRS:
        regular, bold = folder / "DejaVuSans.ttf", folder / "DejaVuSans-Bold.ttf"
        if regular.is_file() and bold.is_file():
            pdfmetrics.registerFont(TTFont("HmsSans", str(regular)))
            pdfmetrics.registerFont(TTFont("HmsSans-Bold", str(bold)))
            return "HmsSans", "HmsSans-Bold"
    return "Helvetica", "Helvetica-Bold"


def style(size: float, *, bold: bool = False, align: int = 0, leading: float = 0) -> ParagraphStyle:
    """A paragraph style in the document font; `align` 0 left, 1 centre, 2 right."""
    regular, heavy = fonts()
    return ParagraphStyle(
        name=f"hms-{size}-{bold}-{align}",
        fontName=heavy if bold else regular,
        fontSize=size,
        leading=leading or size * 1.25,
        alignment=align,
    )


def money(minor: int, exponent: int, currency: str = "") -> str:
    """An amount as printed: `format_amount`, with the currency code when given."""
    return format_amount(minor, exponent, currency)


def escape(text: str) -> str:
    """`text` made safe inside a reportlab Paragraph (which reads a little XML)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def logo_path(path: Path | None) -> Path | None:
    """The hospital's logo if it exists, else the bundled one, else none."""
    for candidate in (path, DEFAULT_LOGO):
        if candidate is not None and candidate.is_file():
            return candidate
    return None


def draw_watermark(canvas: Canvas, width: float, height: float, text: str = "COPY") -> None:
    """A large diagonal, translucent `text` across the middle of the page."""
    canvas.saveState()
    canvas.setFillColor(WATERMARK)
    size = min(width, height) / 3.6
    canvas.setFont(fonts()[1], size)
    canvas.translate(width / 2, height / 2)
    canvas.rotate(45 if height > width else 20)
    canvas.drawCentredString(0, -size / 3, text)
    canvas.restoreState()


def numbered_canvas(footer: Callable[[Canvas, int, int], None]) -> type[Canvas]:
    """A Canvas class that holds pages back until the end, then calls `footer(canvas, n, m)`."""

    class NumberedCanvas(Canvas):
        """Defers each page so the footer can say "Page N of M"."""

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._pages: list[dict[str, Any]] = []

        def showPage(self) -> None:  # noqa: N802 - reportlab's name
            self._pages.append(dict(self.__dict__))
            self._startPage()

        def save(self) -> None:
            count = len(self._pages)
            for number, state in enumerate(self._pages, start=1):
                self.__dict__.update(state)
                footer(self, number, count)
                super().showPage()
            super().save()

    return NumberedCanvas
