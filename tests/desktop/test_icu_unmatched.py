"""Monitor readings the gateway could not match: the nurse sees them from the ICU station's
toolbar, gives them to the right patient, and the server stores who did it (live server)."""

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select

from hms_core.db import AuditEvent, VitalSign
from hms_core.schemas.patients import PatientCreate
from hms_core.services.actor import SYSTEM
from hms_core.services.patients import register_patient
from hms_desktop.workspaces.icu.workspace import IcuWorkspace
from tests.desktop.helpers import SIGN_IN_TIMEOUT_MS, shots_dir, sign_in
from tests.server.icu_helpers import make_icu

WAIT = SIGN_IN_TIMEOUT_MS
HINT_03 = "device MON-ICU-03, bed ICU-03, no patient admitted"
HINT_04 = "device MON-ICU-04, bed ICU-04, no patient admitted"


def add_unmatched(  # noqa: ANN001
    db, bed_id, device: str, hint: str, values: dict[str, float], ago=timedelta(minutes=2)
) -> None:
    """Readings as the gateway stores them for a bed nobody is admitted to, `ago` ago."""
    at = datetime.now(UTC) - ago
    with db.unit_of_work() as session:
        for n, (parameter, value) in enumerate(values.items()):
            session.add(
                VitalSign(
                    patient_id=None,
                    bed_id=bed_id,
                    device_id=device,
                    parameter=parameter,
                    value=value,
                    code_system="MDC",
                    observed_at=at + timedelta(seconds=n),
                    message_id=f"{device}-{n}",
                    unmatched_hint=hint,
                    received_at=at,
                )
            )


def stored(db, device: str) -> list[VitalSign]:  # noqa: ANN001
    with db.sessions() as session:
        query = select(VitalSign).where(VitalSign.device_id == device)
        return list(session.scalars(query))


def test_nurse_assigns_a_monitors_readings_to_a_patient(qtbot, controller, live_server, tmp_path):
    db = live_server.db
    icu = make_icu(db, {"ICU-02": ("Chidi", "Okafor")})
    with db.unit_of_work() as session:  # arrived on ICU-03, not admitted yet
        data = PatientCreate(
            given_name="Amara", family_name="Nwosu", birth_date=date(1964, 5, 6), sex="female"
        )
        amara = register_patient(session, SYSTEM, data)
        amara_id, amara_mrn = amara.id, amara.mrn
    add_unmatched(db, icu.beds["ICU-03"], "MON-ICU-03", HINT_03, {"hr": 88, "spo2": 95, "rr": 18})
    add_unmatched(db, icu.beds["ICU-04"], "MON-ICU-04", HINT_04, {"hr": 70, "spo2": 99})
    # two days ago the same monitor sent this for someone else: not offered, not assigned
    add_unmatched(db, icu.beds["ICU-03"], "MON-ICU-03", HINT_03, {"temp": 36.9}, timedelta(days=2))

    window = sign_in(qtbot, controller, live_server.url, live_server.users["nurse"])
    workspace = IcuWorkspace(window.ctx)
    qtbot.addWidget(workspace)
    workspace.resize(1400, 860)
    workspace.show()
    button = workspace.unmatched_button
    qtbot.waitUntil(lambda: button.isVisible(), timeout=WAIT)
    assert button.text() == "5 unassigned readings"

    button.click()
    dialog = workspace.unmatched_dialog
    assert dialog is not None and dialog.isVisible()
    qtbot.waitUntil(lambda: dialog.group_model.rowCount() == 2, timeout=WAIT)
    groups = {g.device_id: g for g in dialog.group_model.records()}
    assert groups["MON-ICU-03"].hint == HINT_03 and groups["MON-ICU-03"].readings == 3
    assert groups["MON-ICU-04"].readings == 2
    model = dialog.group_model
    shown = [model.data(model.index(r, 1)) for r in range(model.rowCount())]
    assert HINT_03 in shown  # the nurse reads what the message said
    # the ward's admitted patients are offered straight away
    assert [dialog.patient_list.item(i).text() for i in range(dialog.patient_list.count())] == [
        f"OKAFOR, Chidi · MRN {_mrn(db, icu.patients['ICU-02'])} · bed ICU-02"
    ]

    row = next(r for r in range(model.rowCount()) if model.record(r).device_id == "MON-ICU-03")
    dialog.group_table.selectRow(row)
    dialog.search_edit.setText("Nwosu")  # found in this PC's copy of the patient list
    qtbot.waitUntil(lambda: "NWOSU" in first_choice(dialog), timeout=WAIT)
    assert dialog.patient_list.count() == 1
    dialog.patient_list.setCurrentRow(0)
    assert dialog.assign_button.isEnabled()
    assert dialog.summary_label.text().startswith(
        f"3 readings from MON-ICU-03 will be given to NWOSU, Amara (MRN {amara_mrn})"
    )
    dialog.grab().save(str(shots_dir(tmp_path) / "icu_unmatched_dialog.png"))

    with qtbot.waitSignal(dialog.assigned, timeout=WAIT) as done:
        dialog.assign_button.click()
    assert done.args == [3]
    assert dialog.status_label.text() == (
        f"Done: 3 readings from MON-ICU-03 now belong to NWOSU, Amara (MRN {amara_mrn})."
    )
    rows = [r for r in stored(db, "MON-ICU-03") if r.parameter != "temp"]
    assert len(rows) == 3
    assert all(r.patient_id == amara_id and r.assigned_by == "test-nurse" for r in rows)
    [old] = [r for r in stored(db, "MON-ICU-03") if r.parameter == "temp"]
    assert old.patient_id is None and old.assigned_by is None
    assert all(r.patient_id is None for r in stored(db, "MON-ICU-04"))  # the other monitor's not
    with db.sessions() as session:
        audit = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "monitor.unmatched.assign")
        ).one()
    assert audit.patient_id == amara_id and audit.actor_username == "test-nurse"
    assert audit.detail["readings"] == 3 and audit.detail["device_id"] == "MON-ICU-03"
    # the dialog and the station catch up
    qtbot.waitUntil(lambda: dialog.group_model.rowCount() == 1, timeout=WAIT)
    qtbot.waitUntil(lambda: button.text() == "2 unassigned readings", timeout=WAIT)

    # another nurse assigns MON-ICU-04 while this dialog still offers it
    dialog.search_edit.setText("")
    qtbot.waitUntil(lambda: "OKAFOR" in first_choice(dialog), timeout=WAIT)
    dialog.group_table.selectRow(0)
    dialog.patient_list.setCurrentRow(0)
    with live_server.client("nurse") as http:
        body = {"patient_id": str(icu.patients["ICU-02"]), "device_id": "MON-ICU-04"}
        body["hint"] = HINT_04
        assert http.post("/api/monitoring/unmatched/assign", json=body).json() == {"assigned": 2}
    dialog.assign_button.click()
    qtbot.waitUntil(lambda: "not assigned" in dialog.status_label.text(), timeout=WAIT)
    assert dialog.status_label.text() == (
        "The readings were not assigned. "
        "There are no unassigned readings from this monitor any more."
    )
    qtbot.waitUntil(lambda: dialog.group_model.rowCount() == 0, timeout=WAIT)
    assert not dialog.assign_button.isEnabled()
    qtbot.waitUntil(lambda: not button.isVisible(), timeout=WAIT)
    assert all(r.assigned_by == "test-nurse" for r in stored(db, "MON-ICU-04"))
    dialog.close()
    workspace.shutdown()


def test_a_doctor_is_told_plainly_that_assigning_is_for_nurses(qtbot, controller, live_server):
    db = live_server.db
    icu = make_icu(db, {"ICU-02": ("Chidi", "Okafor")})
    add_unmatched(db, icu.beds["ICU-03"], "MON-ICU-03", HINT_03, {"hr": 88})
    window = sign_in(qtbot, controller, live_server.url, live_server.users["doctor"])
    workspace = IcuWorkspace(window.ctx)
    qtbot.addWidget(workspace)
    workspace.show()
    qtbot.waitUntil(lambda: workspace.unmatched_button.isVisible(), timeout=WAIT)
    dialog = workspace.open_unmatched()
    qtbot.waitUntil(lambda: dialog.group_model.rowCount() == 1, timeout=WAIT)
    dialog.patient_list.setCurrentRow(0)
    dialog.assign_button.click()
    qtbot.waitUntil(lambda: "not assigned" in dialog.status_label.text(), timeout=WAIT)
    assert "Your role (doctor) does not allow this." in dialog.status_label.text()
    assert all(r.patient_id is None for r in stored(db, "MON-ICU-03"))  # nothing changed
    dialog.close()
    workspace.shutdown()


def first_choice(dialog) -> str:  # noqa: ANN001
    item = dialog.patient_list.item(0)
    return "" if item is None else item.text()


def _mrn(db, patient_id) -> str:  # noqa: ANN001
    from hms_core.db import Patient

    with db.sessions() as session:
        return session.get(Patient, patient_id).mrn
