"""App tier: the real automagik-hive application against a throwaway PostgreSQL."""
