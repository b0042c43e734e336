"""Which replicated tables each role's clients receive."""

from hms_core.rbac import Role

# table -> scope; a scope is a family of tables a role receives as a whole.
TABLE_SCOPES: dict[str, str] = {
    "department": "hospital",
    "ward": "hospital",
    "bed": "hospital",
    "patient": "demographics",
    "patient_allergy": "demographics",
}

_STAFF = frozenset({"hospital", "demographics"})

ROLE_SCOPES: dict[Role, frozenset[str]] = {
    Role.ADMIN: _STAFF,
    Role.RECEPTION: _STAFF,
    Role.DOCTOR: _STAFF,
    Role.NURSE: _STAFF,
    Role.LAB: _STAFF,
    Role.PHARMACY: _STAFF,
    Role.BILLING: _STAFF,
    Role.PATIENT: frozenset(),
}


def scopes_for(role: str) -> frozenset[str]:
    try:
        return ROLE_SCOPES[Role(role)]
    except ValueError:
        return frozenset()


def replicated_tables(role: str) -> list[str]:
    allowed = scopes_for(role)
    return [table for table, scope in TABLE_SCOPES.items() if scope in allowed]
