"""Delivering alerts where Alertmanager cannot: DingTalk robots and SMS gateways (the alert bridge)."""
