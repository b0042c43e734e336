"""The billing desk: patients' accounts, the cash desk with its day close, billing reports."""
