"""The nurse's Ward workspace: beds, admissions and charted vital signs with NEWS2."""
