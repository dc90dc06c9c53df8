"""What holds for every deploy file at once: each YAML file parses, each process command
it names exists in the project, and each variable is documented in env.example and read.
"""

import importlib
import importlib.util
from pathlib import Path

import pytest
import yaml
from flower.options import default_options as flower_options

from tests.deploy.helpers import (
    COMPOSE,
    DEPLOY,
    DOCKERFILE,
    ENV_EXAMPLE,
    INTERPRETER_VARIABLES,
    PROCESS_KINDS,
    PROCFILES,
    RUNTIME_VARIABLES,
    WEB,
    all_raw_commands,
    checked_kinds,
    compose_app_services,
    compose_commands,
    dockerfile_commands,
    dockerfile_env,
    env_example,
    k8s_commands,
    k8s_config_data,
    procfile_commands,
    referenced_variables,
    rel,
    settings_environment_reads,
    systemd_commands,
    systemd_environment,
    unit_paths,
)


@pytest.mark.parametrize(
    "source, expected",
    [
        ("procfile", PROCESS_KINDS),
        ("systemd", PROCESS_KINDS | {"manage.py migrate", "manage.py warm_redis"}),
        ("dockerfile", {WEB, "manage.py collectstatic", "python -c", "python -m compileall"}),
        (
            "compose",
            PROCESS_KINDS | {"manage.py migrate", "manage.py warm_redis", "celery inspect ping", "python -c"},
        ),
        ("k8s", PROCESS_KINDS | {"manage.py migrate", "manage.py warm_redis", "celery inspect ping"}),
    ],
)
def test_every_process_command_exists_in_the_project(source: str, expected: set[str]) -> None:
    raws = {
        "procfile": [raw for path in PROCFILES for raw in procfile_commands(path).values()],
        "systemd": systemd_commands(),
        "dockerfile": dockerfile_commands(),
        "compose": compose_commands(),
        "k8s": k8s_commands(),
    }[source]
    kinds = checked_kinds(raws)
    assert expected <= kinds, f"{source}: missing {sorted(expected - kinds)}; found {sorted(kinds)}"


def test_variables_in_process_commands_are_documented_in_env_example() -> None:
    variables = referenced_variables(all_raw_commands())
    undocumented = variables - set(env_example()) - set(RUNTIME_VARIABLES) - INTERPRETER_VARIABLES
    assert not undocumented, (
        f"process commands use variables missing from env.example: {sorted(undocumented)}"
    )


def test_every_variable_deploy_sets_is_read_by_something() -> None:
    """Each variable set in env.example, the ConfigMap/Secret, compose, systemd or the image is read."""
    config, secret = k8s_config_data()
    set_by: dict[str, str] = {}
    sources: list[tuple[str, dict[str, str]]] = [
        (rel(ENV_EXAMPLE), env_example()),
        ("k8s ConfigMap", config),
        ("k8s Secret", secret),
        (rel(DOCKERFILE), dockerfile_env()),
    ]
    sources += [
        (f"{rel(COMPOSE)}:{name}", svc["environment"]) for name, svc in compose_app_services().items()
    ]
    sources += [(rel(path), systemd_environment(path)) for path in unit_paths()]
    for where, names in sources:
        for name in names:
            set_by.setdefault(name, where)

    read_by_settings = set(settings_environment_reads())
    referenced = referenced_variables(all_raw_commands())
    gunicorn_source = Path(importlib.import_module("gunicorn.config").__file__ or "").read_text()
    read_by_gunicorn = {n for n in set_by if f'"{n}"' in gunicorn_source or f"'{n}'" in gunicorn_source}
    read_by_flower = {n for n in set_by if n.startswith("FLOWER_") and n[7:].lower() in flower_options}
    unread = {
        name: where
        for name, where in set_by.items()
        if name
        not in read_by_settings | referenced | read_by_gunicorn | read_by_flower | INTERPRETER_VARIABLES
    }
    assert not unread, f"set in deploy/ but read by nothing: {unread}"


def test_env_example_documents_every_setting() -> None:
    documented = set(env_example())
    missing = {name: where for name, where in settings_environment_reads().items() if name not in documented}
    missing.pop("DJANGO_SETTINGS_MODULE", None)
    assert not missing, f"read from the environment but missing from deploy/env.example: {missing}"


def test_every_yaml_file_under_deploy_parses() -> None:
    paths = sorted(DEPLOY.rglob("*.yml")) + sorted(DEPLOY.rglob("*.yaml"))
    assert COMPOSE in paths and len(paths) > 5
    for path in paths:
        docs = [doc for doc in yaml.safe_load_all(path.read_text()) if doc is not None]
        assert docs and all(isinstance(doc, dict) for doc in docs), f"{rel(path)}: not YAML mappings"
