"""Probes: one kind per module behind one signature; a failed probe is data, not an exception."""
