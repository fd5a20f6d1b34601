"""Intake: every channel in (contact API, Open311 GeoReport v2, mail room, telephony and reception feeds)."""
