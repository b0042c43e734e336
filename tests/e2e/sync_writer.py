"""A desktop registering patients offline until it is killed (for test_sync_faults.py).

Usage: python tests/e2e/sync_writer.py CACHE_DIR USER_ID USERNAME ROLE CLIENT_ID MRN_START MRN_STOP
       FIRST (the number of the first patient: names and birth dates follow from it)

Prints "ready" once the cache is open, then "<n> <patient id>" after each committed
registration (n counts from FIRST + 1).
"""

import sys
import uuid
from datetime import date, timedelta
from pathlib import Path

from hms_core.schemas.patients import PatientCreate
from hms_core.services import Actor
from hms_desktop.store import mrns
from hms_desktop.store.cache import LocalStore
from hms_desktop.store.patients import LocalPatients


def letters(n: int) -> str:
    """0 -> 'Aaa', 1 -> 'Aab', ...: distinct alphabetic names."""
    out = ""
    for _ in range(3):
        n, r = divmod(n, 26)
        out = chr(ord("a") + r) + out
    return out.capitalize()


def main(argv: list[str]) -> int:
    directory, user_id, username, role, client_id, start, stop, first_number = argv
    actor = Actor(uuid.UUID(user_id), username, role, client_id)
    store = LocalStore(Path(directory), actor)
    mrns.add_block(store, int(start), int(stop))
    patients = LocalPatients(store)
    print("ready", flush=True)
    first = date(1940, 1, 1)
    n = int(first_number)
    while True:
        saved = patients.register_patient(
            PatientCreate(
                given_name=f"Writer {letters(n)}",
                family_name="Crashtest",
                birth_date=first + timedelta(days=n),  # distinct: no duplicate warning
                sex="male",
                city="Lagos",
            )
        )
        n += 1
        print(n, saved.id, flush=True)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
