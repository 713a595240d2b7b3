"""What the daemon exports: a Collector over its current view, and the HTTP endpoints."""
