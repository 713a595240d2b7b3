"""Availability and construction reports, read from Prometheus (and the rollout state store)."""
