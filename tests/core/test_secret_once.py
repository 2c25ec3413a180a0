"""secret() reads the env file once per process (issue 15 item 5: configuration resolved once).

Every step of one run (plan, apply's gates, the runner, the audit) asks for PG_PROD_URL or
PG_SHADOW_URL; they must all see the same value, and the file is opened once.
"""

from __future__ import annotations

import migguard.core.config as config_module
from migguard.core.config import load_config, secret


def test_the_env_file_is_read_once_and_every_call_sees_the_same_values(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("PG_PROD_URL", raising=False)
    monkeypatch.delenv("PG_SHADOW_URL", raising=False)
    env = tmp_path / "vault" / ".env"
    env.parent.mkdir()
    env.write_text("PG_PROD_URL=postgresql://app:first-pw-7q@db/prod\nPG_SHADOW_URL=postgresql://s:shadow-pw-7q@localhost/x\n")
    reads = []
    real = config_module.read_env_file
    monkeypatch.setattr(config_module, "read_env_file", lambda path: reads.append(path) or real(path))
    config = load_config()

    assert secret("PG_PROD_URL", config) == "postgresql://app:first-pw-7q@db/prod"
    env.write_text("PG_PROD_URL=postgresql://app:second-pw-7q@db/prod\n")  # edited while the run goes on
    assert secret("PG_PROD_URL", load_config()) == "postgresql://app:first-pw-7q@db/prod"
    assert secret("PG_SHADOW_URL", config) == "postgresql://s:shadow-pw-7q@localhost/x"
    assert secret("MISSING", config) is None
    assert reads == [env.absolute()]


def test_the_environment_still_wins_over_the_cached_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "vault").mkdir()
    (tmp_path / "vault" / ".env").write_text("PG_PROD_URL=postgresql://app:f1le-pw-7q@db/prod\n")
    monkeypatch.delenv("PG_PROD_URL", raising=False)
    assert secret("PG_PROD_URL", load_config()) == "postgresql://app:f1le-pw-7q@db/prod"
    monkeypatch.setenv("PG_PROD_URL", "postgresql://app:env-pw-7q@db/prod")
    assert secret("PG_PROD_URL", load_config()) == "postgresql://app:env-pw-7q@db/prod"
