"""Billing on the server: the hospital profile, FHIR claim export, online payments."""

from hms_core.schemas.billing import HospitalProfile
from hms_server.settings import Settings


def address_lines(text: str) -> list[str]:
    """The address lines of a setting: split at newlines (a written '\\n' counts too)."""
    lines = text.replace("\\n", "\n").splitlines()
    return [line.strip() for line in lines if line.strip()]


def hospital_profile(settings: Settings) -> HospitalProfile:
    """The issuer on printed bills and the hospital's money and time conventions."""
    return HospitalProfile(
        name=settings.hospital_name,
        address_lines=address_lines(settings.hospital_address),
        phone=settings.hospital_phone,
        tax_id=settings.hospital_tax_id,
        currency=settings.currency,
        exponent=settings.currency_exponent,
        timezone=settings.timezone,
    )
