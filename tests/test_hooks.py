"""The pre-commit hooks, run by pre-commit itself against this repository."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from samples import BAD

ROOT = Path(__file__).resolve().parent.parent
PRE_COMMIT = [sys.executable, "-m", "pre_commit"]

pytest.importorskip("pre_commit", reason="pre-commit is a test dependency: pip install -e '.[test]'")


def git(*args: str, cwd: Path) -> None:
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True)


@pytest.fixture(scope="module")
def hook_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One pre-commit cache for the module: the hook environment is built once."""
    return tmp_path_factory.mktemp("pre-commit-home")


@pytest.fixture
def user_repo(tmp_path: Path) -> Path:
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    repo = tmp_path / "repo"
    (repo / "shop").mkdir(parents=True)
    (repo / "shop" / "services.py").write_text(BAD)
    git("init", "-q", cwd=repo)
    git("add", ".", cwd=repo)
    return repo


def try_repo(hook: str, repo: Path, home: Path) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "PRE_COMMIT_HOME": str(home),
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@t",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@t",
    }
    return subprocess.run(
        [*PRE_COMMIT, "try-repo", str(ROOT), hook, "--all-files"],
        cwd=repo,
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )


@pytest.mark.heavy
def test_fix_hook_fixes_and_fails_then_passes(user_repo: Path, hook_home: Path) -> None:
    first = try_repo("oncommit-fix", user_repo, hook_home)
    assert first.returncode == 1, first.stdout + first.stderr
    assert "files were modified by this hook" in first.stdout
    fixed = (user_repo / "shop" / "services.py").read_text()
    assert "transaction.on_commit(partial(send_confirmation.delay, order.pk))" in fixed
    git("add", ".", cwd=user_repo)
    second = try_repo("oncommit-fix", user_repo, hook_home)
    assert second.returncode == 0, second.stdout + second.stderr


@pytest.mark.heavy
def test_check_hook_reports_and_changes_nothing(user_repo: Path, hook_home: Path) -> None:
    proc = try_repo("oncommit-check", user_repo, hook_home)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "shop/services.py:9:5: OC101" in proc.stdout
    assert (user_repo / "shop" / "services.py").read_text() == BAD


def test_hook_definitions() -> None:
    text = (ROOT / ".pre-commit-hooks.yaml").read_text()
    for needle in (
        "id: oncommit-fix",
        "id: oncommit-check",
        "entry: oncommit-fix --check --force-exclude",
        "language: python",
        "types: [python]",
    ):
        assert needle in text
