"""Configuration through both front ends: pyproject.toml/flags for oncommit-fix, flake8 config files."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from flake8_oncommit.config import KEYS, Config, ConfigError, config_from_mapping

SCRIPT = Path(sys.executable).with_name("oncommit-fix")

WRAPPED = textwrap.dedent(
    """\
    from django.db import transaction

    from myapp.db import atomic_write
    from myapp.tasks import offload_task


    @transaction.atomic
    def place(order):
        offload_task("orders.confirm", order.pk)


    def reprice(product):
        with atomic_write():
            product.tasks.send_later(product.pk)
    """
)


def oncommit_fix(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(SCRIPT), *args], cwd=cwd, capture_output=True, text=True, timeout=60)


def flake8(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "flake8", "--select=OC", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "app.py").write_text(WRAPPED)
    return tmp_path


PYPROJECT = """\
[tool.flake8-oncommit]
enqueue-functions = ["myapp.tasks.offload_task"]
enqueue-methods = ["send_later"]
atomic-wrappers = ["myapp.db.atomic_write"]
"""

SETUP_CFG = """\
[flake8]
oncommit-enqueue-functions = myapp.tasks.offload_task
oncommit-enqueue-methods = send_later
oncommit-atomic-wrappers = myapp.db.atomic_write
"""


def codes(output: str) -> list[tuple[int, str]]:
    found = []
    for line in output.splitlines():
        _, number, _, rest = line.split(":", 3)
        found.append((int(number), rest.split()[0]))
    return found


# --------------------------------------------------------------------------
# The same settings, the same effect, in both front ends


def test_without_configuration_project_wrappers_are_unknown(project: Path) -> None:
    assert oncommit_fix("--check", "app.py", cwd=project).stdout == ""
    assert flake8("app.py", cwd=project).stdout == ""


def test_pyproject_configures_oncommit_fix(project: Path) -> None:
    (project / "pyproject.toml").write_text(PYPROJECT)
    proc = oncommit_fix("--check", "app.py", cwd=project)
    assert proc.returncode == 1
    assert codes(proc.stdout) == [(9, "OC101"), (14, "OC101")]


@pytest.mark.parametrize("config_file", ["setup.cfg", "tox.ini", ".flake8"])
def test_flake8_config_files_configure_the_plugin(project: Path, config_file: str) -> None:
    (project / config_file).write_text(SETUP_CFG)
    proc = flake8("app.py", cwd=project)
    assert codes(proc.stdout) == [(9, "OC101"), (14, "OC101")], proc.stderr


def test_flake8_command_line_options(project: Path) -> None:
    proc = flake8(
        "--oncommit-enqueue-functions=myapp.tasks.offload_task",
        "--oncommit-atomic-wrappers=myapp.db.atomic_write",
        "--oncommit-enqueue-methods=send_later",
        "app.py",
        cwd=project,
    )
    assert codes(proc.stdout) == [(9, "OC101"), (14, "OC101")], proc.stderr


def test_flags_win_over_the_file(project: Path) -> None:
    (project / "pyproject.toml").write_text(PYPROJECT)
    proc = oncommit_fix("--check", "--enqueue-methods", "other_method", "app.py", cwd=project)
    assert codes(proc.stdout) == [(9, "OC101")]
    proc = oncommit_fix("--check", "--ignore", "OC101", "app.py", cwd=project)
    assert (proc.returncode, proc.stdout) == (0, "")


def test_isolated_ignores_the_file(project: Path) -> None:
    (project / "pyproject.toml").write_text(PYPROJECT)
    assert oncommit_fix("--check", "--isolated", "app.py", cwd=project).stdout == ""


def test_explicit_config_file(project: Path, tmp_path_factory: pytest.TempPathFactory) -> None:
    elsewhere = tmp_path_factory.mktemp("conf") / "custom.toml"
    elsewhere.write_text(PYPROJECT)
    proc = oncommit_fix("--check", "--config", str(elsewhere), "app.py", cwd=project)
    assert codes(proc.stdout) == [(9, "OC101"), (14, "OC101")]


def test_style_from_pyproject(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[tool.flake8-oncommit]\nstyle = "celery"\n')
    (tmp_path / "a.py").write_text(
        "from django.db import transaction\n\n\n@transaction.atomic\ndef f(t):\n    t.delay(1)\n"
    )
    assert oncommit_fix("a.py", cwd=tmp_path).returncode == 1
    assert "    t.delay_on_commit(1)\n" in (tmp_path / "a.py").read_text()


# --------------------------------------------------------------------------
# atomic-requests


VIEWS = textwrap.dedent(
    """\
    from blog.tasks import moderate


    def add_comment(request, pk):
        moderate.delay(pk)
    """
)


@pytest.mark.parametrize(
    ("settings", "expected"),
    [
        ('DATABASES = {"default": {"ENGINE": "x", "ATOMIC_REQUESTS": True}}\n', True),
        ('DB = {"ATOMIC_REQUESTS": env.bool("ATOMIC", default=True)}\nDATABASES = {"default": DB}\n', True),
        ('DATABASES = {"default": {}}\nDATABASES["default"]["ATOMIC_REQUESTS"] = True\n', True),
        ('DATABASES = {"default": dict(ENGINE="x", ATOMIC_REQUESTS=True)}\n', True),
        ('DATABASES = {"default": {"ENGINE": "x", "ATOMIC_REQUESTS": False}}\n', False),
        ('ATOMIC_REQUESTS = True\nDATABASES = {"default": {"ENGINE": "x"}}\n', False),
        ('DATABASES = {"default": {"ATOMIC_REQUESTS": env.bool("ATOMIC", default=False)}}\n', False),
        ('DATABASES = {"default": {"ATOMIC_REQUESTS": config("ATOMIC", True, cast=bool)}}\n', True),
        ('ATOMIC = False\nDATABASES = {"default": {"ATOMIC_REQUESTS": ATOMIC}}\n', False),
        (
            'DATABASES = {"default": {"ATOMIC_REQUESTS": True}}\n'
            'DATABASES["default"]["ATOMIC_REQUESTS"] = False\n',
            False,
        ),
        ('DATABASES = {"default": {}, "replica": {"ATOMIC_REQUESTS": True}}\n', False),
    ],
)
def test_atomic_requests_auto_reads_the_settings(tmp_path: Path, settings: str, expected: bool) -> None:
    (tmp_path / "manage.py").write_text("")
    (tmp_path / "proj").mkdir()
    (tmp_path / "proj" / "settings.py").write_text(settings)
    (tmp_path / "blog").mkdir()
    (tmp_path / "blog" / "views.py").write_text(VIEWS)
    proc = oncommit_fix("--check", "--verbose", "--atomic-requests=auto", "blog", cwd=tmp_path)
    assert bool(proc.stdout) is expected, proc.stdout + proc.stderr
    if expected:
        assert "OC106" in proc.stdout
        assert "ATOMIC_REQUESTS is on (proj/settings.py" in proc.stderr
    (tmp_path / "setup.cfg").write_text("[flake8]\noncommit-atomic-requests = auto\n")
    proc = flake8("blog", cwd=tmp_path)
    assert bool(proc.stdout) is expected, proc.stdout + proc.stderr


STOCK = textwrap.dedent(
    """\
    from django.db import transaction
    from django_q.tasks import AsyncTask, Chain, async_task


    @transaction.atomic
    def move(item):
        item.save()
        async_task("stock.tasks.recount", item.pk)
        AsyncTask("stock.tasks.audit", item.pk).run()
        chain = Chain()
        chain.append("stock.tasks.recount", item.pk)
        chain.run()
    """
)


@pytest.mark.parametrize(
    ("settings", "transactional"),
    [
        ('Q_CLUSTER = {"name": "inv", "orm": "default"}\n', True),
        ('Q_CLUSTER = {"name": "inv", "orm": "default"}\nQ_CLUSTER["django_redis"] = "worker"\n', True),
        ('Q_CLUSTER = {"name": "inv"}\nQ_CLUSTER["orm"] = "default"\n', True),
        ('Q_CLUSTER = {"name": "inv", "redis": {"host": "localhost"}}\n', False),
        ('Q_CLUSTER = {"name": "inv", "orm": "default"}\nQ_CLUSTER = {"name": "inv"}\n', False),
        ('Q_CLUSTER = {"name": "inv", "orm": None}\n', False),
    ],
)
def test_djangoq_orm_broker_makes_its_jobs_transactional(
    tmp_path: Path, settings: str, transactional: bool
) -> None:
    """django-q's ORM broker writes each job as a row of the transaction: nothing to report."""
    (tmp_path / "manage.py").write_text("")
    (tmp_path / "inv").mkdir()
    (tmp_path / "inv" / "settings.py").write_text(settings)
    (tmp_path / "stock").mkdir()
    (tmp_path / "stock" / "models.py").write_text(STOCK)
    proc = oncommit_fix("--check", "--verbose", "stock", cwd=tmp_path)
    assert proc.stdout.count("OC101") == (0 if transactional else 3), proc.stdout + proc.stderr
    assert ("django-q uses its ORM broker (inv/settings.py" in proc.stderr) is transactional
    proc = flake8("stock", cwd=tmp_path)
    assert proc.stdout.count("OC101") == (0 if transactional else 3), proc.stdout + proc.stderr


def test_atomic_requests_true_and_false_flags(tmp_path: Path) -> None:
    (tmp_path / "views.py").write_text(VIEWS)
    assert "OC106" in oncommit_fix("--check", "--atomic-requests", "views.py", cwd=tmp_path).stdout
    assert "OC106" in oncommit_fix("--check", "--atomic-requests", "true", "views.py", cwd=tmp_path).stdout
    assert oncommit_fix("--check", "--atomic-requests=false", "views.py", cwd=tmp_path).stdout == ""


# --------------------------------------------------------------------------
# Every kind of mistake is an error that names the key, exit status 2


BAD_PYPROJECT = [
    ('enqueue-function = ["a.b"]', "unknown key 'enqueue-function' (did you mean 'enqueue-functions'?)"),
    ("enqueue-functions = 3", "enqueue-functions: expected a list of strings, got 3"),
    ('enqueue-functions = ["not a name"]', "enqueue-functions: 'not a name' is not a dotted name"),
    ('enqueue-methods = ["a.b"]', "enqueue-methods: 'a.b' is not a method name"),
    ('atomic-wrappers = ["1x"]', "atomic-wrappers: '1x' is not a dotted name"),
    ("safe-deferrers = [1]", "safe-deferrers: expected a list of strings"),
    ('transactional-queues = ["x..y"]', "transactional-queues: 'x..y' is not a dotted name"),
    ('read-only-databases = ["a b"]', "read-only-databases: 'a b' is not a database alias"),
    ('style = "lambda"', "style: expected one of partial, celery, got 'lambda'"),
    ('atomic-requests = "sometimes"', "atomic-requests: expected true, false or auto, got 'sometimes'"),
    ('select = ["E501"]', "select: unknown code 'E501'"),
    ('ignore = ["OC9"]', "ignore: unknown code 'OC9'"),
]


@pytest.mark.parametrize(
    ("line", "message"), BAD_PYPROJECT, ids=[line.split()[0] for line, _ in BAD_PYPROJECT]
)
def test_bad_pyproject_values_exit_2_naming_the_key(project: Path, line: str, message: str) -> None:
    (project / "pyproject.toml").write_text(f"[tool.flake8-oncommit]\n{line}\n")
    proc = oncommit_fix("--check", "app.py", cwd=project)
    assert proc.returncode == 2
    assert message in proc.stderr
    assert "[tool.flake8-oncommit]" in proc.stderr


def test_invalid_toml_and_wrong_table_type(project: Path) -> None:
    (project / "pyproject.toml").write_text("[tool.flake8-oncommit\n")
    proc = oncommit_fix("--check", "app.py", cwd=project)
    assert proc.returncode == 2 and "invalid TOML" in proc.stderr
    (project / "pyproject.toml").write_text('[tool]\n"flake8-oncommit" = 3\n')
    proc = oncommit_fix("--check", "app.py", cwd=project)
    assert proc.returncode == 2 and "must be a table" in proc.stderr


@pytest.mark.parametrize(
    ("flag", "message"),
    [
        ("--enqueue-functions=myapp..offload", "enqueue-functions: 'myapp..offload' is not a dotted name"),
        ("--select=XYZ1", "select: unknown code 'XYZ1'"),
        ("--enqueue-methods=a.b", "enqueue-methods: 'a.b' is not a method name"),
    ],
)
def test_bad_flags_exit_2(project: Path, flag: str, message: str) -> None:
    proc = oncommit_fix("--check", flag, "app.py", cwd=project)
    assert proc.returncode == 2 and message in proc.stderr


@pytest.mark.parametrize(
    ("line", "message"),
    [
        (
            "oncommit-enqueue-functions = myapp.tasks.1offload",
            "--oncommit-enqueue-functions: 'myapp.tasks.1offload' is not",
        ),
        ("oncommit-style = lambda", "--oncommit-style: expected one of partial, celery, got 'lambda'"),
        ("oncommit-atomic-requests = maybe", "--oncommit-atomic-requests: expected true, false or auto"),
        ("oncommit-enqueue-function = a.b", "unknown option 'oncommit-enqueue-function'"),
    ],
)
def test_bad_flake8_config_exits_2_naming_the_option(project: Path, line: str, message: str) -> None:
    (project / "setup.cfg").write_text(f"[flake8]\n{line}\n")
    proc = flake8("app.py", cwd=project)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert message in proc.stderr
    assert "Traceback" not in proc.stderr


# --------------------------------------------------------------------------
# The validation itself


def test_every_key_is_a_flag_and_a_flake8_option() -> None:
    from flake8_oncommit.cli import build_parser
    from flake8_oncommit.options import flake8_keys

    flags = {action.dest for action in build_parser()._actions}
    for key, (field_name, _, _) in KEYS.items():
        assert field_name in flags, key
    # Rule and file selection are flake8's own (the pyproject's still apply, see options.py).
    owned = {"select", "ignore", "exclude", "extend-exclude", "per-file-ignores", "respect-gitignore"}
    assert set(flake8_keys()) == set(KEYS) - owned - {"force-exclude"}


def test_config_from_mapping_accepts_strings_and_lists() -> None:
    config = config_from_mapping(
        {"enqueue-functions": "a.b, c.d", "atomic_requests": True, "select": ["OC1"]}, "test"
    )
    assert config == Config(
        enqueue_functions=frozenset({"a.b", "c.d"}), atomic_requests="true", select=frozenset({"OC1"})
    )
    assert config.selects("OC104") and not config.selects("OC000")
    with pytest.raises(ConfigError, match="unknown key 'colour'"):
        config_from_mapping({"colour": "red"}, "test")
