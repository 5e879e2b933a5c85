"""Engine tier: the real Pulumi CLI and plugins, built from Go modules.

Tests here are marked ``engine`` (``-m "not engine"`` leaves them out). When
the engine is not built (``scripts/build-pulumi.sh``) the tier is skipped with
the reason; with ``HIVE_REQUIRE_PULUMI=1`` (``.ci/run``, which builds it) it
fails instead. Its ``pulumi_bin`` fixture, shared with the Docker and Kubernetes
tiers, is in ``tests/support/fixtures.py``.
"""
