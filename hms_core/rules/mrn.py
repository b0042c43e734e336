"""Medical record numbers: a serial number followed by a Luhn (mod 10) check digit."""

MRN_SERIAL_DIGITS = 7


def luhn_check_digit(serial: str) -> int:
    """The digit that makes `serial` + digit pass the Luhn test."""
    if not serial.isdigit():
        raise ValueError("a Luhn serial must be digits only")
    total = 0
    for position, char in enumerate(reversed(serial)):
        value = int(char)
        if position % 2 == 0:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return (10 - total % 10) % 10


def make_mrn(serial: int) -> str:
    """Format a serial number as an MRN with its check digit, e.g. 1000001 -> '10000016'."""
    if serial < 0:
        raise ValueError("MRN serials are positive")
    digits = str(serial).zfill(MRN_SERIAL_DIGITS)
    return f"{digits}{luhn_check_digit(digits)}"


def is_valid_mrn(text: str) -> bool:
    """True when `text` is all digits and its last digit is the right Luhn check digit."""
    text = text.strip()
    if len(text) < 2 or not text.isdigit():
        return False
    return luhn_check_digit(text[:-1]) == int(text[-1])
