"""Django's SQLite backend with the placeholder conversion remembered (issue 14.1)."""
