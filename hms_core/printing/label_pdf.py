"""The specimen label stuck on the tube at collection: a 62 × 29 mm page with the order number
in words and as a Code128 barcode, the patient's name, MRN and date of birth, the test, the
specimen and when it was collected."""

from datetime import date, datetime
from io import BytesIO

from reportlab.graphics.barcode.code128 import Code128
from reportlab.lib.units import mm
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas

from hms_core.printing.pdf_common import fonts

LABEL_W, LABEL_H = 62 * mm, 29 * mm
MARGIN = 2 * mm
BAR_H = 9 * mm


def render_label(
    order_number: str,
    patient_name: str,
    mrn: str,
    birth_date: date | None,
    test: str,
    specimen: str,
    collected_at: datetime,
) -> bytes:
    """The label as PDF bytes (one page, 62 × 29 mm)."""
    regular, bold = fonts()
    out = BytesIO()
    canvas = Canvas(out, pagesize=(LABEL_W, LABEL_H))
    canvas.setTitle(f"Specimen label {order_number}")
    width = LABEL_W - 2 * MARGIN
    top = LABEL_H - MARGIN
    canvas.setFont(bold, 8)
    canvas.drawString(MARGIN, top - 7, _fit(patient_name, bold, 8, width))
    canvas.setFont(regular, 6.5)
    born = birth_date.isoformat() if birth_date else "unknown"
    canvas.drawString(MARGIN, top - 15, _fit(f"MRN {mrn}   DOB {born}", regular, 6.5, width))
    _barcode(canvas, order_number, top - 18 - BAR_H, width)
    canvas.setFont(bold, 7)
    canvas.drawCentredString(LABEL_W / 2, top - 25.5 - BAR_H, order_number)
    canvas.setFont(regular, 6)
    what = _fit(f"{test} · {specimen}" if specimen else test, regular, 6, width)
    canvas.drawString(MARGIN, MARGIN + 7, what)
    taken = collected_at.astimezone().strftime("%Y-%m-%d %H:%M")
    canvas.drawString(MARGIN, MARGIN + 0.5, f"Collected {taken}")
    canvas.showPage()
    canvas.save()
    return out.getvalue()


def _barcode(canvas: Canvas, value: str, bottom: float, width: float) -> None:
    """The order number as Code128, centred, squeezed to the label's width if need be."""
    code = Code128(value, barHeight=BAR_H, barWidth=0.3 * mm, quiet=False)
    if code.width > width:
        code = Code128(value, barHeight=BAR_H, barWidth=0.3 * mm * width / code.width, quiet=False)
    code.drawOn(canvas, (LABEL_W - code.width) / 2, bottom)


def _fit(text: str, font: str, size: float, width: float) -> str:
    """`text`, shortened with an ellipsis until it fits `width`."""
    if stringWidth(text, font, size) <= width:
        return text
    while text and stringWidth(text + "…", font, size) > width:
        text = text[:-1]
    return text + "…"
