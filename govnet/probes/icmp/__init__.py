"""The ``icmp`` kind: echo probes through one socket (`probe`), its settings, its record and collector (`kind`)."""
