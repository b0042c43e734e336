"""Printed documents built with reportlab, pure and testable without Qt: invoices (with
credit notes and copies) and payment receipts on A4 or 80 mm thermal paper."""
