"""The deploy tool: manifest.yaml -> deterministic zips -> OpenWhisk REST API.

Stages, one module each (Chalice's pipeline, cut for OpenWhisk):

- ``manifest``  reads and validates the wskdeploy-format file into inert ``models``;
- ``bundle``    turns each action's source into a deterministic zip (``Artifact``);
- ``plan``      pure: desired entities vs the namespace's current state -> ``Plan``;
- ``client``    the OpenWhisk API as verbs (``OpenWhiskClient``), with the retry policy;
                its session comes from ``sessions``: ``transport`` (standard-library
                keep-alive connections) or requests behind a proxy;
- ``apply``     the only module that mutates: runs a ``Plan`` through the client;
- ``cli``       argparse commands; the only place that prints errors and exits.

Nothing here knows whether the target is a real OpenWhisk or the local server.
"""
