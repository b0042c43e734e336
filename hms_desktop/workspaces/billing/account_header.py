"""The account's header: who the patient is, what they owe (red) or have in credit (green),
the totals behind it, and their insurance policies."""

from PySide6.QtWidgets import QFrame, QHBoxLayout, QPushButton, QVBoxLayout, QWidget

from hms_core.schemas.billing import AccountView, PolicyView
from hms_desktop.widgets.forms import styled_label
from hms_desktop.workspaces.billing.models import CREDIT_INK, OWING_INK, Money

SETTLED_INK = "#1d2733"
NO_PATIENT = "Find a patient above to open their account."


def balance_words(balance: int, money: Money) -> tuple[str, str]:
    """The balance line and its colour: owing in red, in credit in green, settled in ink."""
    if balance > 0:
        return f"Owes {money.with_code(balance)}", OWING_INK
    if balance < 0:
        return f"In credit {money.with_code(-balance)}", CREDIT_INK
    return f"Settled · {money.with_code(0)}", SETTLED_INK


def policy_text(policy: PolicyView) -> str:
    until = f" until {policy.valid_to}" if policy.valid_to else ""
    copay = f"{policy.copay_percent.normalize():f}% co-pay"
    state = "" if policy.active else " (ended)"
    dates = f"from {policy.valid_from}{until}{state}"
    return f"{policy.payer_name} · {policy.policy_number} · {copay} · {dates}"


class AccountHeader(QFrame):
    """Name, MRN, balance and policies of the open account."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setProperty("role", "card")
        self.setObjectName("accountHeader")
        row = QHBoxLayout(self)
        row.setContentsMargins(20, 12, 20, 12)
        row.setSpacing(18)
        who = QVBoxLayout()
        who.setSpacing(4)
        names = QHBoxLayout()
        names.setSpacing(12)
        self.name_label = styled_label(NO_PATIENT, "hint")
        self.mrn_label = styled_label("", "mrn")
        self.mrn_label.hide()
        names.addWidget(self.name_label)
        names.addWidget(self.mrn_label)
        names.addStretch(1)
        who.addLayout(names)
        self.policies_label = styled_label("", "hint")
        self.policies_label.setWordWrap(True)
        who.addWidget(self.policies_label)
        row.addLayout(who, 1)
        self.add_policy_button = QPushButton("Add policy…")
        self.add_policy_button.hide()
        row.addWidget(self.add_policy_button)
        money_box = QVBoxLayout()
        money_box.setSpacing(2)
        self.balance_label = styled_label("", "balance")
        self.totals_label = styled_label("", "hint")
        money_box.addWidget(self.balance_label)
        money_box.addWidget(self.totals_label)
        row.addLayout(money_box)

    def show_account(self, view: AccountView, money: Money, may_add_policy: bool) -> None:
        self.name_label.setText(view.patient_name)
        self.name_label.setProperty("role", "patientName")
        self.name_label.style().unpolish(self.name_label)
        self.name_label.style().polish(self.name_label)
        self.mrn_label.setText(view.mrn)
        self.mrn_label.show()
        text, ink = balance_words(view.balance, money)
        self.balance_label.setText(text)
        self.balance_label.setStyleSheet(f"color: {ink}; font-size: 16pt; font-weight: bold;")
        self.totals_label.setText(
            f"Unbilled {money(view.unbilled)} · Invoiced {money(view.invoiced)}"
            f" · Paid {money(view.paid)}"
        )
        policies = [policy_text(p) for p in view.policies]
        self.policies_label.setText(
            "Insurance: " + "; ".join(policies) if policies else "No insurance policy on file."
        )
        self.add_policy_button.setVisible(may_add_policy)

    def clear(self, text: str = NO_PATIENT) -> None:
        self.name_label.setText(text)
        self.name_label.setProperty("role", "hint")
        self.name_label.style().unpolish(self.name_label)
        self.name_label.style().polish(self.name_label)
        self.mrn_label.hide()
        self.balance_label.clear()
        self.totals_label.clear()
        self.policies_label.clear()
        self.add_policy_button.hide()

    @property
    def balance_colour(self) -> str:
        """The colour the balance is written in (for tests and screenshots)."""
        sheet = self.balance_label.styleSheet()
        return sheet.split("color: ", 1)[1].split(";", 1)[0] if "color: " in sheet else ""
