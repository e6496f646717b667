"""Request adapters: one module per REST resource, turning requests into platform calls.

Handlers parse and check what the client sent (``common``, ``specs``), call
``platform`` and ``storage``, and shape the platform's camelCase JSON. Web actions
are here too: ``web`` does their I/O, ``webactions`` and ``mediatypes`` translate (pure).
"""
