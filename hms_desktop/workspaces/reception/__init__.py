"""Reception: find, register, view and edit patients."""
