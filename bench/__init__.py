"""The benchmarks (``make bench``: ``bench/engine.py``); a package so that the Kubernetes
tier's ``test_bench.py`` runs the same ``bench.kubernetes`` the bench does."""
