"""Entities and activation records in SQLite; the only package that imports ``sqlite3``.

``store`` owns the schema and queries; ``writebehind`` owns the writer and checkpoint
threads that keep commits off the event loop.
"""
