"""localwhisk: an OpenWhisk-compatible server that runs Python actions for real.

Cut like moto's emulators: ``routes`` (path table) -> ``api`` (request adapters)
-> ``invoker``/``store`` (logic and state) -> ``runner`` (warm processes). It
never imports ``deploy`` and never reads a manifest: it only knows the REST API
and the action runtime protocol.
"""
