"""Importing FHIR R4 Bundles (e.g. Synthea's) into the clinical record, idempotently."""
