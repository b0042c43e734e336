"""The receipt for one payment: on A4, or on an 80 mm thermal roll (one page as long as needed)."""

from collections.abc import Callable
from functools import partial
from io import BytesIO
from typing import Literal

from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    BaseDocTemplate,
    Flowable,
    Frame,
    HRFlowable,
    Image,
    PageTemplate,
    Paragraph,
    Spacer,
    Table,
)

from hms_core.printing.documents import Receipt
from hms_core.printing.invoice_pdf import draw_hospital_header
from hms_core.printing.pdf_common import (
    ACCENT,
    RULE,
    draw_watermark,
    escape,
    logo_path,
    money,
    style,
)

Width = Literal["a4", "80mm"]
PageHook = Callable[[Canvas, BaseDocTemplate], None]
ROLL_W = 80 * mm
ROLL_MARGIN = 4 * mm
A4_MARGIN = 18 * mm
A4_HEADER = 34 * mm
A4_BODY = 110 * mm  # the receipt block, centred on the page


def render_receipt(receipt: Receipt, width: Width = "a4") -> bytes:
    """The receipt as PDF bytes, on an A4 page or an 80 mm wide roll page."""
    if width == "80mm":
        return _render_roll(receipt)
    if width == "a4":
        return _render_a4(receipt)
    raise ValueError(f"A receipt is printed on “a4” or “80mm” paper, not “{width}”.")


def _render_a4(receipt: Receipt) -> bytes:
    """An A4 page: hospital header at the top, the receipt below it."""
    page_w, page_h = A4
    content_w = page_w - 2 * A4_MARGIN
    story = [_title(14, receipt.is_refund), Spacer(1, 4 * mm), *_body(receipt, A4_BODY, 10)]
    height = page_h - A4_HEADER - 6 * mm - A4_MARGIN
    frame = Frame(A4_MARGIN, A4_MARGIN, content_w, height, 0, 0, 0, 0)
    header = partial(_a4_header, receipt)
    return _build(receipt, (page_w, page_h), frame, story, header)


def _render_roll(receipt: Receipt) -> bytes:
    """An 80 mm wide page whose height fits the content exactly."""
    content_w = ROLL_W - 2 * ROLL_MARGIN
    story = [*_roll_header(receipt, content_w), _title(11, receipt.is_refund), Spacer(1, 2 * mm)]
    story += _body(receipt, content_w, 8)
    height = sum(_height(item, content_w) for item in story) + 2 * ROLL_MARGIN + 4
    frame = Frame(ROLL_MARGIN, ROLL_MARGIN, content_w, height - 2 * ROLL_MARGIN, 0, 0, 0, 0)
    return _build(receipt, (ROLL_W, height), frame, story, None)


def _height(item: Flowable, width: float) -> float:
    """The vertical space `item` takes in a frame `width` wide, spacing included."""
    return item.wrap(width, 10_000)[1] + item.getSpaceBefore() + item.getSpaceAfter()


def _build(
    receipt: Receipt,
    size: tuple[float, float],
    frame: Frame,
    story: list[Flowable],
    on_page: PageHook | None,
) -> bytes:
    """Lay `story` out in `frame` on pages of `size`; the watermark goes over copies."""
    buffer = BytesIO()
    template = BaseDocTemplate(
        buffer,
        pagesize=size,
        title=f"Receipt {receipt.number}",
        author=receipt.hospital.name,
        invariant=True,
    )
    end: PageHook = partial(_watermark, size) if receipt.is_copy else _nothing
    start: PageHook = on_page if on_page is not None else _nothing
    template.addPageTemplates([PageTemplate("receipt", [frame], onPage=start, onPageEnd=end)])
    template.build(story)
    return buffer.getvalue()


def _nothing(_canvas: Canvas, _doc: BaseDocTemplate) -> None:
    """A page hook that draws nothing."""


def _watermark(size: tuple[float, float], canvas: Canvas, _doc: BaseDocTemplate) -> None:
    """ "COPY" across a reprinted receipt."""
    draw_watermark(canvas, *size)


def _a4_header(receipt: Receipt, canvas: Canvas, _doc: BaseDocTemplate) -> None:
    """The hospital header and the accent rule under it."""
    page_w, page_h = A4
    draw_hospital_header(canvas, receipt.hospital, page_h - 12 * mm)
    canvas.saveState()
    canvas.setStrokeColor(ACCENT)
    canvas.line(A4_MARGIN, page_h - A4_HEADER, page_w - A4_MARGIN, page_h - A4_HEADER)
    canvas.restoreState()


def _roll_header(receipt: Receipt, width: float) -> list[Flowable]:
    """Centered logo, hospital name and contact lines for the narrow roll."""
    hospital = receipt.hospital
    items: list[Flowable] = []
    logo = logo_path(hospital.logo_path)
    if logo is not None:
        items += [Image(str(logo), 12 * mm, 12 * mm), Spacer(1, 1.5 * mm)]
    items.append(Paragraph(escape(hospital.name), style(10, bold=True, align=1)))
    lines = list(hospital.address_lines)
    lines += [f"Tel. {hospital.phone}"] if hospital.phone else []
    lines += [f"Tax ID {hospital.tax_id}"] if hospital.tax_id else []
    items += [Paragraph(escape(line), style(7.5, align=1)) for line in lines]
    items.append(HRFlowable(width=width, thickness=0.6, color=RULE, spaceBefore=4, spaceAfter=4))
    return items


def _title(size: float, refund: bool = False) -> Paragraph:
    """The word RECEIPT (or REFUND), centred."""
    return Paragraph("REFUND" if refund else "RECEIPT", style(size, bold=True, align=1))


def _body(receipt: Receipt, width: float, size: float) -> list[Flowable]:
    """The facts, the amount received (large) and the balance after it."""
    fmt = partial(money, exponent=receipt.exponent, currency=receipt.currency)
    payment = receipt.payment
    facts = [
        ("Receipt no.", receipt.number),
        ("Date", receipt.issued.strftime("%Y-%m-%d %H:%M")),
        ("Patient", receipt.patient.name),
        ("MRN", receipt.patient.mrn),
    ]
    facts += [("Invoice", receipt.invoice_number)] if receipt.invoice_number else []
    facts += [("Method", payment.method), ("Reference", payment.reference or "-")]
    facts += [("Cashier", receipt.cashier)] if receipt.cashier else []
    balance = receipt.balance_after
    money_rows = [
        ("Amount refunded" if receipt.is_refund else "Amount received", fmt(payment.amount)),
        ("In credit after" if balance < 0 else "Balance after", fmt(abs(balance))),
    ]
    return [
        _pairs(facts, width, size, bold_rows=(), label_share=0.42),
        HRFlowable(width=width, thickness=0.6, color=RULE, spaceBefore=4, spaceAfter=4),
        _pairs(money_rows, width, size + 1, bold_rows=(0,), label_share=0.5),
        Spacer(1, 3 * mm),
        Paragraph("Thank you.", style(size, align=1)),
    ]


def _pairs(
    rows: list[tuple[str, str]],
    width: float,
    size: float,
    bold_rows: tuple[int, ...],
    label_share: float,
) -> Table:
    """Label on the left (`label_share` of the width), value right-aligned, wrapped if long."""
    label_w = width * label_share
    data = [
        [
            Paragraph(escape(label), style(size, bold=i in bold_rows)),
            Paragraph(escape(value), style(size, bold=i in bold_rows, align=2)),
        ]
        for i, (label, value) in enumerate(rows)
    ]
    commands = [
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LEFTPADDING", (0, 0), (-1, -1), 0),
        ("RIGHTPADDING", (0, 0), (-1, -1), 0),
        ("TOPPADDING", (0, 0), (-1, -1), 1),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 1),
    ]
    return Table(data, colWidths=(label_w, width - label_w), style=commands)
