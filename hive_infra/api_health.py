"""The ApiHealth provider's module path before #21, kept for stacks' state (docs/architecture.md)."""

import sys

from hive_infra.providers import api_health

sys.modules[__name__] = api_health  # this name is the moved module itself: every pickled name resolves
