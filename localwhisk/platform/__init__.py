"""The controller's logic: who is calling (``auth``), what an entity name resolves to,
throttles, and running activations (``invoker``, ``runjob``, ``firing``).

It talks to ``storage`` for state and to ``runtime`` for processes, never to HTTP.
"""
