"""Analytics: NI14 and customer-service measures derived from the log, with a dashboard."""
