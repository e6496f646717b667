"""The platform's rule for entity names (actions, packages, triggers, rules).

From the controller's ``EntityName`` (openwhisk
``common/scala/src/main/scala/org/apache/openwhisk/core/entity/EntityPath.scala``):
a word character, then up to 255 of ``\\w @ . & -`` and space, not ending in a
space. ``\\w`` is ASCII there, as in Java's default regex flavour, so ``café`` is
refused with "The name of the entity contains illegal characters".
"""

from __future__ import annotations

import re

ENTITY_NAME = re.compile(r"\A([\w]|[\w][\w@ .&-]{0,254}[\w@.&-])\Z", re.ASCII)
ILLEGAL_NAME = "The name of the entity contains illegal characters."


def is_entity_name(name: object) -> bool:
    return isinstance(name, str) and ENTITY_NAME.match(name) is not None
