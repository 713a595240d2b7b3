"""The ``tcp`` kind: service connect checks (`probe`), their settings, record and collector (`kind`)."""
