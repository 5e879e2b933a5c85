"""The EnvFile provider's module path before #21, kept for stacks' state (docs/architecture.md)."""

import sys

from hive_infra.providers import envfile

sys.modules[__name__] = envfile  # this name is the moved module itself: every pickled name resolves
