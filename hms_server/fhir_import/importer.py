"""Loading bundles into the record: one transaction per bundle, rows built in Python and
flushed in batches, existing imports found by one query per table and patient."""

import uuid
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from hms_core.db.base import Base, new_id
from hms_core.db.clinical import FHIR, Encounter
from hms_core.db.patients import Patient
from hms_core.services.actor import SYSTEM
from hms_core.services.audit import record_audit
from hms_core.services.errors import DomainError
from hms_server.db import Database
from hms_server.fhir_import.bundle import (
    BundleError,
    BundleIndex,
    Directory,
    Resource,
    bundle_files,
    is_directory_bundle,
    read_bundle,
    resource_key,
    resources,
)
from hms_server.fhir_import.mapping import MAPPERS, Context, Skipped, notes_carried, skip_reason
from hms_server.fhir_import.patients import patient_uuid, register_fhir_patient
from hms_server.fhir_import.progress import Progress, Summary, TypeCount

BATCH = 1000  # rows added and flushed at a time
# Synthea writes these beside the patient bundles: read them first so names resolve.
DIRECTORY_FILE_PREFIXES = ("practitionerInformation", "hospitalInformation")


def import_paths(db: Database, paths: list[Path], progress: Progress | None = None) -> Summary:
    """Import every bundle file under `paths`; a failed file is reported, the others go on."""
    files = sorted(
        bundle_files(paths), key=lambda p: not p.name.startswith(DIRECTORY_FILE_PREFIXES)
    )
    progress = progress or Progress(len(files))
    progress.total = len(files)
    summary, directory = Summary(), Directory()
    for path in files:
        size = 0
        try:
            bundle = read_bundle(path)
            size = len(bundle.get("entry", []))
            if is_directory_bundle(bundle):
                directory.add_bundle(bundle)
                summary.directory.update(r["resourceType"] for _, r in resources(bundle))
            else:
                summary.merge(import_bundle(db, bundle, directory, path.name))
        except (BundleError, DomainError) as exc:
            summary.failures.append((str(path), str(exc)))
        progress.file_done(size, path.name)
    progress.close()
    return summary


def import_bundle(
    db: Database, bundle: Resource, directory: Directory, name: str = ""
) -> dict[str, TypeCount]:
    """Import one bundle in one transaction: all of it, or (on an error) none of it."""
    try:
        with db.unit_of_work() as session:
            run = _BundleRun(session, bundle, directory)
            run.import_all()
            record_audit(
                session,
                SYSTEM,
                "fhir.import",
                patient_id=run.first_patient,
                detail={"file": name, **run.totals()},
            )
            return run.counts
    except DomainError:
        raise
    except Exception as exc:  # a bundle whose content breaks the mapping or the database
        raise BundleError(f"not imported ({type(exc).__name__}: {exc})") from exc


@dataclass
class _BundleRun:
    session: Session
    bundle: Resource
    directory: Directory
    counts: dict[str, TypeCount] = field(default_factory=dict)
    first_patient: uuid.UUID | None = None
    _patients: dict[str, uuid.UUID | None] = field(default_factory=dict)  # FHIR id → hms id
    _contexts: dict[uuid.UUID, Context] = field(default_factory=dict)
    _existing: dict[tuple[str, uuid.UUID], set[str]] = field(default_factory=dict)
    _pending: list[Base] = field(default_factory=list)

    def import_all(self) -> None:
        entries = list(resources(self.bundle))
        self.index = BundleIndex.of(self.bundle)
        self.notes = notes_carried(entries)
        for full_url, res in entries:
            if res["resourceType"] == "Patient":
                self._import_patient(resource_key(full_url, res), res)
        work = [(res, resource_key(url, res)) for url, res in entries]
        self._assign_encounter_ids(work)
        for res, key in work:
            if res["resourceType"] != "Patient":
                self._import_resource(res, key)
        self._flush()

    def totals(self) -> dict[str, int]:
        counts = self.counts.values()
        return {
            "imported": sum(c.imported for c in counts),
            "already_present": sum(c.present for c in counts),
            "skipped": sum(c.skipped.total() for c in counts),
        }

    def _count(self, resource_type: str) -> TypeCount:
        return self.counts.setdefault(resource_type, TypeCount())

    def _import_patient(self, key: str, res: Resource) -> None:
        patient_id = patient_uuid(key)
        self.first_patient = self.first_patient or patient_id
        self._patients[key] = patient_id
        if self.session.get(Patient, patient_id) is not None:
            self._count("Patient").present += 1
            return
        register_fhir_patient(self.session, res, patient_id)
        self._count("Patient").imported += 1

    def _patient_of(self, res: Resource) -> uuid.UUID | None:
        target = self.index.resolve(res.get("subject") or res.get("patient"))
        if target is None or target[0] not in ("Patient", ""):
            return None
        key = target[1]
        if key not in self._patients:
            patient_id = patient_uuid(key)
            known = self.session.get(Patient, patient_id) is not None
            self._patients[key] = patient_id if known else None
        return self._patients[key]

    def _context(self, patient_id: uuid.UUID) -> Context:
        if patient_id not in self._contexts:
            context = Context(patient_id, self.index, self.directory, notes_elsewhere=self.notes)
            found = self.session.execute(
                select(Encounter.external_id, Encounter.id).where(
                    Encounter.source == FHIR, Encounter.patient_id == patient_id
                )
            )
            context.encounters.update({ext: row_id for ext, row_id in found if ext})
            self._contexts[patient_id] = context
        return self._contexts[patient_id]

    def _assign_encounter_ids(self, work: list[tuple[Resource, str]]) -> None:
        """Give this bundle's encounters their ids first, so any resource may refer to one."""
        for res, key in work:
            if res["resourceType"] == "Encounter":
                patient_id = self._patient_of(res)
                if patient_id is not None:
                    self._context(patient_id).encounters.setdefault(key, new_id())

    def _existing_ids(self, table: type[Base], patient_id: uuid.UUID) -> set[str]:
        """External ids already imported into `table` for this patient (one query, cached)."""
        cache_key = (table.__tablename__, patient_id)
        if cache_key not in self._existing:
            found = self.session.execute(
                select(table.external_id).where(
                    table.source == FHIR, table.patient_id == patient_id
                )
            ).scalars()
            self._existing[cache_key] = set(found)
        return self._existing[cache_key]

    def _import_resource(self, res: Resource, key: str) -> None:
        resource_type = res["resourceType"]
        count = self._count(resource_type)
        if resource_type not in MAPPERS:
            count.skipped[skip_reason(resource_type)] += 1
            return
        patient_id = self._patient_of(res)
        if patient_id is None:
            count.skipped["its patient is neither in the bundle nor in the record"] += 1
            return
        table, mapper = MAPPERS[resource_type]
        try:
            rows = mapper(res, key, self._context(patient_id))
        except Skipped as skipped:
            count.skipped[str(skipped)] += 1
            return
        existing = self._existing_ids(table, patient_id)
        if not rows or rows[0].external_id in existing:
            count.present += 1
            return
        existing.update(row.external_id for row in rows)
        count.imported += 1
        self._pending.extend(rows)
        if len(self._pending) >= BATCH:
            self._flush()

    def _flush(self) -> None:
        self.session.add_all(self._pending)
        self.session.flush()
        self._pending.clear()
