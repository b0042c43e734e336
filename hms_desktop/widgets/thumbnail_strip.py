"""A row of an order's images (thumbnails with their file names) fetched from the server off
the UI thread; a double-click opens the picture itself, or for a DICOM file its enlarged
thumbnail and the means to save the file for a DICOM viewer."""

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import shiboken6
from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QIcon, QPainter, QPixmap
from PySide6.QtWidgets import (
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QListView,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from hms_desktop.sync.api_client import ApiClient, ApiError, ServerUnreachable, SessionExpired
from hms_desktop.widgets.context import AppContext
from hms_desktop.widgets.forms import styled_label
from hms_desktop.widgets.messages import describe_error

DICOM = "application/dicom"
OFFLINE_WORDS = "Images need the connection to the server."
DICOM_WORDS = "DICOM study — open in a DICOM viewer for full resolution."
THUMB = QSize(160, 160)
KEY_ROLE = 0x0100  # Qt.ItemDataRole.UserRole: the attachment's id
VIEW_MAX = QSize(1100, 760)  # the viewer's largest picture


@dataclass(frozen=True)
class StripImage:
    """An attached file as the strip shows it."""

    id: uuid.UUID
    file_name: str
    content_type: str


def fetch_thumbnail(api: ApiClient, attachment_id: uuid.UUID | str) -> bytes | None:
    """The server's thumbnail of an attachment, or None when it cannot draw one (a PDF)."""
    try:
        return api.attachment_thumbnail(attachment_id)
    except SessionExpired:
        raise
    except ApiError:
        return None


def fetch_content(api: ApiClient, attachment_id: uuid.UUID | str) -> bytes:
    """The attached file itself."""
    return api.attachment_content(attachment_id)


def unreachable_words(exc: BaseException) -> str:
    """Plain words for a failed fetch: offline gets its own sentence."""
    return OFFLINE_WORDS if isinstance(exc, ServerUnreachable) else describe_error(exc)


class ThumbnailStrip(QWidget):
    """Thumbnails in a row, each with its file name; `opened(viewer)` when one is opened."""

    opened = Signal(QDialog)

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.viewer: ImageViewer | None = None
        self._images: dict[str, StripImage] = {}
        self._thumbs: dict[str, bytes] = {}
        self.list = QListWidget(self)
        self.list.setObjectName("thumbnailStrip")
        self.list.setViewMode(QListView.ViewMode.IconMode)
        self.list.setFlow(QListView.Flow.LeftToRight)
        self.list.setWrapping(False)
        self.list.setMovement(QListView.Movement.Static)
        self.list.setIconSize(THUMB)
        self.list.setGridSize(QSize(THUMB.width() + 40, THUMB.height() + 36))
        self.list.setFixedHeight(THUMB.height() + 56)
        self.list.setToolTip("Double-click an image to open it.")
        self.list.itemDoubleClicked.connect(lambda item: self.open_image(item.data(KEY_ROLE)))
        self.message = styled_label("", "hint")
        self.message.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        layout.addWidget(self.list)
        layout.addWidget(self.message)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Maximum)

    def show_images(self, images: Sequence[StripImage]) -> None:
        """Show these files by name at once, their thumbnails as they arrive."""
        self.list.clear()
        self._images = {str(i.id): i for i in images}
        self._thumbs = {}
        self.message.setText("Double-click an image to open it." if images else "")
        self.setVisible(bool(images))
        for image in images:
            self.add_thumbnail(str(image.id), image.file_name, None)
            self._fetch(image)

    def add_thumbnail(self, key: str, name: str, png: bytes | None) -> None:
        """Add an image, or give its row the thumbnail when it is already listed."""
        item = self._item(key)
        if item is None:
            item = QListWidgetItem(name)
            item.setData(KEY_ROLE, key)
            item.setToolTip(name)
            item.setTextAlignment(Qt.AlignmentFlag.AlignHCenter)
            self.list.addItem(item)
        if png:
            pixmap = QPixmap()
            if pixmap.loadFromData(png):
                self._thumbs[key] = png
                item.setIcon(QIcon(_framed(pixmap)))

    def names(self) -> list[str]:
        return [self.list.item(row).text() for row in range(self.list.count())]

    def pixmaps(self) -> list[QPixmap]:
        """The thumbnails shown (a null pixmap where none arrived)."""
        return [self.list.item(row).icon().pixmap(THUMB) for row in range(self.list.count())]

    def open_image(self, key: str) -> None:
        """Fetch the file and show it in the viewer."""
        image = self._images.get(key)
        if image is None:
            return
        api = self.ctx.api
        self.message.setText(f"Opening {image.file_name}…")
        self.ctx.run(
            self,
            lambda: fetch_content(api, image.id),
            lambda data: self._open(image, data),
            self._failed,
        )

    def _fetch(self, image: StripImage) -> None:
        api, key = self.ctx.api, str(image.id)

        def arrived(png: bytes | None) -> None:
            if self._images.get(key) is image:
                self.add_thumbnail(key, image.file_name, png)

        self.ctx.run(self, lambda: fetch_thumbnail(api, image.id), arrived, self._failed)

    def _open(self, image: StripImage, data: bytes) -> None:
        self.message.setText("Double-click an image to open it.")
        viewer = ImageViewer(image, data, self._thumbs.get(str(image.id)), self.window())
        viewer.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.viewer = viewer
        viewer.open()
        self.opened.emit(viewer)

    def _failed(self, exc: BaseException) -> None:
        if shiboken6.isValid(self):
            self.message.setText(unreachable_words(exc))

    def _item(self, key: str) -> QListWidgetItem | None:
        for row in range(self.list.count()):
            if self.list.item(row).data(KEY_ROLE) == key:
                return self.list.item(row)
        return None


def _framed(pixmap: QPixmap) -> QPixmap:
    """The thumbnail centred on a square of the strip's size, so the names line up."""
    fitted = pixmap.scaled(
        THUMB, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.SmoothTransformation
    )
    framed = QPixmap(THUMB)
    framed.fill(Qt.GlobalColor.transparent)
    painter = QPainter(framed)
    x = (THUMB.width() - fitted.width()) // 2
    y = (THUMB.height() - fitted.height()) // 2
    painter.drawPixmap(x, y, fitted)
    painter.end()
    return framed


class ImageViewer(QDialog):
    """One image at a readable size (a DICOM file: its thumbnail enlarged), with Save file…."""

    def __init__(
        self, image: StripImage, data: bytes, thumbnail: bytes | None, parent: QWidget | None
    ) -> None:
        super().__init__(parent)
        self.image, self.data = image, data
        self.file_dialog: QFileDialog | None = None
        self.setWindowTitle(image.file_name)
        self.dicom = image.content_type == DICOM
        self.picture = QLabel()
        self.picture.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.picture.setPixmap(self._pixmap(thumbnail))
        scroll = QScrollArea()
        scroll.setWidget(self.picture)
        scroll.setWidgetResizable(True)
        scroll.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.note = styled_label(DICOM_WORDS if self.dicom else image.file_name, "hint")
        self.note.setWordWrap(True)
        self.save_button = QPushButton("Save file…")
        self.save_button.clicked.connect(self.choose_place)
        close = QPushButton("Close")
        close.setProperty("role", "primary")
        close.clicked.connect(self.accept)
        buttons = QHBoxLayout()
        buttons.addWidget(self.note, 1)
        buttons.addWidget(self.save_button)
        buttons.addWidget(close)
        layout = QVBoxLayout(self)
        layout.addWidget(scroll, 1)
        layout.addLayout(buttons)
        shown = self.picture.pixmap().size()
        self.resize(max(shown.width() + 48, 520), shown.height() + 110)

    def _pixmap(self, thumbnail: bytes | None) -> QPixmap:
        """The picture fitted to the screen; for DICOM the thumbnail at three times its size."""
        pixmap = QPixmap()
        if self.dicom:
            if thumbnail and pixmap.loadFromData(thumbnail):
                pixmap = pixmap.scaled(
                    pixmap.size() * 3,
                    Qt.AspectRatioMode.KeepAspectRatio,
                    Qt.TransformationMode.SmoothTransformation,
                )
        else:
            pixmap.loadFromData(self.data)
        if pixmap.width() > VIEW_MAX.width() or pixmap.height() > VIEW_MAX.height():
            pixmap = pixmap.scaled(
                VIEW_MAX,
                Qt.AspectRatioMode.KeepAspectRatio,
                Qt.TransformationMode.SmoothTransformation,
            )
        return pixmap

    def choose_place(self) -> None:
        """Ask where to save the file."""
        start = str(Path.home() / self.image.file_name)
        dialog = QFileDialog(self, "Save file", start)
        dialog.setAcceptMode(QFileDialog.AcceptMode.AcceptSave)
        dialog.fileSelected.connect(self.save_to)
        dialog.finished.connect(dialog.deleteLater)
        self.file_dialog = dialog
        dialog.open()

    def save_to(self, path: str) -> None:
        """Write the file there and say so."""
        try:
            Path(path).write_bytes(self.data)
        except OSError as exc:
            self.note.setText(f"The file could not be saved: {exc.strerror or exc}.")
            return
        self.note.setText(f"Saved to {path}.")
