"""What the tests share, and the only test code a tier may import (an import-linter
contract in pyproject.toml): recording mocks and monitor (``mocks``), the whole program
run under them (``program``), a fake ``pulumi`` CLI (``fake_pulumi``), the real engine on
a project copy (``engine``), the Docker tier's engine and images (``dockerlib``), the
Kubernetes tier's cluster (``cluster``) and what it and the bench set up on it
(``kubestack``: the managed PostgreSQL, the smoke image, a Kubernetes stack's config), a
throwaway PostgreSQL (``pgserver``, ``free_port``) and the session fixtures of the tiers
(``fixtures``: ``pg_server``, ``pulumi_bin``), skip or fail on a missing prerequisite
(``require``), the provider double (``pg_double``), checks on its databases
(``dbchecks``), fake Docker CLI and SDK (``docker_fakes``), the db commands' harness
(``db_helpers``), the real application's helpers (``hive_app``), a stack state made by an
earlier version (``state_fixture``) and the command line's recorded
surface (``cli_surface``). The benchmarks (``bench/``) import only from here.
"""
