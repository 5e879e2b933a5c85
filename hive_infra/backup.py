"""The DataBackup provider's module path before #21, kept for stacks' state (docs/architecture.md)."""

import sys

from hive_infra.providers import backup

sys.modules[__name__] = backup  # this name is the moved module itself: every pickled name resolves
