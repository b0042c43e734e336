"""The ICU central station workspace."""
