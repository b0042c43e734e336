"""Previewing an invoice or a receipt, printing it or saving it, and recording each print (a
later print of the same document comes out marked COPY)."""

import uuid
from collections.abc import Callable

from PySide6.QtCore import QObject, Qt
from PySide6.QtWidgets import QWidget

from hms_desktop.printing.paths import safe_file_name
from hms_desktop.store.billing_print import Paper
from hms_desktop.widgets.context import AppContext
from hms_desktop.widgets.messages import describe_error
from hms_desktop.widgets.pdf_preview import PdfPreviewDialog


class DocumentPreviews(QObject):
    """Builds PDFs off the UI thread and shows them in a preview owned by `owner`."""

    def __init__(self, ctx: AppContext, owner: QWidget, on_error: Callable[[str], None]) -> None:
        super().__init__(owner)
        self._ctx, self._owner, self._on_error = ctx, owner, on_error
        self.dialog: PdfPreviewDialog | None = None  # the preview last opened
        self.last_name = ""
        self.last_is_copy = False

    def invoice(self, invoice_id: uuid.UUID) -> None:
        """Preview the final invoice or credit note."""
        billing = self._ctx.billing
        assert billing is not None
        self._ctx.run(
            self._owner,
            lambda: billing.invoice_pdf(invoice_id),
            lambda found: self._show("invoice", invoice_id, *found),
            self._failed,
        )

    def receipt(self, payment_id: uuid.UUID, paper: Paper = "a4") -> None:
        """Preview a payment's receipt on A4 or on the 80 mm thermal roll."""
        billing = self._ctx.billing
        assert billing is not None
        self._ctx.run(
            self._owner,
            lambda: billing.receipt_pdf(payment_id, paper),
            lambda found: self._show("receipt", payment_id, *found),
            self._failed,
        )

    def _show(self, kind: str, doc_id: uuid.UUID, pdf: bytes, name: str, is_copy: bool) -> None:
        title = f"{name} (copy)" if is_copy else name
        dialog = PdfPreviewDialog(pdf, title, self._owner, file_name=safe_file_name(name))
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.printed.connect(lambda: self._record(kind, doc_id, "print"))
        dialog.saved.connect(lambda _path: self._record(kind, doc_id, "pdf"))
        dialog.destroyed.connect(lambda _obj=None: self._forget(dialog))
        self.dialog, self.last_name, self.last_is_copy = dialog, name, is_copy
        dialog.open()

    def _forget(self, dialog: PdfPreviewDialog) -> None:
        if self.dialog is dialog:
            self.dialog = None

    def _record(self, kind: str, doc_id: uuid.UUID, action: str) -> None:
        billing = self._ctx.billing
        assert billing is not None
        self._ctx.write(
            self._owner,
            lambda: billing.record_print(kind, doc_id, action),
            None,
            self._failed,
        )

    def _failed(self, exc: BaseException) -> None:
        self._on_error(describe_error(exc))
