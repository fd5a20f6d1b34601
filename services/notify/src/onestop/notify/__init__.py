"""Notify: acknowledgements, progress and outcome messages, councillor and ward updates, feedback surveys."""
