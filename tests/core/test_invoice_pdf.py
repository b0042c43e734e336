"""Printed invoices and receipts, read back with pypdf: every fact a cashier relies on is on the
page, long invoices paginate with repeated headers and totals last, reprints say COPY, and the
first page still looks like the reviewed reference image.

The reference image `tests/core/data/invoice_page1.png` is written only by hand, after looking
at the page, with:

    .venv/bin/python -m tests.core.test_invoice_pdf --write-reference
"""

import shutil
import subprocess
import sys
from datetime import date, datetime
from decimal import Decimal
from io import BytesIO
from pathlib import Path

import pytest
from PIL import Image, ImageChops, ImageStat
from pypdf import PdfReader
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm

from hms_core.printing import pdf_common
from hms_core.printing.documents import (
    Hospital,
    InsuranceSplit,
    InvoiceDocument,
    InvoiceLine,
    PartyLine,
    Payment,
    Receipt,
)
from hms_core.printing.invoice_pdf import render_invoice
from hms_core.printing.pdf_common import fonts
from hms_core.printing.receipt_pdf import render_receipt
from hms_core.rules.money import MoneyError, format_amount, insurance_split, line_amounts

REFERENCE = Path(__file__).with_name("data") / "invoice_page1.png"
MAX_MEAN_DIFF = 0.75  # mean absolute grey-level difference (0-255) tolerated against the reference
HOSPITAL = Hospital(
    name="St. Example General Hospital",
    address_lines=("12 Harbour Road", "Springfield 4021"),
    phone="+1 555 0100",
    tax_id="TX-99-1234567",
)
PATIENT = PartyLine("Zoë Müller", "100000017", ("Flat 3, 7 Elm Street", "Springfield 4022"))
PAID = (
    Payment(date(2026, 12, 6), "Cash", "DESK-1", 5_000),
    Payment(date(2026, 12, 6), "Card", "TERM-88213", 12_000),
)
DEJAVU = pytest.mark.skipif(fonts()[0] == "Helvetica", reason="DejaVu Sans is not installed")


def make_lines(count: int) -> tuple[InvoiceLine, ...]:
    """`count` varied lines: fractional quantities, taxed and untaxed, some long descriptions."""
    return tuple(
        InvoiceLine(
            description=f"Service {i}"
            + (" with a long description that wraps" if i % 7 == 0 else ""),
            code=f"C{i:04d}",
            quantity=Decimal(i % 3 + 1) / (2 if i % 4 == 0 else 1),
            unit_price=12_345 + i * 17,
            tax_rate=Decimal("7.5") if i % 2 else Decimal(0),
        )
        for i in range(1, count + 1)
    )


def make_invoice(count: int = 3, *, is_copy: bool = False, insured: bool = True) -> InvoiceDocument:
    """A USD invoice with `count` lines, a 20 % co-pay insurance split and two payments."""
    lines = make_lines(count)
    gross = sum(line_amounts(x.quantity, x.unit_price, x.tax_rate).gross for x in lines)
    split = insurance_split(gross, Decimal(20))
    insurance = InsuranceSplit("Acme Health", "POL-778", split.patient, split.payer)
    return InvoiceDocument(
        number="INV-2026-000123",
        issued=date(2026, 12, 6),
        currency="USD",
        exponent=2,
        hospital=HOSPITAL,
        patient=PATIENT,
        lines=lines,
        insurance=insurance if insured else None,
        payments=PAID,
        is_copy=is_copy,
    )


def make_receipt(*, is_copy: bool = False) -> Receipt:
    """The receipt for the card payment of the sample invoice."""
    return Receipt(
        number="RC-2026-000045",
        issued=datetime(2026, 12, 6, 14, 32),
        currency="USD",
        exponent=2,
        hospital=HOSPITAL,
        patient=PATIENT,
        payment=PAID[1],
        balance_after=98_765,
        invoice_number="INV-2026-000123",
        is_copy=is_copy,
    )


def page_texts(pdf: bytes) -> list[str]:
    """The extracted text of each page."""
    return [page.extract_text() for page in PdfReader(BytesIO(pdf)).pages]


def usd(minor: int) -> str:
    """An amount as the totals print it."""
    return format_amount(minor, 2, "USD")


def test_invoice_prints_every_fact() -> None:
    doc = make_invoice(3)
    [text] = page_texts(render_invoice(doc))
    for fact in ("St. Example General Hospital", "Zoë Müller", "MRN 100000017", "INV-2026-000123"):
        assert fact in text
    assert "2026-12-06" in text and "Page 1 of 1" in text and "COPY" not in text
    for line in doc.lines:
        amounts = line.amounts()
        assert line.code in text
        assert format_amount(amounts.net, 2) in text and format_amount(amounts.gross, 2) in text
    total = doc.totals()
    for amount in (total.net, total.tax, total.gross, doc.paid(), abs(doc.balance_due())):
        assert usd(amount) in text
    assert doc.insurance is not None
    assert usd(doc.insurance.patient_share) in text and usd(doc.insurance.payer_share) in text
    assert doc.balance_due() < 0  # paid more than their share: in credit, never "-15.92 due"
    assert "TERM-88213" in text and "Patient in credit" in text
    # the patient owes their share less what they paid; the insurer's share is claimed apart
    assert doc.balance_due() == doc.insurance.patient_share - doc.paid()


def test_balance_due_is_total_less_payments() -> None:
    doc = make_invoice(3, insured=False)
    assert doc.balance_due() == doc.totals().gross - 17_000
    [text] = page_texts(render_invoice(doc))
    assert "Insurer" not in text and usd(doc.balance_due()) in text


def test_two_hundred_lines_paginate_with_headers_and_totals_last() -> None:
    doc = make_invoice(200)
    texts = page_texts(render_invoice(doc))
    count = len(texts)
    assert count >= 3
    for number, text in enumerate(texts, start=1):
        assert "Description" in text and "Unit price" in text and "Tax %" in text
        assert f"Page {number} of {count}" in text
        assert ("Invoice total" in text) == (number == count)
    every = "\n".join(texts)
    for line in doc.lines:  # no line lost or printed twice at a page break
        assert every.count(line.code) == 1
    last = texts[-1]
    assert last.index("C0200") < last.index("Net total") < last.lower().index("balance due")
    expected = sum(line_amounts(x.quantity, x.unit_price, x.tax_rate).gross for x in doc.lines)
    assert f"Invoice total\n{usd(expected)}" in last.replace("\n ", "\n")


def test_copy_is_watermarked_on_every_page() -> None:
    texts = page_texts(render_invoice(make_invoice(200, is_copy=True)))
    assert len(texts) > 1 and all("COPY" in text for text in texts)


def test_credit_note_names_the_invoice_it_corrects() -> None:
    doc = make_invoice(2, insured=False)
    note = InvoiceDocument(
        **{**doc.__dict__, "number": "CN-2026-000007", "credit_note_for": "INV-2026-000123"}
    )
    [text] = page_texts(render_invoice(note))
    assert "CREDIT NOTE" in text and "Credits invoice" in text and "INV-2026-000123" in text


@DEJAVU
def test_latin_extended_names_print_as_written() -> None:
    name = "Zoë Müller-Łukasik Şahin Dvořák"
    doc = make_invoice(1)
    doc = InvoiceDocument(**{**doc.__dict__, "patient": PartyLine(name, "100000017")})
    [text] = page_texts(render_invoice(doc))
    assert name in text


def test_without_dejavu_helvetica_prints_latin_1(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pdf_common, "FONT_DIRS", ())
    pdf_common.fonts.cache_clear()
    try:
        assert pdf_common.fonts() == ("Helvetica", "Helvetica-Bold")
        [text] = page_texts(render_invoice(make_invoice(2)))
        receipt = page_texts(render_receipt(make_receipt(), width="80mm"))[0]
    finally:
        pdf_common.fonts.cache_clear()
    assert "Zoë Müller" in text and "Page 1 of 1" in text and "Zoë Müller" in receipt


def test_thermal_receipt_is_80_mm_wide_and_one_page() -> None:
    receipt = make_receipt(is_copy=True)
    reader = PdfReader(BytesIO(render_receipt(receipt, width="80mm")))
    [page] = reader.pages
    assert float(page.mediabox.width) == pytest.approx(80 * mm, abs=0.01)
    assert float(page.mediabox.height) > float(page.mediabox.width)
    text = page.extract_text()
    for fact in ("RC-2026-000045", "Zoë Müller", "100000017", "INV-2026-000123", "TERM-88213"):
        assert fact in text
    assert usd(12_000) in text and usd(98_765) in text and "Card" in text and "COPY" in text


def test_a4_receipt() -> None:
    reader = PdfReader(BytesIO(render_receipt(make_receipt(), width="a4")))
    [page] = reader.pages
    assert (float(page.mediabox.width), float(page.mediabox.height)) == pytest.approx(A4)
    text = page.extract_text()
    assert "RECEIPT" in text and usd(12_000) in text and "COPY" not in text


def test_bad_input_is_refused_in_words() -> None:
    with pytest.raises(ValueError, match="at least one line"):
        InvoiceDocument(**{**make_invoice(1).__dict__, "lines": ()})
    with pytest.raises(MoneyError, match="quantity must be more than zero"):
        InvoiceLine("Bandage", "B1", Decimal(-1), 500)
    with pytest.raises(ValueError, match="add up to the invoice total"):
        doc = make_invoice(1, insured=False)
        InvoiceDocument(**{**doc.__dict__, "insurance": InsuranceSplit("Acme", "P", 1, 1)})
    with pytest.raises(MoneyError, match="more than zero"):
        Payment(date(2026, 12, 6), "Cash", "", 0)
    with pytest.raises(ValueError, match="not a currency code"):
        InvoiceDocument(**{**make_invoice(1).__dict__, "currency": "US$"})
    with pytest.raises(ValueError, match="“a4” or “80mm”"):
        render_receipt(make_receipt(), width="letter")  # type: ignore[arg-type]


def render_first_page(directory: Path) -> Path:
    """The sample 5-line invoice's first page as a PNG at 60 dpi, via poppler's pdftoppm."""
    pdf = directory / "invoice.pdf"
    pdf.write_bytes(render_invoice(make_invoice(5, is_copy=True)))
    stem = directory / "page1"
    subprocess.run(
        ["pdftoppm", "-png", "-r", "60", "-f", "1", "-l", "1", "-singlefile", pdf, stem],
        check=True,
    )
    return stem.with_suffix(".png")


@DEJAVU
@pytest.mark.skipif(shutil.which("pdftoppm") is None, reason="poppler-utils is not installed")
def test_first_page_looks_like_the_reference(tmp_path: Path) -> None:
    rendered = Image.open(render_first_page(tmp_path)).convert("L")
    reference = Image.open(REFERENCE).convert("L")
    assert rendered.size == reference.size
    diff = ImageStat.Stat(ImageChops.difference(rendered, reference)).mean[0]
    assert diff < MAX_MEAN_DIFF, f"first page differs from the reference by {diff:.2f}"


def write_reference() -> None:
    """Render the reference image afresh (run by hand after looking at the page)."""
    REFERENCE.parent.mkdir(parents=True, exist_ok=True)
    work = REFERENCE.parent / "_render"
    work.mkdir(exist_ok=True)
    try:
        shutil.copyfile(render_first_page(work), REFERENCE)
    finally:
        shutil.rmtree(work)
    print(f"wrote {REFERENCE}")


if __name__ == "__main__" and "--write-reference" in sys.argv:
    write_reference()
