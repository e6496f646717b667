"""Facts of the OpenWhisk platform that both the deploy tool and localwhisk state.

Kept here once so the two sides cannot disagree; it imports only the standard
library, and ``deploy`` and ``localwhisk`` may both read it without reading each other.
"""
