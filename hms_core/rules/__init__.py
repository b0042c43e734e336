"""Pure clinical and business rules: no I/O, no database."""
