"""The printed prescription, read back with pypdf: the patient, their allergies, every drug with
how to take it, the prescriber and the prescription id are on the page; a long prescription
paginates; a prescription without a drug or a prescriber is refused."""

from datetime import date
from io import BytesIO

import pytest
from pypdf import PdfReader

from hms_core.printing.documents import Hospital
from hms_core.printing.prescription_pdf import (
    NO_KNOWN_ALLERGIES,
    PrescribedDrug,
    PrescriptionDocument,
    render_prescription,
)

HOSPITAL = Hospital(name="St. Example General Hospital", address_lines=("12 Harbour Road",))
AMOXICILLIN = PrescribedDrug(
    name="Amoxicillin",
    strength="500 mg",
    form="capsule",
    dose="500 mg",
    route="oral",
    frequency="TDS",
    duration_days=7,
    quantity="21 capsule",
    instructions="Take with water after food",
)
PARACETAMOL = PrescribedDrug(
    name="Paracetamol", strength="500 mg", dose="1 g", route="oral", frequency="QDS",
    duration_days=3, quantity="24 tablet",
)  # fmt: skip


def make(**changes: object) -> PrescriptionDocument:
    fields: dict[str, object] = {
        "hospital": HOSPITAL,
        "prescription_id": "0193a7c4-5b2e-7e11-8a41-2f9c1d0e7a55",
        "written": date(2026, 12, 6),
        "patient_name": "MÜLLER, Zoë",
        "mrn": "100000017",
        "age": "45 y",
        "sex": "female",
        "allergies": ("Penicillin (anaphylaxis, severe)",),
        "drugs": (AMOXICILLIN, PARACETAMOL),
        "prescriber": "Dr Test Doctor",
    }
    return PrescriptionDocument(**(fields | changes))  # type: ignore[arg-type]


def text_of(pdf: bytes) -> list[str]:
    return [" ".join(page.extract_text().split()) for page in PdfReader(BytesIO(pdf)).pages]


def test_the_page_says_who_what_how_and_who_prescribed():
    (page,) = text_of(render_prescription(make()))
    for fact in (
        "St. Example General Hospital",
        "PRESCRIPTION",
        "MÜLLER, Zoë",
        "MRN 100000017",
        "45 y, female",
        "Penicillin (anaphylaxis, severe)",
        "2026-12-06",
        "0193a7c4-5b2e-7e11-8a41-2f9c1d0e7a55",
        "Amoxicillin 500 mg capsule",
        "Dose 500 mg · oral · TDS · for 7 days",
        "21 capsule",
        "Take with water after food",
        "Paracetamol 500 mg",
        "Dose 1 g · oral · QDS · for 3 days",
        "24 tablet",
        "Dr Test Doctor",
        "Prescriber's signature",
        "2 medicines on this prescription",
        "Page 1 of 1",
    ):
        assert fact in page, fact


def test_no_allergy_is_printed_as_no_known_allergies():
    (page,) = text_of(render_prescription(make(allergies=())))
    assert NO_KNOWN_ALLERGIES in page


def test_a_long_prescription_runs_onto_more_pages_and_ends_with_the_signature():
    drugs = tuple(
        PrescribedDrug(name=f"Drug {n}", dose="1 tablet", route="oral", frequency="OD",
                       instructions="Long instructions " * 8)
        for n in range(1, 31)
    )  # fmt: skip
    pages = text_of(render_prescription(make(drugs=drugs)))
    assert len(pages) > 1
    assert all(f"of {len(pages)}" in page and "MRN 100000017" in page for page in pages)
    assert "Drug 30" in " ".join(pages)
    assert "30 medicines on this prescription" in pages[-1]
    assert "Prescriber's signature" in pages[-1]
    assert "Prescriber's signature" not in pages[0]


def test_a_reprint_says_copy():
    (page,) = text_of(render_prescription(make(is_copy=True)))
    assert "COPY" in page


@pytest.mark.parametrize(("changes", "reason"), [
    ({"drugs": ()}, "at least one drug"),
    ({"prescriber": " "}, "prescriber"),
])  # fmt: skip
def test_a_prescription_without_a_drug_or_prescriber_is_refused(changes, reason):
    with pytest.raises(ValueError, match=reason):
        make(**changes)
