"""The project's database backends (settings.py selects them for postgres URLs)."""
