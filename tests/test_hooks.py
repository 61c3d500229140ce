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


@pytest.mark.heavy
def test_check_hook_batches_report_once_and_honour_exclusions(user_repo: Path, hook_home: Path) -> None:
    """pre-commit runs the hook once per batch of files (in parallel): the output must not repeat
    the settings note or claim a batch's file count for the run; pre-commit's explicit file list
    still honours extend-exclude (the hook passes --force-exclude)."""
    (user_repo / "proj").mkdir()
    (user_repo / "proj" / "settings.py").write_text('DATABASES = {"default": {"ATOMIC_REQUESTS": True}}\n')
    (user_repo / "pyproject.toml").write_text('[tool.flake8-oncommit]\nextend-exclude = ["shop/legacy"]\n')
    (user_repo / "shop" / "legacy").mkdir()
    (user_repo / "shop" / "legacy" / "old.py").write_text(BAD)
    for index in range(12):
        (user_repo / "shop" / f"m{index}.py").write_text(BAD if index % 2 else "X = 1\n")
    git("add", ".", cwd=user_repo)
    proc = try_repo("oncommit-check", user_repo, hook_home)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    output = proc.stdout + proc.stderr
    findings = [line for line in output.splitlines() if ": OC101 " in line]
    assert len(findings) == len(set(findings)) == 7  # services.py and the six odd modules
    assert not any("legacy" in line for line in findings)
    assert "ATOMIC_REQUESTS is on" not in output
    assert "files checked" not in output
    summaries = [line for line in output.splitlines() if line.startswith("oncommit-fix: ")]
    assert summaries and all(line.endswith(f"found (OC101 x{line.split()[1]})") for line in summaries)
    assert sum(int(line.split()[1]) for line in summaries) == 7


@pytest.mark.heavy
def test_the_readme_pre_commit_configuration_works(user_repo: Path, hook_home: Path) -> None:
    """README: until a release is tagged, ``repo:`` is a clone's path and ``rev:`` one of its commits."""
    rev = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=False
    ).stdout.strip()
    if not rev:
        pytest.skip("this checkout is not a git repository")
    (user_repo / ".pre-commit-config.yaml").write_text(
        f"repos:\n  - repo: {ROOT}\n    rev: {rev}\n    hooks:\n      - id: oncommit-check\n"
    )
    git("add", ".", cwd=user_repo)
    env = {**os.environ, "PRE_COMMIT_HOME": str(hook_home)}
    proc = subprocess.run(
        [*PRE_COMMIT, "run", "--all-files"],
        cwd=user_repo,
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "shop/services.py:9:5: OC101" in proc.stdout
