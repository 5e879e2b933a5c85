"""hive-infra: the automagik-hive platform as a Pulumi program."""
