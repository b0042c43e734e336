"""The A4 invoice: hospital header on every page, repeated line-table header, totals after the
last line, "Page N of M" in every footer, and a "COPY" watermark on reprints."""

from decimal import Decimal
from functools import partial
from io import BytesIO

from reportlab.lib.colors import white
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    BaseDocTemplate,
    Flowable,
    Frame,
    KeepTogether,
    PageTemplate,
    Paragraph,
    Spacer,
    Table,
    TableStyle,
)

from hms_core.printing.documents import Hospital, InvoiceDocument
from hms_core.printing.pdf_common import (
    ACCENT,
    RULE,
    SHADE,
    draw_watermark,
    escape,
    fonts,
    logo_path,
    money,
    numbered_canvas,
    style,
)

PAGE_W, PAGE_H = A4
MARGIN = 18 * mm
HEADER_H = 34 * mm  # from the top edge to the rule under the hospital header
FOOTER_H = 16 * mm
CONTENT_W = PAGE_W - 2 * MARGIN
COLUMNS = ("Code", "Description", "Qty", "Unit price", "Net", "Tax %", "Tax", "Amount")
# Code, description (the rest), qty, unit price, net, tax %, tax, amount, in points
FIXED = (64.0, 0.0, 32.0, 58.0, 60.0, 30.0, 52.0, 64.0)  # codes of up to 12 characters
WIDTHS = tuple(w or CONTENT_W - sum(FIXED) for w in FIXED)


def render_invoice(doc: InvoiceDocument) -> bytes:
    """The invoice (or credit note) `doc` as PDF bytes."""
    buffer = BytesIO()
    template = BaseDocTemplate(
        buffer,
        pagesize=A4,
        title=f"{_title(doc)} {doc.number}",
        author=doc.hospital.name,
        invariant=True,
    )
    height = PAGE_H - HEADER_H - FOOTER_H - 4 * mm
    frame = Frame(MARGIN, FOOTER_H, CONTENT_W, height, 0, 0, 0, 0, id="body")
    template.addPageTemplates([PageTemplate("invoice", [frame], onPage=partial(_page, doc))])
    template.build(_story(doc), canvasmaker=numbered_canvas(partial(_footer, doc)))
    return buffer.getvalue()


def _title(doc: InvoiceDocument) -> str:
    """'Invoice' or 'Credit note'."""
    return "Credit note" if doc.credit_note_for else "Invoice"


def _story(doc: InvoiceDocument) -> list[Flowable]:
    """Everything below the page header, in reading order."""
    story: list[Flowable] = [_parties(doc), Spacer(1, 6 * mm), _lines_table(doc)]
    story += [Spacer(1, 3 * mm), KeepTogether([_totals_table(doc)])]
    if doc.insurance is not None:
        story += [Spacer(1, 5 * mm), KeepTogether([_insurance_table(doc)])]
    if doc.payments:
        story += [Spacer(1, 5 * mm), KeepTogether([_payments_table(doc)])]
    story += [Spacer(1, 5 * mm), _balance_table(doc)]
    return story


def _parties(doc: InvoiceDocument) -> Table:
    """Bill-to block on the left, invoice facts on the right."""
    patient = doc.patient
    left = [Paragraph("Bill to", style(8, bold=True)), Paragraph(escape(patient.name), style(11))]
    left.append(Paragraph(f"MRN {escape(patient.mrn)}", style(9, bold=True)))
    left += [Paragraph(escape(line), style(9)) for line in patient.address_lines]
    facts = [
        (f"{_title(doc)} number", doc.number),
        ("Date", doc.issued.isoformat()),
        ("Currency", doc.currency),
    ]
    if doc.credit_note_for:
        facts.append(("Credits invoice", doc.credit_note_for))
    right = Table(
        [
            [Paragraph(k, style(9)), Paragraph(escape(v), style(9, bold=True, align=2))]
            for k, v in facts
        ],
        colWidths=(32 * mm, 48 * mm),
        style=[("LEFTPADDING", (0, 0), (-1, -1), 0), ("RIGHTPADDING", (0, 0), (-1, -1), 0)],
    )
    table = Table([[left, right]], colWidths=(CONTENT_W - 80 * mm, 80 * mm))
    table.setStyle([("VALIGN", (0, 0), (-1, -1), "TOP"), ("LEFTPADDING", (0, 0), (0, 0), 0)])
    table.setStyle([("RIGHTPADDING", (-1, 0), (-1, 0), 0)])
    return table


def _quantity(value: Decimal) -> str:
    """2.500 -> '2.5', 100 -> '100'."""
    return format(value.normalize(), "f")


def _lines_table(doc: InvoiceDocument) -> Table:
    """The itemized lines; the column header row repeats on every page."""
    cell = style(8)
    rows: list[list[object]] = [list(COLUMNS)]
    for line, amounts in zip(doc.lines, doc.line_amounts(), strict=True):
        rows.append(
            [
                Paragraph(escape(line.code), cell),
                Paragraph(escape(line.description), cell),
                _quantity(line.quantity),
                money(line.unit_price, doc.exponent),
                money(amounts.net, doc.exponent),
                _quantity(line.tax_rate),
                money(amounts.tax, doc.exponent),
                money(amounts.gross, doc.exponent),
            ]
        )
    table = Table(rows, colWidths=WIDTHS, repeatRows=1)
    table.setStyle(_lines_style())
    return table


def _lines_style() -> TableStyle:
    """Shaded header in the accent colour, zebra rows, numbers right-aligned."""
    regular, bold = fonts()
    return TableStyle(
        [
            ("FONT", (0, 0), (-1, -1), regular, 8),
            ("FONT", (0, 0), (-1, 0), bold, 8),
            ("TEXTCOLOR", (0, 0), (-1, 0), white),
            ("BACKGROUND", (0, 0), (-1, 0), ACCENT),
            ("ROWBACKGROUNDS", (0, 1), (-1, -1), [None, SHADE]),
            ("ALIGN", (2, 0), (-1, -1), "RIGHT"),
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ("LEFTPADDING", (0, 0), (-1, -1), 3),
            ("RIGHTPADDING", (0, 0), (-1, -1), 3),
            ("TOPPADDING", (0, 0), (-1, -1), 2),
            ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
            ("LINEBELOW", (0, -1), (-1, -1), 0.6, RULE),
        ]
    )


def _summary(rows: list[tuple[str, str]], bold_rows: tuple[int, ...] = ()) -> Table:
    """A two-column label/amount table flush with the right edge of the line table."""
    regular, bold = fonts()
    commands: list[tuple[object, ...]] = [
        ("FONT", (0, 0), (-1, -1), regular, 9),
        ("ALIGN", (1, 0), (1, -1), "RIGHT"),
        ("LEFTPADDING", (0, 0), (-1, -1), 3),
        ("RIGHTPADDING", (0, 0), (-1, -1), 3),
    ]
    commands += [("FONT", (0, r), (-1, r), bold, 9) for r in bold_rows]
    commands += [("LINEABOVE", (0, r), (-1, r), 0.6, RULE) for r in bold_rows]
    return Table(rows, colWidths=(46 * mm, 40 * mm), hAlign="RIGHT", style=commands)


def _totals_table(doc: InvoiceDocument) -> Table:
    """Net, tax and gross totals of the lines."""
    total = doc.totals()
    fmt = partial(money, exponent=doc.exponent, currency=doc.currency)
    rows = [
        ("Net total", fmt(total.net)),
        ("Tax total", fmt(total.tax)),
        (f"{_title(doc)} total", fmt(total.gross)),
    ]
    return _summary(rows, bold_rows=(2,))


def _insurance_table(doc: InvoiceDocument) -> Table:
    """How the total is shared between the patient and the insurer."""
    split = doc.insurance
    assert split is not None
    fmt = partial(money, exponent=doc.exponent, currency=doc.currency)
    rows = [
        ("Insurer", split.payer_name),
        ("Policy", split.policy),
        ("Patient share", fmt(split.patient_share)),
        ("Insurer share (claimed)", fmt(split.payer_share)),
    ]
    return _summary(rows, bold_rows=(2,))


def _payments_table(doc: InvoiceDocument) -> Table:
    """Payments received: date, method, reference, amount."""
    regular, bold = fonts()
    rows: list[list[str]] = [["Payments received", "Method", "Reference", "Amount"]]
    for p in doc.payments:
        rows.append([p.date.isoformat(), p.method, p.reference, money(p.amount, doc.exponent)])
    rows.append(["Total paid", "", "", money(doc.paid(), doc.exponent, doc.currency)])
    widths = (36 * mm, 30 * mm, CONTENT_W - 106 * mm, 40 * mm)
    commands = [
        ("FONT", (0, 0), (-1, -1), regular, 9),
        ("FONT", (0, 0), (-1, 0), bold, 9),
        ("FONT", (0, -1), (-1, -1), bold, 9),
        ("LINEBELOW", (0, 0), (-1, 0), 0.6, RULE),
        ("LINEABOVE", (0, -1), (-1, -1), 0.6, RULE),
        ("ALIGN", (-1, 0), (-1, -1), "RIGHT"),
        ("LEFTPADDING", (0, 0), (-1, -1), 3),
        ("RIGHTPADDING", (0, 0), (-1, -1), 3),
    ]
    return Table(rows, colWidths=widths, style=commands)


def _balance_table(doc: InvoiceDocument) -> Table:
    """The balance due, emphasised."""
    balance = doc.balance_due()
    label = "Patient balance due" if doc.insurance else "Balance due"
    if balance < 0:
        label = "Patient in credit" if doc.insurance else "In credit"
    table = _summary([(label, money(abs(balance), doc.exponent, doc.currency))])
    bold = fonts()[1]
    table.setStyle(
        [
            ("FONT", (0, 0), (-1, -1), bold, 11),
            ("BACKGROUND", (0, 0), (-1, -1), SHADE),
            ("LINEABOVE", (0, 0), (-1, 0), 1, ACCENT),
            ("TOPPADDING", (0, 0), (-1, -1), 4),
            ("BOTTOMPADDING", (0, 0), (-1, -1), 5),
        ]
    )
    return table


def _page(doc: InvoiceDocument, canvas: Canvas, _template: BaseDocTemplate) -> None:
    """Drawn under each page's content: the hospital header and the document's title."""
    draw_hospital_header(canvas, doc.hospital, PAGE_H - 12 * mm)
    regular, bold = fonts()
    canvas.saveState()
    canvas.setFillColor(ACCENT)
    canvas.setFont(bold, 18)
    canvas.drawRightString(PAGE_W - MARGIN, PAGE_H - 18 * mm, _title(doc).upper())
    canvas.setFillColorRGB(0, 0, 0)
    canvas.setFont(regular, 9)
    canvas.drawRightString(PAGE_W - MARGIN, PAGE_H - 24 * mm, f"No. {doc.number}")
    canvas.drawRightString(PAGE_W - MARGIN, PAGE_H - 28.5 * mm, doc.issued.isoformat())
    canvas.setStrokeColor(ACCENT)
    canvas.setLineWidth(1)
    canvas.line(MARGIN, PAGE_H - HEADER_H, PAGE_W - MARGIN, PAGE_H - HEADER_H)
    canvas.restoreState()


def draw_hospital_header(canvas: Canvas, hospital: Hospital, top: float) -> None:
    """Logo, name, address, phone and tax id, from `top` down, at the left margin."""
    canvas.saveState()
    text_x = MARGIN
    logo = logo_path(hospital.logo_path)
    if logo is not None:
        size = 18 * mm
        canvas.drawImage(str(logo), MARGIN, top - size, size, size, mask="auto")
        text_x += size + 4 * mm
    regular, bold = fonts()
    canvas.setFont(bold, 13)
    canvas.drawString(text_x, top - 5 * mm, hospital.name)
    canvas.setFont(regular, 8.5)
    y = top - 9.5 * mm
    for line in _contact_lines(hospital):
        canvas.drawString(text_x, y, line)
        y -= 3.8 * mm
    canvas.restoreState()


def _contact_lines(hospital: Hospital) -> list[str]:
    """Up to three address lines, then phone and tax id on one line."""
    contact = " · ".join(
        part
        for part in (
            f"Tel. {hospital.phone}" if hospital.phone else "",
            f"Tax ID {hospital.tax_id}" if hospital.tax_id else "",
        )
        if part
    )
    return [*hospital.address_lines[:3], *([contact] if contact else [])]


def _footer(doc: InvoiceDocument, canvas: Canvas, number: int, count: int) -> None:
    """Drawn over each finished page: "COPY" on reprints, rule, document name, "Page N of M"."""
    if doc.is_copy:
        draw_watermark(canvas, PAGE_W, PAGE_H)
    regular = fonts()[0]
    canvas.saveState()
    canvas.setStrokeColor(RULE)
    canvas.setLineWidth(0.5)
    canvas.line(MARGIN, FOOTER_H - 4 * mm, PAGE_W - MARGIN, FOOTER_H - 4 * mm)
    canvas.setFont(regular, 8)
    canvas.drawString(
        MARGIN, FOOTER_H - 8 * mm, f"{_title(doc)} {doc.number} · {doc.hospital.name}"
    )
    canvas.drawRightString(PAGE_W - MARGIN, FOOTER_H - 8 * mm, f"Page {number} of {count}")
    canvas.restoreState()
