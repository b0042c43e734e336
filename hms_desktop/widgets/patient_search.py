"""Global patient search: type-ahead by MRN, name fragments or phone, results in a popup list."""

from typing import Any

from PySide6.QtCore import (
    QAbstractListModel,
    QEvent,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QPoint,
    QSize,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import QColor, QFocusEvent, QFont, QFontMetrics, QKeyEvent, QPainter
from PySide6.QtWidgets import (
    QFrame,
    QLineEdit,
    QListView,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QVBoxLayout,
    QWidget,
)

from hms_core.rules.mrn import MRN_SERIAL_DIGITS, is_valid_mrn
from hms_core.schemas.patients import PatientSummary
from hms_desktop.widgets.context import AppContext
from hms_desktop.widgets.forms import styled_label
from hms_desktop.widgets.messages import birth_text, describe_error, patient_name

Index = QModelIndex | QPersistentModelIndex
PATIENT_ROLE = Qt.ItemDataRole.UserRole + 1
DEBOUNCE_MS = 250
MIN_QUERY_LENGTH = 2
MRN_LENGTH = MRN_SERIAL_DIGITS + 1
_POPUP_FLAGS = (
    Qt.WindowType.Tool | Qt.WindowType.FramelessWindowHint | Qt.WindowType.WindowDoesNotAcceptFocus
)
INVALID_MRN_HINT = "Invalid MRN check digit — check the number on the card or wristband."


def mrn_hint(query: str) -> str | None:
    """A warning when `query` looks like an MRN (8 digits) whose check digit is wrong."""
    compact = query.strip()
    if len(compact) == MRN_LENGTH and compact.isdigit() and not is_valid_mrn(compact):
        return INVALID_MRN_HINT
    return None


def patient_facts(p: PatientSummary) -> str:
    """MRN, birth date, sex and phone on one line."""
    parts = [f"MRN {p.mrn}", birth_text(p.birth_date, p.birth_date_estimated)]
    parts.append(p.sex.value.capitalize())
    if p.phone:
        parts.append(p.phone)
    return "  ·  ".join(parts)


class PatientItemDelegate(QStyledItemDelegate):
    """Two lines per patient: the name in bold, then MRN, birth date, sex and phone."""

    ROW_HEIGHT = 48

    def sizeHint(self, option: QStyleOptionViewItem, index: Index) -> QSize:  # noqa: N802
        return QSize(option.rect.width(), self.ROW_HEIGHT)

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: Index) -> None:
        patient = index.data(PATIENT_ROLE)
        if not isinstance(patient, PatientSummary):
            return
        painter.save()
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        painter.fillRect(option.rect, QColor("#d7e8fa" if selected else "#ffffff"))
        text_rect = option.rect.adjusted(12, 5, -12, -5)
        name_font = QFont(option.font)
        name_font.setBold(True)
        painter.setFont(name_font)
        painter.setPen(QColor("#1d2733"))
        top = text_rect.adjusted(0, 0, 0, -text_rect.height() // 2)
        painter.drawText(top, Qt.AlignmentFlag.AlignVCenter, patient_name(patient))
        painter.setFont(option.font)
        painter.setPen(QColor("#5b6b7d"))
        bottom = text_rect.adjusted(0, text_rect.height() // 2, 0, 0)
        facts = QFontMetrics(option.font).elidedText(
            patient_facts(patient), Qt.TextElideMode.ElideRight, bottom.width()
        )
        painter.drawText(bottom, Qt.AlignmentFlag.AlignVCenter, facts)
        painter.restore()


class PatientListModel(QAbstractListModel):
    """Search results for the popup list."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._patients: list[PatientSummary] = []

    def set_patients(self, patients: list[PatientSummary]) -> None:
        self.beginResetModel()
        self._patients = list(patients)
        self.endResetModel()

    def patient(self, row: int) -> PatientSummary:
        return self._patients[row]

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008, N802
        return 0 if parent.isValid() else len(self._patients)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        patient = self._patients[index.row()]
        if role == PATIENT_ROLE:
            return patient
        if role == Qt.ItemDataRole.DisplayRole:
            return patient_name(patient)
        if role == Qt.ItemDataRole.ToolTipRole:
            return f"{patient_name(patient)}\n{patient_facts(patient)}"
        return None


class _ResultsPopup(QFrame):
    """A frameless list under the search box that never takes the keyboard focus."""

    def __init__(self, owner: QWidget) -> None:
        super().__init__(owner, _POPUP_FLAGS)
        self.setObjectName("searchPopup")
        self.setAttribute(Qt.WidgetAttribute.WA_ShowWithoutActivating)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(1, 1, 1, 1)
        layout.setSpacing(0)
        self.message = styled_label("", "popupMessage")
        self.message.setWordWrap(True)
        self.hint = styled_label("", "popupHint")
        self.hint.setWordWrap(True)
        self.list = QListView()
        self.list.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.list.setUniformItemSizes(True)
        self.list.setEditTriggers(QListView.EditTrigger.NoEditTriggers)
        self.list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.list.setItemDelegate(PatientItemDelegate(self.list))
        for widget in (self.hint, self.message, self.list):
            layout.addWidget(widget)


class PatientSearchBox(QLineEdit):
    """Type-ahead patient search; emits `patient_chosen(PatientSummary)`."""

    patient_chosen = Signal(object)
    results_shown = Signal(int)

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._ctx = ctx
        self._generation = 0
        self.setObjectName("globalSearch")
        self.setPlaceholderText("Search patients by MRN, name or phone…  (Ctrl+K)")
        self.setClearButtonEnabled(True)
        self.model = PatientListModel(self)
        self.popup = _ResultsPopup(self)
        self.popup.list.setModel(self.model)
        self.popup.list.clicked.connect(lambda index: self._choose(index.row()))
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(DEBOUNCE_MS)
        self._timer.timeout.connect(self.search_now)
        self.textEdited.connect(self._on_edited)

    @property
    def hint_text(self) -> str:
        return self.popup.hint.text()

    def search_now(self) -> None:
        """Search for the current text at once (the debounce timer calls this)."""
        self._timer.stop()
        query = self.text().strip()
        self._generation += 1
        if len(query) < MIN_QUERY_LENGTH:
            self.popup.hide()
            return
        generation = self._generation
        self._show_message("Searching…")
        self._ctx.run(
            self,
            lambda: self._ctx.patients.search_patients(query, limit=15),
            lambda found: self._show_results(generation, found),
            lambda exc: self._show_failure(generation, exc),
        )

    def _on_edited(self, text: str) -> None:
        hint = mrn_hint(text)
        self.popup.hint.setText(hint or "")
        self.popup.hint.setVisible(bool(hint))
        self._timer.start()

    def _show_results(self, generation: int, found: list[PatientSummary]) -> None:
        if generation != self._generation:
            return  # an older query answered late
        self.model.set_patients(found)
        self._show_message("" if found else f"No patient matches “{self.text().strip()}”.")
        if found:
            self.popup.list.setCurrentIndex(self.model.index(0))
        self.results_shown.emit(len(found))

    def _show_failure(self, generation: int, exc: BaseException) -> None:
        if generation == self._generation:
            self.model.set_patients([])
            self._show_message(describe_error(exc))

    def _show_message(self, text: str) -> None:
        self.popup.message.setText(text)
        self.popup.message.setVisible(bool(text))
        self.popup.list.setVisible(self.model.rowCount() > 0)
        self._place_popup()

    def _place_popup(self) -> None:
        rows = min(self.model.rowCount(), 8)
        row_height = PatientItemDelegate.ROW_HEIGHT
        self.popup.list.setFixedHeight(rows * row_height + 4 if rows else 0)
        self.popup.setFixedWidth(max(self.width(), 560))
        self.popup.adjustSize()
        self.popup.move(self.mapToGlobal(QPoint(0, self.height() + 2)))
        self.popup.show()

    def _choose(self, row: int) -> None:
        if 0 <= row < self.model.rowCount():
            patient = self.model.patient(row)
            self.popup.hide()
            self.clear()
            self.patient_chosen.emit(patient)

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802
        """Up/Down move in the results, Enter opens, Escape closes."""
        key = event.key()
        rows = self.model.rowCount()
        if self.popup.isVisible() and rows and key in (Qt.Key.Key_Down, Qt.Key.Key_Up):
            step = 1 if key == Qt.Key.Key_Down else -1
            row = (self.popup.list.currentIndex().row() + step) % rows
            self.popup.list.setCurrentIndex(self.model.index(row))
            return
        if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            if self.popup.isVisible() and rows:
                self._choose(self.popup.list.currentIndex().row())
            else:
                self.search_now()
            return
        if key == Qt.Key.Key_Escape and self.popup.isVisible():
            self.popup.hide()
            return
        super().keyPressEvent(event)

    def focusOutEvent(self, event: QFocusEvent) -> None:  # noqa: N802
        """Close the popup when the user moves elsewhere."""
        if not self.popup.underMouse():
            self.popup.hide()
        super().focusOutEvent(event)

    def event(self, event: QEvent) -> bool:
        """Close the popup when the box hides; keep it under the box when the box moves (the
        toolbar lays itself out again when the hospital's name or the bell's count arrives)."""
        if event.type() == QEvent.Type.Hide:
            self.popup.hide()
        elif event.type() == QEvent.Type.Move and self.popup.isVisible():
            self.popup.move(self.mapToGlobal(QPoint(0, self.height() + 2)))
        return super().event(event)
