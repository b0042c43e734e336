"""Printed documents: invoice and receipt PDF generation, each against a one-line reportlab page
measured in the same run (DESIGN.md §7). What it measures: README.md in this folder.

    .venv/bin/python tests/benchmarks/invoice_pdf_bench.py [--runs 200]
"""

import argparse
import gc
import os
import sys
import time
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from io import BytesIO

from pypdf import PdfReader
from reportlab.lib import rl_accel
from reportlab.lib.pagesizes import A4
from reportlab.lib.rl_accel import fp_str
from reportlab.pdfgen.canvas import Canvas

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
from hms_core.rules.money import insurance_split

TARGET_MS = 50.0  # the target: a 20-line invoice in at most 50 ms
HOSPITAL = Hospital(
    "St. Example General Hospital",
    ("12 Harbour Road", "Springfield 4021"),
    phone="+1 555 0100",
    tax_id="TX-99-1234567",
)
PATIENT = PartyLine("Zoë Müller", "100000017", ("Flat 3, 7 Elm Street", "Springfield 4022"))
SERVICES = (  # (code, description, unit price in cents, tax %), cycled through
    ("CON-CARD", "Consultation, cardiology (consultant)", 9_500, "0"),
    ("LAB-FBC", "Full blood count", 1_850, "0"),
    ("IMG-CXR", "Chest X-ray, two views, with radiologist's report", 6_400, "0"),
    ("BED-GEN", "Bed-day, general ward", 21_000, "0"),
    ("MED-AMOX", "Amoxicillin 500 mg capsule", 35, "7.5"),
    ("PRC-ECG", "12-lead electrocardiogram", 4_200, "7.5"),
    ("SUP-DRS", "Wound dressing pack, sterile", 780, "15"),
)
PAYMENTS = (
    Payment(date(2026, 12, 6), "Cash", "DESK-1", 5_000),
    Payment(date(2026, 12, 6), "Card", "TERM-88213", 12_000),
)


def invoice(lines: int) -> InvoiceDocument:
    """An insured invoice of `lines` lines with two payments, as the billing desk prints it."""
    items = tuple(
        InvoiceLine(description, code, Decimal(1 + i % 3), price, Decimal(tax))
        for i, (code, description, price, tax) in (
            (i, SERVICES[i % len(SERVICES)]) for i in range(lines)
        )
    )
    gross = sum(item.amounts().gross for item in items)
    split = insurance_split(gross, Decimal(20))
    return InvoiceDocument(
        number="INV-2026-000123",
        issued=date(2026, 12, 6),
        currency="USD",
        exponent=2,
        hospital=HOSPITAL,
        patient=PATIENT,
        lines=items,
        insurance=InsuranceSplit("Acme Health", "POL-778", split.patient, split.payer),
        payments=PAYMENTS,
    )


def receipt() -> Receipt:
    """The receipt for the card payment."""
    return Receipt(
        number="RC-20261206-0A1B2C3D",
        issued=datetime(2026, 12, 6, 14, 32),
        currency="USD",
        exponent=2,
        hospital=HOSPITAL,
        patient=PATIENT,
        payment=PAYMENTS[1],
        balance_after=98_765,
        invoice_number="INV-2026-000123",
    )


def one_line_page() -> bytes:
    """The baseline: a reportlab canvas, one string, one page, saved to memory."""
    buffer = BytesIO()
    canvas = Canvas(buffer, pagesize=A4, invariant=True)
    canvas.drawString(72, 770, "Baseline page")
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def percentile(samples: list[float], share: float) -> float:
    """The nearest-rank percentile of `samples` (`share` between 0 and 1)."""
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))]


def measure(jobs: dict[str, Callable[[], bytes]], runs: int) -> dict[str, list[float]]:
    """Milliseconds per call of each job; the jobs take turns, so load on the machine hits all."""
    times: dict[str, list[float]] = {name: [] for name in jobs}
    for _ in range(runs):
        for name, job in jobs.items():
            started = time.perf_counter()
            job()
            times[name].append((time.perf_counter() - started) * 1000)
    return times


def run(runs: int, warmup: int) -> list[tuple[str, ...]]:
    small, large, paid = invoice(20), invoice(200), receipt()
    jobs: dict[str, Callable[[], bytes]] = {
        "one-line page (baseline)": one_line_page,
        "invoice, 20 lines": lambda: render_invoice(small),
        "invoice, 200 lines": lambda: render_invoice(large),
        "receipt, A4": lambda: render_receipt(paid, "a4"),
        "receipt, 80 mm": lambda: render_receipt(paid, "80mm"),
    }
    pages = {name: len(PdfReader(BytesIO(job())).pages) for name, job in jobs.items()}
    measure(jobs, warmup)  # fonts loaded, imports and caches warm
    gc.collect()
    times = measure(jobs, runs)
    base = percentile(times["one-line page (baseline)"], 0.5)
    rows = []
    for name, samples in times.items():
        median, p95 = percentile(samples, 0.5), percentile(samples, 0.95)
        target = ""
        if name == "invoice, 20 lines":
            verdict = {True: "met", False: "MISSED"}
            target = f"<= {TARGET_MS:.0f} ms: median {verdict[median <= TARGET_MS]}"
            target += f", p95 {verdict[p95 <= TARGET_MS]}"
        figures = (f"{pages[name]}", f"{median:.2f}", f"{p95:.2f}", f"{median / base:.1f}x")
        rows.append((name, *figures, target))
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=200, help="measured calls of each document")
    parser.add_argument("--warmup", type=int, default=10, help="unmeasured calls first")
    args = parser.parse_args(argv)
    accel = "C" if getattr(fp_str, "__module__", "") != rl_accel.__name__ else "pure Python"
    print(f"font {fonts()[0]}; reportlab number formatting: {accel} (the rl-accel package)")
    print(f"{args.runs} runs each after {args.warmup} warm-up, interleaved; load average ", end="")
    print(", ".join(f"{x:.2f}" for x in os.getloadavg()), "(a busy machine inflates the p95)")
    rows = run(args.runs, args.warmup)
    header = ("document", "pages", "median ms", "p95 ms", "median ÷ baseline", "target")
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    print()
    for row in [header, tuple("-" * w for w in widths), *rows]:
        print(" | ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())
    return 0


if __name__ == "__main__":
    sys.exit(main())
