"""The ``snmp`` kind: device polls (`probe`, v2c `fast`, v3 `engine`), settings, part, record and collector."""
