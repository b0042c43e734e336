"""How the chart's widgets reach the clinical store of the signed-in user's cache."""

from typing import Any

from hms_desktop.store.clinical import LocalClinical


class ClinicalStore:
    """`clinical = ClinicalStore()` on a widget with `ctx`: its `ctx.clinical`, which every
    signed-in context has."""

    def __get__(self, widget: Any, owner: type | None = None) -> LocalClinical:
        clinical = widget.ctx.clinical
        assert clinical is not None
        return clinical
