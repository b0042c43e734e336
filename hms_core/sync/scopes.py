"""Which replicated rows each role's clients receive.

A *scope* is a family of tables a role receives as a whole. A table may also say which of its
rows are in scope (`ROW_FILTERS`): a row that stops passing the filter (an open conflict that
gets resolved) is sent to clients as an `evict`, and they delete it.
"""

from typing import Any

from hms_core.rbac import Perm, role_allows

TABLE_SCOPES: dict[str, str] = {
    "department": "hospital",
    "ward": "hospital",
    "bed": "hospital",
    "monitor_device": "hospital",
    "doctor_profile": "hospital",
    "availability_rule": "hospital",
    "availability_exception": "hospital",
    "patient": "demographics",
    "patient_allergy": "demographics",
    "patient_conflict": "conflicts",
    "follow_up": "scheduling",
    "appointment": "scheduling",
    "outbound_message": "scheduling",
    "admission": "ward",
    "vitals_entry": "ward",
    "price_item": "billing",
    "price": "billing",
    "insurance_payer": "billing",
    "insurance_policy": "billing",
    "invoice": "billing",
    "charge": "billing",
    "invoice_line": "billing",
    "insurance_claim": "billing",
    "payment": "billing",
    "cash_close": "billing",
    "document_print": "billing",
    "encounter": "clinical",
    "clinical_note": "clinical",
    "problem": "clinical",
    "procedure_record": "clinical",
    "immunization": "clinical",
    "clinical_document": "clinical",
    "care_plan": "clinical",
    "medication_order": "prescriptions",
    "clinical_order": "orders",
    "observation": "orders",
    "attachment": "orders",
}

# table -> (column, value): only rows whose column holds the value are in scope.
ROW_FILTERS: dict[str, tuple[str, Any]] = {
    "patient_conflict": ("status", "open"),
}


# scope -> the permission a role needs to receive it
SCOPE_PERMISSIONS: dict[str, Perm] = {
    "hospital": Perm.HOSPITAL_READ,
    "demographics": Perm.PATIENT_READ,
    "conflicts": Perm.PATIENT_MERGE,
    "scheduling": Perm.APPOINTMENT_READ,
    "ward": Perm.VITALS_READ,
    "billing": Perm.BILLING_READ,
    "clinical": Perm.CHART_READ,
    "prescriptions": Perm.PRESCRIPTION_READ,
    "orders": Perm.ORDER_READ,
}


def scopes_for(role: str) -> frozenset[str]:
    """The scopes a role's clients receive (none for an unknown role or the portal)."""
    return frozenset(s for s, perm in SCOPE_PERMISSIONS.items() if role_allows(role, perm))


def replicated_tables(role: str) -> list[str]:
    """The tables a role's clients hold, in dependency order."""
    allowed = scopes_for(role)
    return [table for table, scope in TABLE_SCOPES.items() if scope in allowed]


def row_in_scope(table: str, row: Any) -> bool:
    """Whether a row of a replicated table is sent to clients at all (see ROW_FILTERS)."""
    rule = ROW_FILTERS.get(table)
    return rule is None or getattr(row, rule[0]) == rule[1]
