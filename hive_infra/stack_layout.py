"""The StackLayout provider's module path before #21, kept for stacks' state (docs/architecture.md)."""

import sys

from hive_infra.providers import stack_layout

sys.modules[__name__] = stack_layout  # this name is the moved module itself: every pickled name resolves
