"""Cases: the event-sourced case lifecycle, hand-offs, service levels, escalation and read models."""
