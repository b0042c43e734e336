"""The printed prescription (A4): hospital header, the patient with age and allergies, each drug
with dose, route, frequency, duration, quantity and instructions, then the prescriber's name
and a signature line. The prescription id in every footer ties the paper to the record."""

from dataclasses import dataclass
from datetime import date
from functools import partial
from io import BytesIO

from reportlab.lib.colors import HexColor, white
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

from hms_core.printing.documents import Hospital
from hms_core.printing.invoice_pdf import draw_hospital_header
from hms_core.printing.pdf_common import (
    ACCENT,
    RULE,
    SHADE,
    draw_watermark,
    escape,
    fonts,
    numbered_canvas,
    style,
)

PAGE_W, PAGE_H = A4
MARGIN = 18 * mm
HEADER_H = 34 * mm
FOOTER_H = 16 * mm
CONTENT_W = PAGE_W - 2 * MARGIN
ALERT = HexColor("#B3261E")
NO_KNOWN_ALLERGIES = "No known allergies"


@dataclass(frozen=True)
class PrescribedDrug:
    """One line of the prescription, as the pharmacist reads it."""

    name: str
    strength: str = ""
    form: str = ""
    dose: str = ""  # "500 mg"
    route: str = ""
    frequency: str = ""
    duration_days: int | None = None
    quantity: str = ""
    instructions: str = ""


@dataclass(frozen=True)
class PrescriptionDocument:
    """What a printed prescription says."""

    hospital: Hospital
    prescription_id: str
    written: date
    patient_name: str
    mrn: str
    age: str  # "45 y"
    sex: str
    allergies: tuple[str, ...]
    drugs: tuple[PrescribedDrug, ...]
    prescriber: str
    is_copy: bool = False

    def __post_init__(self) -> None:
        """A prescription names at least one drug and who prescribed it."""
        if not self.drugs:
            raise ValueError("A prescription names at least one drug.")
        if not self.prescriber.strip():
            raise ValueError("A prescription names its prescriber.")


def render_prescription(doc: PrescriptionDocument) -> bytes:
    """The prescription `doc` as PDF bytes."""
    buffer = BytesIO()
    template = BaseDocTemplate(
        buffer,
        pagesize=A4,
        title=f"Prescription {doc.prescription_id}",
        author=doc.hospital.name,
        invariant=True,
    )
    height = PAGE_H - HEADER_H - FOOTER_H - 4 * mm
    frame = Frame(MARGIN, FOOTER_H, CONTENT_W, height, 0, 0, 0, 0, id="body")
    template.addPageTemplates([PageTemplate("rx", [frame], onPage=partial(_page, doc))])
    template.build(_story(doc), canvasmaker=numbered_canvas(partial(_footer, doc)))
    return buffer.getvalue()


def _story(doc: PrescriptionDocument) -> list[Flowable]:
    story: list[Flowable] = [_patient_block(doc), Spacer(1, 3 * mm), _allergy_line(doc)]
    story += [Spacer(1, 6 * mm), Paragraph("Rx", style(16, bold=True)), Spacer(1, 2 * mm)]
    story += [_drugs_table(doc), Spacer(1, 16 * mm), KeepTogether([_signature(doc)])]
    return story


def _patient_block(doc: PrescriptionDocument) -> Table:
    """Patient name, MRN, age and sex on the left; date and prescription id on the right."""
    left = [
        Paragraph("Patient", style(8, bold=True)),
        Paragraph(escape(doc.patient_name), style(12, bold=True)),
        Paragraph(f"MRN {escape(doc.mrn)} · {escape(_age_sex(doc))}", style(9)),
    ]
    facts = (("Date", doc.written.isoformat()), ("Prescription", doc.prescription_id))
    right = Table(
        [
            [Paragraph(k, style(9)), Paragraph(escape(v), style(8, bold=True, align=2))]
            for k, v in facts
        ],
        colWidths=(24 * mm, 66 * mm),
        style=[("LEFTPADDING", (0, 0), (-1, -1), 0), ("RIGHTPADDING", (0, 0), (-1, -1), 0)],
    )
    table = Table([[left, right]], colWidths=(CONTENT_W - 90 * mm, 90 * mm))
    table.setStyle([("VALIGN", (0, 0), (-1, -1), "TOP"), ("LEFTPADDING", (0, 0), (0, 0), 0)])
    table.setStyle([("RIGHTPADDING", (-1, 0), (-1, 0), 0)])
    return table


def _age_sex(doc: PrescriptionDocument) -> str:
    return ", ".join(part for part in (doc.age, doc.sex) if part)


def _allergy_line(doc: PrescriptionDocument) -> Table:
    """Allergies boxed in red when there are any, so nobody misses them."""
    known = bool(doc.allergies)
    text = "; ".join(doc.allergies) if known else NO_KNOWN_ALLERGIES
    colour = ALERT if known else RULE
    label = Paragraph("Allergies", style(9, bold=True))
    table = Table(
        [[label, Paragraph(escape(text), style(9, bold=known))]],
        colWidths=(24 * mm, CONTENT_W - 24 * mm),
    )
    table.setStyle(
        [
            ("BOX", (0, 0), (-1, -1), 1 if known else 0.5, colour),
            ("TEXTCOLOR", (0, 0), (-1, -1), colour if known else HexColor("#000000")),
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ("TOPPADDING", (0, 0), (-1, -1), 3),
            ("BOTTOMPADDING", (0, 0), (-1, -1), 4),
        ]
    )
    return table


def _drug_cells(number: int, drug: PrescribedDrug) -> list[object]:
    """One numbered drug: name with strength and form, then how to take it."""
    title = " ".join(part for part in (drug.name, drug.strength, drug.form) if part)
    how = " · ".join(
        part
        for part in (
            f"Dose {drug.dose}" if drug.dose else "",
            drug.route,
            drug.frequency,
            f"for {drug.duration_days} days" if drug.duration_days else "",
        )
        if part
    )
    lines = [Paragraph(f"<b>{escape(title)}</b>", style(10)), Paragraph(escape(how), style(9))]
    if drug.instructions:
        lines.append(Paragraph(f"<i>{escape(drug.instructions)}</i>", style(9)))
    quantity = Paragraph(escape(drug.quantity or "—"), style(10, bold=True, align=2))
    return [f"{number}.", lines, quantity]


def _drugs_table(doc: PrescriptionDocument) -> Table:
    """The drugs, numbered, with the quantity to dispense at the right."""
    rows: list[list[object]] = [["", "Medicine and directions", "Quantity"]]
    rows += [_drug_cells(n, d) for n, d in enumerate(doc.drugs, start=1)]
    table = Table(rows, colWidths=(10 * mm, CONTENT_W - 40 * mm, 30 * mm), repeatRows=1)
    regular, bold = fonts()
    table.setStyle(
        TableStyle(
            [
                ("FONT", (0, 0), (-1, -1), regular, 10),
                ("FONT", (0, 0), (-1, 0), bold, 8),
                ("TEXTCOLOR", (0, 0), (-1, 0), white),
                ("BACKGROUND", (0, 0), (-1, 0), ACCENT),
                ("ALIGN", (-1, 0), (-1, 0), "RIGHT"),
                ("ROWBACKGROUNDS", (0, 1), (-1, -1), [None, SHADE]),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("TOPPADDING", (0, 1), (-1, -1), 5),
                ("BOTTOMPADDING", (0, 1), (-1, -1), 6),
                ("LINEBELOW", (0, 1), (-1, -1), 0.4, RULE),
            ]
        )
    )
    return table


def _signature(doc: PrescriptionDocument) -> Table:
    """The prescriber's name under a line to sign on, at the right."""
    count = len(doc.drugs)
    total = f"{count} medicine{'s' if count != 1 else ''} on this prescription"
    rows = [
        [Paragraph(total, style(9)), ""],
        ["", Paragraph(escape(doc.prescriber), style(10, bold=True))],
        ["", Paragraph("Prescriber's signature", style(8))],
    ]
    table = Table(rows, colWidths=(CONTENT_W - 80 * mm, 80 * mm), rowHeights=[12 * mm, None, None])
    table.setStyle([("LINEBELOW", (1, 0), (1, 0), 0.8, HexColor("#000000"))])
    table.setStyle([("VALIGN", (0, 0), (0, 0), "BOTTOM"), ("LEFTPADDING", (0, 0), (0, -1), 0)])
    return table


def _page(doc: PrescriptionDocument, canvas: Canvas, _template: BaseDocTemplate) -> None:
    """The hospital header and the title, drawn under each page's content."""
    draw_hospital_header(canvas, doc.hospital, PAGE_H - 12 * mm)
    regular, bold = fonts()
    canvas.saveState()
    canvas.setFillColor(ACCENT)
    canvas.setFont(bold, 18)
    canvas.drawRightString(PAGE_W - MARGIN, PAGE_H - 18 * mm, "PRESCRIPTION")
    canvas.setFillColorRGB(0, 0, 0)
    canvas.setFont(regular, 9)
    canvas.drawRightString(PAGE_W - MARGIN, PAGE_H - 24 * mm, doc.written.isoformat())
    canvas.setStrokeColor(ACCENT)
    canvas.setLineWidth(1)
    canvas.line(MARGIN, PAGE_H - HEADER_H, PAGE_W - MARGIN, PAGE_H - HEADER_H)
    canvas.restoreState()


def _footer(doc: PrescriptionDocument, canvas: Canvas, number: int, count: int) -> None:
    """ "COPY" on reprints, a rule, the prescription id and "Page N of M"."""
    if doc.is_copy:
        draw_watermark(canvas, PAGE_W, PAGE_H)
    canvas.saveState()
    canvas.setStrokeColor(RULE)
    canvas.setLineWidth(0.5)
    canvas.line(MARGIN, FOOTER_H - 4 * mm, PAGE_W - MARGIN, FOOTER_H - 4 * mm)
    canvas.setFont(fonts()[0], 8)
    text = f"Prescription {doc.prescription_id} · {doc.patient_name} · MRN {doc.mrn}"
    canvas.drawString(MARGIN, FOOTER_H - 8 * mm, text)
    canvas.drawRightString(PAGE_W - MARGIN, FOOTER_H - 8 * mm, f"Page {number} of {count}")
    canvas.restoreState()
