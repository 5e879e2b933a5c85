"""What the tests share: recording mocks and monitor (``mocks``), the whole program run
under them (``program``), a fake ``pulumi`` CLI (``fake_pulumi``), the real engine on a
project copy (``engine``), the Docker tier's engine and images (``dockerlib``), a
throwaway PostgreSQL (``pgserver``), a stack state made by an earlier version
(``state_fixture``) and the command line's recorded surface (``cli_surface``).
The benchmarks (``bench/``) import only from here.
"""
