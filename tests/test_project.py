"""The project as a whole: production checks, the API schema, the architecture contracts."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run_manage(
    *args: str, env: dict[str, str] | None = None, unset: tuple[str, ...] = ()
) -> subprocess.CompletedProcess:
    # The browser tests allow async-unsafe ORM calls in their own process only.
    unset = ("DJANGO_ALLOW_ASYNC_UNSAFE", *unset)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**{k: v for k, v in os.environ.items() if k not in unset}, **(env or {})},
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_check_deploy_is_clean_under_production_settings(tmp_path):
    env = {
        "DEBUG": "false",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "refscore.example.org",
        "REFSCORE_VAR_DIR": str(tmp_path),
    }
    result = run_manage("check", "--deploy", "--fail-level", "WARNING", env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_migrate_works_on_a_fresh_clone_without_var(tmp_path):
    # git keeps no var/: the embedded mode's SQLite file must be creatable all the same.
    var = tmp_path / "var"
    result = run_manage(
        "migrate", "--noinput", env={"REFSCORE_VAR_DIR": str(var)}, unset=("DATABASE_URL",)
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert (var / "refscore.sqlite3").stat().st_size > 0


def test_openapi_schema_is_valid_and_warning_free(tmp_path):
    result = run_manage(
        "spectacular",
        "--validate",
        "--fail-on-warn",
        "--file",
        str(tmp_path / "schema.yaml"),
        env={"REFSCORE_VAR_DIR": str(tmp_path)},
    )
    assert result.returncode == 0, result.stderr
    schema = (tmp_path / "schema.yaml").read_text()
    assert "/api/campaigns/{slug}/imports/" in schema


def test_architecture_contracts_hold():
    result = subprocess.run(
        [str(Path(sys.executable).with_name("lint-imports"))],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout
    assert "0 broken" in result.stdout
