"""Preview a PDF built by `hms_core.printing`, print it through Qt's print dialog, or save it."""

from pathlib import Path

from PySide6.QtCore import (
    QBuffer,
    QByteArray,
    QIODevice,
    QMargins,
    QRectF,
    QSize,
    QSizeF,
    Qt,
    Signal,
)
from PySide6.QtGui import QImage, QPageSize, QPainter
from PySide6.QtPdf import QPdfDocument
from PySide6.QtPdfWidgets import QPdfView
from PySide6.QtPrintSupport import QPrintDialog, QPrinter
from PySide6.QtWidgets import (
    QApplication,
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from hms_desktop.printing.paths import documents_dir, safe_file_name
from hms_desktop.widgets.forms import styled_label

MAX_RASTER_DPI = 300  # pages are drawn as images; more only costs memory (A4 at 300 dpi: 35 MB)
POINTS_PER_INCH = 72.0


class PrintError(Exception):
    """A document that could not be sent to the printer, said in words."""


class PdfPreviewDialog(QDialog):
    """Shows PDF bytes page by page, with Print…, Save PDF… and Close.

    `printed` fires after the pages went to the printer, `saved(path)` after the file was
    written, so the caller can record the print. Open it with `exec()`, or set
    `WA_DeleteOnClose` when showing it without waiting.
    """

    printed = Signal()
    saved = Signal(str)

    def __init__(
        self, pdf: bytes, name: str, parent: QWidget | None = None, *, file_name: str = ""
    ) -> None:
        super().__init__(parent)
        self.pdf, self.name = pdf, name
        self.file_name = file_name or safe_file_name(name)
        self.setWindowTitle(name)
        self.view = QPdfView(self)  # made first, so it is deleted before the document it shows
        self.document = self._load(pdf)
        self._build()
        self.resize(760, 900)

    def _load(self, pdf: bytes) -> QPdfDocument:
        """Open the bytes through a buffer owned by the document, so it outlives the document's
        reads; the dialog owns the document."""
        document = QPdfDocument(self)
        self.buffer = QBuffer(document)
        self.buffer.setData(QByteArray(pdf))
        self.buffer.open(QIODevice.OpenModeFlag.ReadOnly)
        document.load(self.buffer)
        return document

    def _build(self) -> None:
        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 14, 16, 14)
        layout.setSpacing(10)
        self.view.setPageMode(QPdfView.PageMode.MultiPage)
        self.view.setZoomMode(QPdfView.ZoomMode.FitToWidth)
        self.view.setPageSpacing(12)
        self.view.setDocumentMargins(QMargins(12, 12, 12, 12))
        self.view.setDocument(self.document)
        self.pages_label = styled_label(self._pages_text(), "hint")
        self.error_label = styled_label("", "fieldError")
        self.error_label.setWordWrap(True)
        self.error_label.hide()
        self.print_button = QPushButton("Print…")
        self.print_button.setProperty("role", "primary")
        self.print_button.setDefault(True)
        self.save_button = QPushButton("Save PDF…")
        self.close_button = QPushButton("Close")
        self.print_button.clicked.connect(self._ask_and_print)
        self.save_button.clicked.connect(self._ask_and_save)
        self.close_button.clicked.connect(self.reject)
        ready = self.page_count > 0
        self.print_button.setEnabled(ready)
        self.save_button.setEnabled(ready)
        row = QHBoxLayout()
        row.addWidget(self.pages_label)
        row.addStretch(1)
        for button in (self.print_button, self.save_button, self.close_button):
            row.addWidget(button)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.error_label)
        layout.addLayout(row)

    @property
    def page_count(self) -> int:
        """Pages in the document (0 when it could not be read)."""
        return self.document.pageCount()

    def _pages_text(self) -> str:
        count = self.page_count
        if count == 0:
            return "This document could not be opened."
        return f"{self.name} · {count} page{'s' if count != 1 else ''}"

    def make_printer(self) -> QPrinter:
        """A printer preset to the document's paper size and name (A4, an 80 mm roll ...)."""
        printer = QPrinter(QPrinter.PrinterMode.HighResolution)
        printer.setDocName(self.name)
        if self.page_count:
            points = self.document.pagePointSize(0)
            size = QPageSize(points, QPageSize.Unit.Point, "", QPageSize.SizeMatchPolicy.FuzzyMatch)
            printer.setPageSize(size)
        return printer

    def print_to(self, printer: QPrinter) -> None:
        """Draw every page onto `printer`, shrunk to fit its paper when larger; `printed` fires.

        Raises PrintError when the printer cannot be started."""
        printer.setDocName(self.name)
        printer.setFullPage(True)  # the PDF carries its own margins
        painter = QPainter()
        if not painter.begin(printer):
            raise PrintError("The printer could not be started. Check it is on, then try again.")
        try:
            for page in range(self.page_count):
                if page:
                    printer.newPage()
                self._draw_page(painter, printer, page)
        finally:
            painter.end()
        self.printed.emit()

    def _draw_page(self, painter: QPainter, printer: QPrinter, page: int) -> None:
        """One page as an image at the printer's resolution (capped), placed on the paper."""
        paper = printer.paperRect(QPrinter.Unit.DevicePixel)
        target = _placement(self.document.pagePointSize(page), printer.resolution(), paper)
        dpi = min(printer.resolution(), MAX_RASTER_DPI)
        pixels = self.document.pagePointSize(page) * (dpi / POINTS_PER_INCH)
        size = QSize(round(pixels.width()), round(pixels.height()))
        painter.drawImage(target, _on_white(self.document.render(page, size)))

    def save_to(self, path: str | Path) -> None:
        """Write the PDF bytes to `path` (folders made as needed); `saved(path)` fires."""
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(self.pdf)
        self.saved.emit(str(target))

    def _ask_and_print(self) -> None:
        printer = self.make_printer()
        dialog = QPrintDialog(printer, self)
        dialog.setWindowTitle(f"Print {self.name}")
        if dialog.exec() != QDialog.DialogCode.Accepted:
            return
        QApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
        try:
            self.print_to(printer)
        except PrintError as error:
            self._show_error(str(error))
            return
        finally:
            QApplication.restoreOverrideCursor()
        self._show_error("")

    def _ask_and_save(self) -> None:
        folder = documents_dir()
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError:
            folder = Path.home()
        path, _ = QFileDialog.getSaveFileName(
            self, "Save PDF", str(folder / self.file_name), "PDF documents (*.pdf)"
        )
        if not path:
            return
        try:
            self.save_to(path)
        except OSError as error:
            reason = error.strerror or str(error)
            self._show_error(f"The PDF could not be saved there ({reason}).")
            return
        self._show_error("")

    def _show_error(self, message: str) -> None:
        """Say what went wrong above the buttons ('' hides the line)."""
        self.error_label.setText(message)
        self.error_label.setVisible(bool(message))


def _on_white(image: QImage) -> QImage:
    """The rendered page (transparent where nothing is drawn) on white paper, without alpha:
    a print job then carries one opaque image a page, not an image and its mask."""
    paper = QImage(image.size(), QImage.Format.Format_RGB32)
    paper.fill(Qt.GlobalColor.white)
    painter = QPainter(paper)
    painter.drawImage(0, 0, image)
    painter.end()
    return paper


def _placement(points: QSizeF, dpi: int, paper: QRectF) -> QRectF:
    """Where a page of `points` goes on `paper` (device pixels): its real size, centred across
    the top, or shrunk to fit when the paper is smaller (an A4 page on a thermal roll)."""
    width = points.width() * dpi / POINTS_PER_INCH
    height = points.height() * dpi / POINTS_PER_INCH
    scale = min(1.0, paper.width() / width, paper.height() / height) if width and height else 1.0
    width, height = width * scale, height * scale
    left = paper.left() + (paper.width() - width) / 2
    return QRectF(left, paper.top(), width, height)
