"""The HTTP API for the systems that already hold the data (``/api/v1``)."""
