"""Everything the deploy tool sends over the network.

``client`` maps the OpenWhisk REST API (paths, bodies, retries); ``sessions`` picks
the HTTP session and maps its failures; ``transport`` is the standard-library wire.
"""
