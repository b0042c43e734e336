"""The PDF preview: a real invoice shown page by page, printed through a PDF printer, saved as
the same bytes, with the signals the caller records the print by; and the default file names."""

from io import BytesIO
from pathlib import Path

import pytest
import shiboken6
from PIL import Image, ImageChops, ImageFilter, ImageStat
from pypdf import PdfReader
from PySide6.QtCore import QEvent, QSize, Qt
from PySide6.QtGui import QImage
from PySide6.QtPdf import QPdfDocument
from PySide6.QtPrintSupport import QPrinter
from PySide6.QtWidgets import QApplication, QWidget
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm

from hms_core.printing.invoice_pdf import render_invoice
from hms_core.printing.receipt_pdf import render_receipt
from hms_desktop.printing.paths import default_pdf_name, documents_dir
from hms_desktop.widgets.pdf_preview import PdfPreviewDialog, PrintError
from tests.core.test_invoice_pdf import make_invoice, make_receipt
from tests.desktop.conftest import OFFSCREEN_NOISE
from tests.desktop.helpers import shots_dir

NUMBER = "INV-2026-000123"
DARK = 80  # grey level below which a pixel counts as printed text
LOOK_SIZE = (150, 212)  # an A4 page drawn small: printed and original pages compared at this size
MAX_MEAN_DIFF = 5.0  # grey levels (0-255); a printed page and its original differ by about 3


@pytest.fixture(autouse=True)
def app_style(styled_app: QApplication) -> None:
    """The dialogs look as in the app (the screenshots show them)."""


def open_preview(qtbot, pdf: bytes, name: str) -> PdfPreviewDialog:  # noqa: ANN001
    dialog = PdfPreviewDialog(pdf, name, file_name=default_pdf_name("invoice", NUMBER, "1000008"))
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    return dialog


def has_text(widget: QWidget) -> bool:
    """Whether `widget` shows anything dark (QPdfView draws its pages in the background)."""
    image = widget.grab().toImage().convertToFormat(QImage.Format.Format_Grayscale8)
    return any(
        min(image.constScanLine(y).tobytes()[: image.width()]) < DARK
        for y in range(0, image.height(), 2)
    )


def grab_when_drawn(qtbot, dialog: PdfPreviewDialog, path: Path) -> None:  # noqa: ANN001
    """Save the dialog to `path` once the first page is drawn in the view."""
    qtbot.waitUntil(lambda: has_text(dialog.view.viewport()), timeout=10_000)
    assert dialog.grab().save(str(path))


def pdf_printer(dialog: PdfPreviewDialog, path: Path) -> QPrinter:
    """The dialog's preset printer, writing a PDF file instead of going to paper."""
    printer = dialog.make_printer()
    printer.setOutputFormat(QPrinter.OutputFormat.PdfFormat)
    printer.setOutputFileName(str(path))
    return printer


def page_grey(pdf: Path, index: int) -> Image.Image:
    """Page `index` of the file `pdf` drawn by QtPdf on white, small and softened, in grey."""
    document = QPdfDocument()
    assert document.load(str(pdf)) == QPdfDocument.Error.None_
    image = document.render(index, QSize(*LOOK_SIZE))
    document.close()
    png = pdf.with_name(f"{pdf.stem}-{index}.png")
    assert image.save(str(png))
    drawn = Image.open(png).convert("RGBA")
    on_white = Image.alpha_composite(Image.new("RGBA", drawn.size, "white"), drawn)
    return on_white.convert("L").filter(ImageFilter.GaussianBlur(1))


def looks_alike(a: Image.Image, b: Image.Image) -> bool:
    """Mean grey-level difference under MAX_MEAN_DIFF (two different invoice pages: about 12)."""
    return ImageStat.Stat(ImageChops.difference(a, b)).mean[0] < MAX_MEAN_DIFF


def test_invoice_preview_prints_every_page(qtbot, tmp_path: Path) -> None:  # noqa: ANN001
    pdf = render_invoice(make_invoice(200))
    pages = len(PdfReader(BytesIO(pdf)).pages)
    dialog = open_preview(qtbot, pdf, f"Invoice {NUMBER}")
    assert dialog.windowTitle() == f"Invoice {NUMBER}"
    assert f"{pages} pages" in dialog.pages_label.text() and pages >= 3
    grab_when_drawn(qtbot, dialog, shots_dir(tmp_path) / "pdf_preview_invoice.png")

    out = tmp_path / "printed.pdf"
    with qtbot.waitSignal(dialog.printed, timeout=60_000):
        dialog.print_to(pdf_printer(dialog, out))
    printed = PdfReader(out)
    assert len(printed.pages) == pages
    assert NUMBER in (printed.metadata.title or "")  # the print job's name
    width, height = (float(printed.pages[0].mediabox[i]) for i in (2, 3))
    assert (width, height) == pytest.approx(A4, abs=1)
    # pages are printed as images: the printed first page looks like the document's
    original = tmp_path / "original.pdf"
    original.write_bytes(pdf)
    first, last = page_grey(original, 0), page_grey(original, pages - 1)
    assert looks_alike(page_grey(out, 0), first) and looks_alike(page_grey(out, pages - 1), last)
    assert not looks_alike(page_grey(out, 0), last)


def test_save_writes_the_same_bytes(qtbot, tmp_path: Path) -> None:  # noqa: ANN001
    pdf = render_invoice(make_invoice(3))
    dialog = open_preview(qtbot, pdf, f"Invoice {NUMBER}")
    assert dialog.file_name == "Invoice INV-2026-000123 MRN 1000008.pdf"
    target = tmp_path / "new folder" / dialog.file_name
    with qtbot.waitSignal(dialog.saved) as blocker:
        dialog.save_to(target)
    assert blocker.args == [str(target)]
    assert target.read_bytes() == pdf
    assert "1 page" in dialog.pages_label.text() and "pages" not in dialog.pages_label.text()


def test_thermal_receipt_prints_at_its_own_width(qtbot, tmp_path: Path) -> None:  # noqa: ANN001
    pdf = render_receipt(make_receipt(), width="80mm")
    dialog = open_preview(qtbot, pdf, "Receipt RC-2026-000045")
    dialog.resize(420, 640)
    grab_when_drawn(qtbot, dialog, shots_dir(tmp_path) / "pdf_preview_receipt.png")
    out = tmp_path / "receipt.pdf"
    with qtbot.waitSignal(dialog.printed):
        dialog.print_to(pdf_printer(dialog, out))
    [page] = PdfReader(out).pages
    assert float(page.mediabox.width) == pytest.approx(80 * mm, abs=1)


@pytest.mark.qt_log_ignore(OFFSCREEN_NOISE, r"QPainter::begin\(\): Returned false")
def test_a_printer_that_cannot_start_is_reported(qtbot, tmp_path: Path) -> None:  # noqa: ANN001
    dialog = open_preview(qtbot, render_invoice(make_invoice(1)), f"Invoice {NUMBER}")
    printer = pdf_printer(dialog, tmp_path / "missing folder" / "x.pdf")
    with qtbot.assertNotEmitted(dialog.printed), pytest.raises(PrintError, match="could not"):
        dialog.print_to(printer)


def test_closing_the_preview_frees_the_document(qtbot) -> None:  # noqa: ANN001
    dialog = open_preview(qtbot, render_invoice(make_invoice(3)), f"Invoice {NUMBER}")
    qtbot.waitUntil(lambda: has_text(dialog.view.viewport()), timeout=10_000)
    parts = (dialog.document, dialog.buffer, dialog.view)
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    dialog.close()
    QApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    assert not any(shiboken6.isValid(part) for part in parts)


def test_unreadable_bytes_offer_nothing_to_print(qtbot) -> None:  # noqa: ANN001
    dialog = open_preview(qtbot, b"not a pdf", "Invoice (number pending)")
    assert dialog.page_count == 0
    assert "could not be opened" in dialog.pages_label.text()
    assert not dialog.print_button.isEnabled() and not dialog.save_button.isEnabled()


@pytest.mark.parametrize(
    ("kind", "number", "mrn", "expected"),
    [
        ("invoice", "INV-2026-000012", "1000008", "Invoice INV-2026-000012 MRN 1000008.pdf"),
        (
            "receipt",
            "RC-20261206-0A1B2C3D",
            "1000008",
            "Receipt RC-20261206-0A1B2C3D MRN 1000008.pdf",
        ),
        ("invoice", None, "1000008", "Invoice (number pending) MRN 1000008.pdf"),
        ("credit_note", "CN-2026-000001", "42", "Credit note CN-2026-000001 MRN 42.pdf"),
        ("invoice", 'INV/2026:"7"?*', " 55 ", "Invoice INV-2026-7- MRN 55.pdf"),
    ],
)
def test_default_pdf_names_are_safe(kind: str, number: str | None, mrn: str, expected: str) -> None:
    assert default_pdf_name(kind, number, mrn) == expected


def test_documents_dir_is_under_the_users_documents() -> None:
    folder = documents_dir()
    assert folder.name == "hms" and folder.is_absolute()
