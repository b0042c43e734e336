"""FHIR import throughput: every Synthea bundle into a fresh embedded PostgreSQL.

Starts a private embedded PostgreSQL in a temporary directory, imports all bundles of
../shared/data/synthea (or the repository's copies, resources/demo/synthea) through the product's
importer (ORM rows, change log, audit, one transaction per bundle), then imports them again
(everything already present). The baseline, measured in the same run on the same database, is a
raw psycopg COPY of as many observation rows as the import wrote rows (see DESIGN.md §7).

    .venv/bin/python tests/benchmarks/fhir_import_bench.py
"""

import io
import sys
import tempfile
import time
from contextlib import redirect_stderr
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import psycopg
from sqlalchemy import func, select

# bench_patients.py sits next to this file (sys.path[0] when run as a script).
sys.path.insert(1, str(Path(__file__).resolve().parents[2]))
from bench_patients import copy_rows, embedded_database  # noqa: E402

from hms_core.db.base import new_ids  # noqa: E402
from hms_core.db.patients import Patient  # noqa: E402
from hms_core.db.sync import ChangeLog  # noqa: E402
from hms_server.db import Database, make_engine  # noqa: E402
from hms_server.fhir_import.importer import import_paths  # noqa: E402
from hms_server.fhir_import.progress import Summary  # noqa: E402
from tests.conftest import ROOT, SHARED_DATA  # noqa: E402

OBSERVATION_COLUMNS = (
    "id",
    "created_at",
    "updated_at",
    "row_version",
    "patient_id",
    "category",
    "effective_at",
    "value_num",
    "value_text",
    "unit",
    "flag",
    "status",
    "entered_by",
    "code_system",
    "code",
    "display",
    "source",
    "external_id",
)


@dataclass(frozen=True)
class Rate:
    what: str
    count: int
    seconds: float

    @property
    def per_s(self) -> float:
        return self.count / self.seconds


def synthea_dir() -> Path:
    shared = SHARED_DATA / "synthea"
    return shared if shared.is_dir() else ROOT / "resources" / "demo" / "synthea"


def timed_import(db: Database) -> tuple[Summary, float]:
    started = time.perf_counter()
    with redirect_stderr(io.StringIO()):  # no progress bar inside the measurement
        summary = import_paths(db, [synthea_dir()])
    return summary, time.perf_counter() - started


def copy_observations(dsn: str, count: int) -> Rate:
    """COPY `count` observation rows (one patient's, like a bundle's) in one transaction."""
    with psycopg.connect(dsn) as conn:
        patient_id = conn.execute("SELECT id FROM patient LIMIT 1").fetchone()[0]
        now = datetime.now(UTC)
        rows = [
            (i, now, now, 1, patient_id, "vital-signs", now, "64.75", "", "kg", "", "final", "")
            + ("http://loinc.org", "29463-7", "Body weight", "bench", f"bench-{n}")
            for n, i in enumerate(new_ids(count))
        ]
        started = time.perf_counter()
        copy_rows(conn, "observation", OBSERVATION_COLUMNS, rows)
        conn.commit()
        return Rate("COPY observation rows", count, time.perf_counter() - started)


def main() -> int:
    with (
        tempfile.TemporaryDirectory(prefix="hms-fhir-bench-") as tmp,
        embedded_database(Path(tmp)) as url,
    ):
        db = Database(make_engine(url))
        first, first_s = timed_import(db)
        with db.sessions() as session:
            rows = session.scalar(select(func.count()).select_from(ChangeLog))
            patients = session.scalar(select(func.count()).select_from(Patient))
        again, again_s = timed_import(db)
        db.engine.dispose()
        baseline = copy_observations(url.replace("postgresql+psycopg://", "postgresql://"), rows)
    report(first, first_s, again, again_s, rows, patients, baseline)
    return 1 if first.failures or again.failures else 0


def report(
    first: Summary,
    first_s: float,
    again: Summary,
    again_s: float,
    rows: int,
    patients: int,
    baseline: Rate,
) -> None:
    imported = sum(c.imported for c in first.counts.values())
    print("\n".join(first.lines()))
    print(f"\n{patients} patients, {rows:,} replicated rows written (change log entries)")
    print(
        f"baseline: raw psycopg COPY of {baseline.count:,} observation rows = "
        f"{baseline.per_s:,.0f} rows/s ({baseline.seconds:.2f} s)"
    )
    figures = [
        ("first import: resources read/s", first.resources, first_s),
        ("first import: resources imported/s", imported, first_s),
        ("first import: rows written/s", rows, first_s),
        ("second import (all present): resources/s", again.resources, again_s),
    ]
    print(f"\n{'figure':43} | {'count':>7} | {'seconds':>7} | {'per s':>8} | ratio to COPY")
    for name, count, seconds in figures:
        per_s = count / seconds
        print(
            f"{name:43} | {count:7,} | {seconds:7.2f} | {per_s:8,.0f} | "
            f"{per_s / baseline.per_s:.3f}x"
        )


if __name__ == "__main__":
    sys.exit(main())
