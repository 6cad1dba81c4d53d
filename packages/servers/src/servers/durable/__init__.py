"""Durable Redis Stream consumers: a consumer group read in batches, written to a sink, acked
only once the sink says the batch is durable (server_sql, server_log)."""
