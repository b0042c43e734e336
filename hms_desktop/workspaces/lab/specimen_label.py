"""The specimen label of a collected order, shown in the print preview."""

from datetime import datetime

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QWidget

from hms_core.printing.label_pdf import render_label
from hms_desktop.store.lab import WorkItem
from hms_desktop.widgets.pdf_preview import PdfPreviewDialog


def label_preview(item: WorkItem, collected_at: datetime, parent: QWidget) -> PdfPreviewDialog:
    """A preview of the order's label (deleted when closed); print it from there."""
    pdf = render_label(
        item.number,
        item.patient_name,
        item.mrn,
        item.birth_date,
        item.test_name,
        item.specimen,
        collected_at,
    )
    dialog = PdfPreviewDialog(pdf, f"Specimen label {item.number}", parent)
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    dialog.resize(520, 360)
    return dialog
