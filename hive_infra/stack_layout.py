"""Kept for the stacks' state: the StackLayout provider lives in ``hive_infra.providers.stack_layout``.

A stack brought up before the move (issue #21) stores its StackLayout resources'
provider pickled by reference to this module path; ``pulumi preview``, ``up``
and ``destroy`` unpickle it through here. This name is that module itself
(``sys.modules``), so every name a pickle may reference resolves as before.
Keep it while such a stack may exist; code imports ``hive_infra.providers.stack_layout``.
"""

import sys

from hive_infra.providers import stack_layout as _moved

sys.modules[__name__] = _moved
