"""Ward work done on desktop caches: two offline admissions to one bed end with one admission
and one refusal in plain words; a set charted offline reaches the server with its NEWS2."""

import uuid
from datetime import date

from sqlalchemy import func, select

from hms_core.db import Admission, AuditEvent, Bed, VitalsEntry, Ward
from hms_core.schemas.patients import PatientCreate
from hms_core.services.actor import SYSTEM
from hms_core.services.patients import register_patient
from hms_desktop.store.ward import LocalWard
from tests.sync.helpers import make_pc


def make_ward(db) -> tuple[uuid.UUID, dict[str, uuid.UUID], list[tuple[uuid.UUID, str]]]:  # noqa: ANN001
    """ICU with beds ICU-01..03 and two patients: (ward id, beds by label, [(id, mrn)])."""
    with db.unit_of_work() as session:
        ward = Ward(code="ICU", name="Intensive Care Unit", ward_class="icu")
        session.add(ward)
        session.flush()
        beds = [Bed(ward_id=ward.id, label=f"ICU-{n:02d}") for n in (1, 2, 3)]
        session.add_all(beds)
        people = [
            register_patient(
                session,
                SYSTEM,
                PatientCreate(
                    given_name=given, family_name="Ward", birth_date=date(1970, 2, 2), sex="male"
                ),
            )
            for given in ("Omar", "Liam")
        ]
        session.flush()
        return ward.id, {b.label: b.id for b in beds}, [(p.id, p.mrn) for p in people]


def occupant(ward: LocalWard, ward_id: uuid.UUID, label: str) -> uuid.UUID | None:
    return next(b.patient_id for b in ward.beds(ward_id) if b.label == label)


def test_two_offline_admissions_to_one_bed_end_with_one_admission_and_a_refusal(
    live_server, tmp_path
):
    ward_id, beds, [(omar, omar_mrn), (liam, _)] = make_ward(live_server.db)
    first = make_pc(live_server, tmp_path, role="nurse")
    second = make_pc(live_server, tmp_path, role="nurse")
    for pc in (first, second):
        pc.engine.sync_once()
    first_ward, second_ward = LocalWard(first.store), LocalWard(second.store)
    first_ward.admit(omar, beds["ICU-02"], "Pneumonia")
    second_ward.admit(liam, beds["ICU-02"], "Chest pain")
    assert occupant(first_ward, ward_id, "ICU-02") == omar  # each PC shows its own, tentatively
    assert occupant(second_ward, ward_id, "ICU-02") == liam
    first.engine.sync_once()
    second.engine.sync_once()
    second.engine.sync_once()
    first.engine.sync_once()
    [rejection] = second.store.rejections()
    assert rejection["name"] == "admit_patient"
    assert rejection["code"] == "bed_occupied"
    assert rejection["message"].startswith(f"Bed ICU-02 is occupied by Omar Ward (MRN {omar_mrn})")
    for ward in (first_ward, second_ward):  # both caches converge on the server's answer
        assert occupant(ward, ward_id, "ICU-02") == omar
        assert all(b.patient_id != liam for b in ward.beds(ward_id))
    assert second.store.counts()["pending"] == 0
    with live_server.db.unit_of_work() as session:
        [kept] = session.execute(select(Admission)).scalars().all()
        assert (kept.patient_id, kept.bed_id) == (omar, beds["ICU-02"])
    for pc in (first, second):
        pc.close()


def test_a_set_charted_offline_reaches_the_server_with_its_news2(live_server, tmp_path):
    ward_id, beds, [(omar, _), _] = make_ward(live_server.db)
    pc = make_pc(live_server, tmp_path, role="nurse")
    pc.engine.sync_once()
    ward = LocalWard(pc.store)
    ward.admit(omar, beds["ICU-01"])
    charted = ward.record_vitals(
        omar,
        {
            "respiration_rate": 24,
            "spo2": 93,
            "spo2_scale": 1,
            "on_oxygen": False,
            "systolic_bp": 105,
            "diastolic_bp": 70,
            "pulse": 115,
            "consciousness": "V",
            "temperature_c": 38.5,
        },
    )
    assert (charted.news2_total, charted.news2_band) == (11, "high")
    [bed] = [b for b in ward.beds(ward_id) if b.label == "ICU-01"]
    assert (bed.news2_total, bed.news2_band) == (11, "high")
    assert [v.id for v in ward.vitals(omar)] == [charted.id]
    pc.engine.sync_once()
    pc.engine.sync_once()
    assert pc.store.counts()["pending"] == 0
    assert pc.store.rejections() == []
    with live_server.db.unit_of_work() as session:
        entry = session.get(VitalsEntry, charted.id)
        assert entry is not None
        assert (entry.news2_total, entry.news2_band, entry.recorded_by) == (
            11,
            "high",
            "test-nurse",
        )
        actions = set(
            session.execute(
                select(AuditEvent.action).where(AuditEvent.patient_id == omar)
            ).scalars()
        )
        assert {"admission.admit", "vitals.record", "vitals.read"} <= actions
        reads = session.execute(
            select(func.count()).where(AuditEvent.action == "ward.list")
        ).scalar_one()
        assert reads == 1  # the ward list audited once, not on every refresh
    pc.close()
