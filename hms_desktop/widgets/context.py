"""What every workspace needs: the session, the API client and the task manager."""

import logging
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Signal

from hms_desktop.background import SyncController
from hms_desktop.session import CredentialVault, Prefs, Session
from hms_desktop.store.billing import LocalBilling
from hms_desktop.store.billing_desk import LocalBillingDesk
from hms_desktop.store.chart import LocalChart
from hms_desktop.store.clinical import LocalClinical
from hms_desktop.store.lab import LocalLab
from hms_desktop.store.patients import LocalPatients
from hms_desktop.store.pharmacy import LocalPharmacy
from hms_desktop.store.scheduling import LocalScheduling
from hms_desktop.store.ward import LocalWard
from hms_desktop.sync.api_client import ApiClient, SessionExpired
from hms_desktop.tasks import TaskManager

log = logging.getLogger(__name__)


class AppContext(QObject):
    """The signed-in user's session and the means to reach the server off the UI thread."""

    session_expired = Signal(str)

    def __init__(
        self,
        session: Session,
        api: ApiClient,
        tasks: TaskManager,
        prefs: Prefs,
        vault: CredentialVault,
        parent: QObject | None = None,
        *,
        patients: LocalPatients | None = None,
        scheduling: LocalScheduling | None = None,
        sync: SyncController | None = None,
        ward: LocalWard | None = None,
        billing: LocalBilling | None = None,
        billing_desk: LocalBillingDesk | None = None,
        chart: LocalChart | None = None,
        clinical: LocalClinical | None = None,
        lab: LocalLab | None = None,
        pharmacy: LocalPharmacy | None = None,
    ) -> None:
        super().__init__(parent)
        self.session = session
        self.api = api
        self.tasks = tasks
        self.prefs = prefs
        self.vault = vault
        self.patients = patients  # reads and writes against this user's local cache
        self.scheduling = scheduling  # doctors, slots, appointments on the same cache
        self.sync = sync
        self.ward = ward  # beds, admissions and charted vital signs on the same cache
        self.billing = billing  # patients' accounts: charges, invoices, payments, claims
        self.billing_desk = billing_desk  # the cash desk, billing reports, the price list
        self.chart = chart  # patients' charts (reads of the clinical record)
        self.clinical = clinical  # notes, problems, plan, prescriptions, orders (writes)
        self.lab = lab  # the lab's worklist, specimens and results
        self.pharmacy = pharmacy  # the queue of electronic prescriptions

    def write(
        self,
        owner: QObject,
        fn: Callable[[], Any],
        on_done: Callable[[Any], None] | None = None,
        on_error: Callable[[BaseException], None] | None = None,
    ) -> int:
        """Like `run`, for a function that queues mutations: sync is told to push them."""

        def done(result: Any) -> None:
            if self.sync is not None:
                self.sync.local_write()
            if on_done is not None:
                on_done(result)

        return self.run(owner, fn, done, on_error)

    def run(
        self,
        owner: QObject,
        fn: Callable[[], Any],
        on_done: Callable[[Any], None] | None = None,
        on_error: Callable[[BaseException], None] | None = None,
    ) -> int:
        """Run `fn` off the UI thread for `owner`; nothing is delivered once `owner` is gone.

        An expired session is reported once, centrally, through `session_expired`.
        """

        def error(exc: BaseException) -> None:
            if isinstance(exc, SessionExpired):
                self.session_expired.emit(exc.message)
            elif on_error is not None:
                on_error(exc)
            else:
                log.error("background task failed", exc_info=exc)

        return self.tasks.run(fn, on_done, error, owner=owner)
