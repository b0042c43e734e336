"""The domain kernel shared by the hms server and desktop: tables, wire schemas, services, rules."""

SCHEMA_VERSION = 6
