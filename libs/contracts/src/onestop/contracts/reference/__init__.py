"""Reference data every service shares: the service catalogue."""
