"""Monitoring: the daemon config, unit state, the scheduler that runs the probes."""
