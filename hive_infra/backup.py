"""Kept for the stacks' state: the DataBackup provider lives in ``hive_infra.providers.backup``.

A stack brought up before the move (issue #21) stores its DataBackup resources'
provider pickled by reference to this module path; ``pulumi preview``, ``up``
and ``destroy`` unpickle it through here. This name is that module itself
(``sys.modules``), so every name a pickle may reference resolves as before.
Keep it while such a stack may exist; code imports ``hive_infra.providers.backup``.
"""

import sys

from hive_infra.providers import backup as _moved

sys.modules[__name__] = _moved
