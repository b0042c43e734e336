"""The imaging report form: findings and impression, and the study's images (PNG, JPEG or
DICOM files sent to the server, shown here as thumbnails)."""

from pathlib import Path

from PySide6.QtCore import QSize, Signal
from PySide6.QtGui import QIcon, QPixmap
from PySide6.QtWidgets import (
    QFileDialog,
    QFrame,
    QHBoxLayout,
    QListView,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from hms_desktop.widgets.forms import styled_label

IMAGE_FILTER = "Images (*.png *.jpg *.jpeg *.dcm *.dicom);;All files (*)"
THUMB = QSize(160, 160)


class ImagingReportForm(QFrame):
    """The report of one imaging study; `save_requested(findings, impression)`,
    `attach_requested([paths])`."""

    save_requested = Signal(str, str)
    attach_requested = Signal(list)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("labImagingForm")
        self.setProperty("role", "card")
        self.file_dialog: QFileDialog | None = None
        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 14, 16, 14)
        layout.setSpacing(8)
        layout.addWidget(styled_label("Imaging report", "sectionTitle"))
        self.patient_label = styled_label("", "hint")
        self.patient_label.setWordWrap(True)
        layout.addWidget(self.patient_label)
        layout.addWidget(styled_label("Findings", "fieldCaption"))
        self.findings_edit = QPlainTextEdit()
        self.findings_edit.setObjectName("labFindings")
        self.findings_edit.setPlaceholderText("What the images show")
        self.findings_edit.setMinimumHeight(130)
        layout.addWidget(self.findings_edit, 2)
        layout.addWidget(styled_label("Impression", "fieldCaption"))
        self.impression_edit = QPlainTextEdit()
        self.impression_edit.setObjectName("labImpression")
        self.impression_edit.setPlaceholderText("The conclusion for the referring doctor")
        self.impression_edit.setMaximumHeight(80)
        layout.addWidget(self.impression_edit)
        images_row = QHBoxLayout()
        images_row.addWidget(styled_label("Images", "fieldCaption"), 1)
        self.attach_button = QPushButton("Attach images…")
        self.attach_button.clicked.connect(self.choose_files)
        images_row.addWidget(self.attach_button)
        layout.addLayout(images_row)
        self.images = QListWidget()
        self.images.setObjectName("labImages")
        self.images.setViewMode(QListView.ViewMode.IconMode)
        self.images.setIconSize(THUMB)
        self.images.setGridSize(QSize(THUMB.width() + 24, THUMB.height() + 40))
        self.images.setResizeMode(QListView.ResizeMode.Adjust)
        self.images.setMovement(QListView.Movement.Static)
        self.images.setMinimumHeight(THUMB.height() + 50)
        layout.addWidget(self.images, 1)
        self.status_label = styled_label("", "hint")
        self.status_label.setWordWrap(True)
        layout.addWidget(self.status_label)
        self.error_label = styled_label("", "errorBox")
        self.error_label.setWordWrap(True)
        self.error_label.hide()
        layout.addWidget(self.error_label)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        self.save_button = QPushButton("Save report")
        self.save_button.setProperty("role", "primary")
        self.save_button.clicked.connect(self.request_save)
        buttons.addWidget(self.save_button)
        layout.addLayout(buttons)

    def set_order(self, heading: str, findings: str, impression: str, editable: bool) -> None:
        self.patient_label.setText(heading)
        self.findings_edit.setPlainText(findings)
        self.impression_edit.setPlainText(impression)
        for edit in (self.findings_edit, self.impression_edit):
            edit.setReadOnly(not editable)
        self.save_button.setVisible(editable)
        self.attach_button.setEnabled(editable)
        self.images.clear()
        self.status_label.clear()
        self.error_label.hide()

    def add_thumbnail(self, key: str, name: str, png: bytes | None) -> None:
        """Show an image (or its name alone when no thumbnail could be made)."""
        for row in range(self.images.count()):
            if self.images.item(row).data(THUMB_KEY) == key:
                return
        item = QListWidgetItem(name)
        item.setData(THUMB_KEY, key)
        item.setToolTip(name)
        if png:
            pixmap = QPixmap()
            pixmap.loadFromData(png)
            item.setIcon(QIcon(pixmap))
        self.images.addItem(item)

    def thumbnail_count(self) -> int:
        return sum(
            1 for row in range(self.images.count()) if not self.images.item(row).icon().isNull()
        )

    def choose_files(self) -> None:
        """Ask for image files (PNG, JPEG or DICOM)."""
        dialog = QFileDialog(self, "Attach images", str(Path.home()), IMAGE_FILTER)
        dialog.setFileMode(QFileDialog.FileMode.ExistingFiles)
        dialog.filesSelected.connect(lambda files: self.attach_requested.emit(list(files)))
        dialog.finished.connect(dialog.deleteLater)
        self.file_dialog = dialog
        dialog.open()

    def request_save(self) -> None:
        findings = self.findings_edit.toPlainText().strip()
        if len(findings) < 3:
            self.show_error("Write the findings before saving the report.")
            return
        self.error_label.hide()
        self.save_requested.emit(findings, self.impression_edit.toPlainText().strip())

    def show_error(self, text: str) -> None:
        self.error_label.setText(text)
        self.error_label.show()


THUMB_KEY = 0x0100  # Qt.ItemDataRole.UserRole
