"""Integration tier: a real, throwaway PostgreSQL (``pg_server``, defined in
``tests/support/fixtures.py`` and shared with the app tier through the
root conftest).

Tests here are marked ``integration`` (``-m "not integration"`` leaves them
out). Without PostgreSQL server binaries the tier is skipped, with the reason;
with ``HIVE_REQUIRE_POSTGRES=1`` (CI) it fails instead.
"""

from __future__ import annotations
