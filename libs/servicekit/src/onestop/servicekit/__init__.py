"""What every onestop service shares: settings, PostgreSQL with migrations, Kafka with the CloudEvents
binding, dead letters, a transactional outbox and an inbox. Services import this and the contracts,
never each other.
"""
