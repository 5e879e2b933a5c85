"""Kept for the stacks' state: the ApiHealth provider lives in ``hive_infra.providers.api_health``.

A stack brought up before the move (issue #21) stores its ApiHealth resources'
provider pickled by reference to this module path; ``pulumi preview``, ``up``
and ``destroy`` unpickle it through here. This name is that module itself
(``sys.modules``), so every name a pickle may reference resolves as before.
Keep it while such a stack may exist; code imports ``hive_infra.providers.api_health``.
"""

import sys

from hive_infra.providers import api_health as _moved

sys.modules[__name__] = _moved
