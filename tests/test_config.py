"""Settings: environment over secrets over defaults; relative SQLite paths are the project's."""

from __future__ import annotations

from fleet.config import PROJECT_ROOT, get_settings, load_secrets


def test_defaults_point_at_the_project_sqlite_file():
    settings = get_settings(env={}, secrets={})
    assert settings.database_url == f"sqlite:///{PROJECT_ROOT / 'data' / 'fleet.db'}"
    assert settings.base_url == "http://localhost:8501"


def test_environment_beats_secrets_which_beat_defaults():
    secrets = {"database_url": "postgresql+psycopg://s@h/db", "base_url": "https://fleet.example"}
    from_secrets = get_settings(env={}, secrets=secrets)
    assert from_secrets.database_url == "postgresql+psycopg://s@h/db"
    assert from_secrets.base_url == "https://fleet.example"
    from_env = get_settings(env={"FLEET_DATABASE_URL": "sqlite:////tmp/x.db"}, secrets=secrets)
    assert from_env.database_url == "sqlite:////tmp/x.db"
    assert from_env.base_url == "https://fleet.example"


def test_secrets_files_merge_with_the_project_file_winning(tmp_path):
    user, project = tmp_path / "user.toml", tmp_path / "project.toml"
    user.write_text('database_url = "sqlite:///user.db"\nbase_url = "https://user"\n')
    project.write_text('database_url = "sqlite:///project.db"\n')
    merged = load_secrets([project, user])
    assert merged == {"database_url": "sqlite:///project.db", "base_url": "https://user"}


def test_with_database_overrides_only_when_given():
    settings = get_settings(env={}, secrets={})
    assert settings.with_database(None) is settings
    assert settings.with_database("sqlite:////tmp/y.db").database_url == "sqlite:////tmp/y.db"
