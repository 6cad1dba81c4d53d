"""server_sql: a durable consumer of the quotes stream that writes table `quotes` in PostgreSQL."""
