"""The phone page: an HTTP server beside the service, its pairing, pages, charts and files."""
