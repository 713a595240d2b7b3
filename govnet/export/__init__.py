"""What govnet hands the monitoring stack, derived from the inventory (Alertmanager config, …)."""
