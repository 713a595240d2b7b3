"""Probes: one package per kind behind one signature; a failed probe is data, not an exception.

What a kind provides is `govnet.probes.kind.Kind`; the kinds govnet ships are listed in
`govnet.probes.registry`, one line each.
"""
