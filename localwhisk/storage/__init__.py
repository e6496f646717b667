"""Entities and activation records in SQLite; the only package that imports ``sqlite3``.

``store`` owns the schema and queries; ``apis`` the API gateway's table; ``writebehind``
owns the writer and checkpoint threads that keep commits off the event loop.
"""
