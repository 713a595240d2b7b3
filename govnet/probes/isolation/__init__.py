"""The ``isolation`` kind: negative checks from vantage points (`probe`, `matrix`), record and collector (`kind`)."""
