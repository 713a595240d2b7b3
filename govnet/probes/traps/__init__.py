"""The SNMP trap receiver (the daemon's ``traps:`` section): `receiver` and its strict `settings`."""
