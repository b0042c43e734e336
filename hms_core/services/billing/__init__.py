"""Billing services (named mutations): the price list, charges, invoices and credit notes,
payments and refunds, insurance policies and claims, the cash desk's day close, prints."""
