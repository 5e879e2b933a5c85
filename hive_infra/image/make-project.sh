#!/bin/bash
# make-project.sh DIR: a hive project in DIR made by the app's own CLI (`hive init
# project`, `hive create agent`), as tests/app/hive_app.py:create_project makes it:
# one agent, "mode-agent", whose storage is PostgreSQL through HIVE_DATABASE_URL
# (sessions in ai.mode_agent_sessions, memories in ai.agno_memories), not SQLite.
# The scaffold's .env of placeholders is removed: the container gets only the
# stack's environment. Run by the API image's Dockerfile as the user hive.
set -euo pipefail
dir="$1"
name="$(basename "$dir")"
tmp="$(mktemp -d)"
cd "$tmp"
hive init project "$name"
cp -a "$tmp/$name/." "$dir/"
rm -rf "$tmp"
cd "$dir"
hive create agent mode-agent
python3_venv=/opt/hive/bin/python
"$python3_venv" - <<'PY'
import pathlib, yaml
path = pathlib.Path("ai/agents/mode-agent/config.yaml")
config = yaml.safe_load(path.read_text())
config["storage"] = {"type": "postgres", "table_name": "mode_agent_sessions"}
path.write_text(yaml.safe_dump(config, sort_keys=False))
PY
rm -f .env
test -f hive.yaml && test -d ai && test -f pyproject.toml
echo "hive project in $dir"
