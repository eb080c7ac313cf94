"""Operations: request ids, structured logs and Prometheus metrics of the API."""
