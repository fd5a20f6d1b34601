"""Routing: rules as data, hand-off decisions, duplicate and repeat detection, NI14 classification."""
