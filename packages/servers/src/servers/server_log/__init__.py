"""server_log: a durable consumer of the quotes stream that writes NDJSON files, one per New
York date, gzip'd when the day closes."""
