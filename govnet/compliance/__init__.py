"""Continuous compliance: every device compared with its intended configuration.

``categories`` names the drift categories; ``check`` reads running configs and compares them with
the rendered intent using the rollout's own remediation; ``attribution`` says whether a drifted
config is what govnet last left (who, when) or was changed outside govnet. The daemon runs the
check on its schedule, off the event loop (`govnet.monitor.drift`).
"""
