"""What the deploy tests share: the deploy files' paths, their parsers and the command checks.

The small parsers below pull the commands out of each kind of file (Procfiles, systemd
units, the Dockerfile, docker-compose.yml, the Kubernetes manifests), expand their
variables with the sample environment of deploy/env.example, split shell lines
(``sh -c "a && b"``) into simple commands, and check each against the real thing:
gunicorn's own option parser and the WSGI target, Celery's click commands on the
smsbridge app, Django's management commands and their argument parsers, Python's
compiler for ``python -c``. Nothing is started except, where installed, redis-server
(test_redis_conf.py, marked slow), nginx -t and systemd-analyze on copies of the configuration.
"""

import ast
import importlib
import importlib.util
import json
import re
import shlex
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import click
import pytest
import yaml
from celery.app.control import Inspect
from celery.bin.base import CLIContext
from celery.bin.celery import celery as celery_cli
from django.core.management import get_commands, load_command_class
from django.core.management.base import CommandError
from django.utils.module_loading import import_string
from flower.options import default_options as flower_options
from gunicorn.config import Config as GunicornConfig

import celeryconfig

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
K8S = DEPLOY / "k8s"
SYSTEMD = DEPLOY / "systemd"
COMPOSE = DEPLOY / "docker-compose.yml"
DOCKERFILE = DEPLOY / "Dockerfile"
ENV_EXAMPLE = DEPLOY / "env.example"
NGINX = DEPLOY / "nginx" / "smsbridge.conf"
REDIS_CONF = DEPLOY / "redis.conf"
PROCFILES = [DEPLOY / "Procfile", DEPLOY / "Procfile.dev"]

PROCESSES = {"web", "worker", "beat", "flower"}
# Set by the platform at run time, so not in env.example.
RUNTIME_VARIABLES = {"HOSTNAME": "smsbridge-worker-7d9f-abcde", "MAINPID": "1"}
# Read by the Python interpreter or pip themselves.
INTERPRETER_VARIABLES = {
    "PATH",
    "VIRTUAL_ENV",
    "PYTHONUNBUFFERED",
    "PYTHONDONTWRITEBYTECODE",
    "PIP_NO_CACHE_DIR",
    "PIP_DISABLE_PIP_VERSION_CHECK",
}
# The Django settings modules that read the environment (settings_test.py only sets
# defaults for the suite).
SETTINGS_SOURCES = [ROOT / "smsbridge" / "settings.py", ROOT / "celeryconfig.py"]


def rel(path: Path) -> str:
    return str(path.relative_to(ROOT))


# --------------------------------------------------------------------------- env.example


def env_example() -> dict[str, str]:
    """NAME -> value of deploy/env.example, checking its format on the way."""
    values: dict[str, str] = {}
    commented = False
    for number, line in enumerate(ENV_EXAMPLE.read_text().splitlines(), 1):
        stripped = line.strip()
        if not stripped:
            commented = False
            continue
        if stripped.startswith("#"):
            commented = True
            continue
        name, sep, value = stripped.partition("=")
        assert sep and re.fullmatch(r"[A-Z][A-Z0-9_]*", name), f"env.example:{number}: not NAME=value"
        assert name not in values, f"env.example:{number}: {name} is set twice"
        assert commented, f"env.example:{number}: {name} has no comment above its block"
        values[name] = value
    return values


def settings_environment_reads() -> dict[str, str]:
    """Environment variables the settings read: NAME -> where."""
    found: dict[str, str] = {}
    for path in sorted({*SETTINGS_SOURCES, *(ROOT / "smsbridge").glob("*.py")}):
        if path.name == "settings_test.py":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            name: str | None = None
            if not isinstance(node, ast.expr):
                continue
            if isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant):
                func = ast.unparse(node.func)
                if func.endswith(("environ.get", "getenv", "environ.setdefault")) or func.startswith("env_"):
                    name = node.args[0].value if isinstance(node.args[0].value, str) else None
            elif isinstance(node, ast.Subscript) and ast.unparse(node.value).endswith("environ"):
                if isinstance(node.slice, ast.Constant) and isinstance(node.slice.value, str):
                    name = node.slice.value
            if name:
                found.setdefault(name, f"{rel(path)}:{node.lineno}")
    return found


# --------------------------------------------------------------------------- shell words

_EXPANSION = re.compile(
    r"\$(?:\{(?P<braced>[^}]*)\}|\((?P<k8s>[A-Za-z_][A-Za-z0-9_]*)\)|(?P<plain>[A-Za-z_][A-Za-z0-9_]*))"
)
_BRACED = re.compile(r"(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-=?+])(?P<word>.*))?", re.S)
_REDIRECTIONS = {">", ">>", "<", ">&", "<&", "&>", ">|"}
_SEPARATORS = {"&&", "||", ";", "|", "&", ";;"}


def expand(text: str, env: dict[str, str], seen: set[str]) -> str:
    """Expand $NAME, ${NAME}, ${NAME:-default}, ${NAME:?message} and $(NAME) (Kubernetes)."""

    def one(match: re.Match[str]) -> str:
        if match["braced"] is not None:
            parts = _BRACED.fullmatch(match["braced"])
            assert parts, f"cannot read the expansion {match[0]!r}"
            name, op, word = parts["name"], parts["op"] or "", parts["word"] or ""
        else:
            name, op, word = match["k8s"] or match["plain"], "", ""
        seen.add(name)
        value = env.get(name, RUNTIME_VARIABLES.get(name))
        if op.endswith("+"):
            return word if value else ""
        if value is None or (value == "" and op.startswith(":")):
            return word if op.endswith(("-", "=")) else ""
        return value

    return _EXPANSION.sub(one, text)


def simple_commands(line: str) -> list[list[str]]:
    """A shell line -> its simple commands' words (separators and redirections dropped)."""
    lexer = shlex.shlex(line, posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    commands: list[list[str]] = [[]]
    words = iter(lexer)
    for word in words:
        if word in _SEPARATORS:
            commands.append([])
        elif word in _REDIRECTIONS:
            next(words, None)
        elif word in {"{", "}", "(", ")", "!"}:
            continue
        else:
            commands[-1].append(word)
    return [command for command in commands if command]


@dataclass(frozen=True)
class RawCommand:
    """A command as a deploy file writes it: a shell line, or an exec-form word list."""

    where: str
    shell: str | None = None
    argv: tuple[str, ...] | None = None


@dataclass
class Command:
    where: str
    argv: list[str]
    variables: set[str] = field(default_factory=set)

    @property
    def program(self) -> str:
        return Path(self.argv[0]).name


# Programs that run the command after them: the command is what is checked.
WRAPPERS = {"exec", "env", "nohup", "scripts/restarting.sh"}


def resolve_commands(raw: RawCommand, env: dict[str, str]) -> list[Command]:
    """Expanded simple commands of ``raw``, looking through ``sh -c``, ``exec`` and ``env``."""
    seen: set[str] = set()
    if raw.shell is not None:
        argvs = simple_commands(expand(raw.shell, env, seen))
    else:
        assert raw.argv is not None
        argvs = [[expand(word, env, seen) for word in raw.argv]]
    commands: list[Command] = []
    for argv in argvs:
        while argv and (argv[0] in WRAPPERS or re.fullmatch(r"[A-Za-z_]\w*=.*", argv[0])):
            argv = argv[1:]
        if not argv:
            continue
        if Path(argv[0]).name in {"sh", "bash", "dash"} and "-c" in argv:
            script = argv[argv.index("-c") + 1]
            for inner in resolve_commands(RawCommand(raw.where, shell=script), env):
                inner.variables |= seen
                commands.append(inner)
        else:
            commands.append(Command(raw.where, argv, seen))
    return commands


# --------------------------------------------------------------------------- file parsers


def procfile_commands(path: Path) -> dict[str, RawCommand]:
    found: dict[str, RawCommand] = {}
    for number, line in enumerate(path.read_text().splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        match = re.fullmatch(r"([A-Za-z0-9_-]+):\s*(.+)", line)
        assert match, f"{rel(path)}:{number}: not 'name: command'"
        name, command = match.groups()
        assert name not in found, f"{rel(path)}:{number}: process {name} defined twice"
        found[name] = RawCommand(f"{rel(path)}:{name}", shell=command)
    return found


def unit_paths() -> list[Path]:
    return sorted(SYSTEMD.glob("*.service")) + sorted(SYSTEMD.glob("*.target"))


def unit_entries(path: Path) -> list[tuple[str, str, str]]:
    """(section, key, value) of a systemd unit, in order, continuation lines joined."""
    entries: list[tuple[str, str, str]] = []
    section = ""
    pending = ""
    for line in path.read_text().splitlines():
        if not pending and (not line.strip() or line.lstrip().startswith(("#", ";"))):
            continue
        line = pending + line.strip()
        if line.endswith("\\"):
            pending = line[:-1] + " "
            continue
        pending = ""
        if line.startswith("[") and line.endswith("]"):
            section = line[1:-1]
            continue
        key, sep, value = line.partition("=")
        assert sep, f"{rel(path)}: not key=value: {line!r}"
        entries.append((section, key.strip(), value.strip()))
    return entries


def unit_values(path: Path, section: str, key: str) -> list[str]:
    return [value for s, k, value in unit_entries(path) if s == section and k == key]


def systemd_commands() -> list[RawCommand]:
    found = []
    for path in unit_paths():
        for section, key, value in unit_entries(path):
            if section == "Service" and key.startswith("Exec"):
                # Special prefixes: - (ignore failure), @, :, +, ! and !!; %% is a literal %.
                line = re.sub(r"^[-@:+!]+", "", value).replace("$$", "$").replace("%%", "%")
                found.append(RawCommand(f"{rel(path)}:{key}", shell=line))
    return found


def systemd_environment(path: Path) -> dict[str, str]:
    env: dict[str, str] = {}
    for value in unit_values(path, "Service", "Environment"):
        for word in shlex.split(value):
            name, _, setting = word.partition("=")
            env[name] = setting
    return env


def dockerfile_instructions() -> list[tuple[str, str]]:
    instructions: list[tuple[str, str]] = []
    pending = ""
    for line in DOCKERFILE.read_text().splitlines():
        if line.lstrip().startswith("#") or (not pending and not line.strip()):
            continue
        line = pending + line.strip()
        if line.endswith("\\"):
            pending = line[:-1] + " "
            continue
        pending = ""
        keyword, _, rest = line.partition(" ")
        instructions.append((keyword.upper(), rest.strip()))
    return instructions


def dockerfile_raw(where: str, text: str) -> RawCommand:
    if text.startswith("["):
        return RawCommand(where, argv=tuple(json.loads(text)))
    return RawCommand(where, shell=text)


def dockerfile_commands() -> list[RawCommand]:
    found = []
    for keyword, rest in dockerfile_instructions():
        where = f"{rel(DOCKERFILE)}:{keyword}"
        if keyword in {"RUN", "CMD", "ENTRYPOINT"}:
            found.append(dockerfile_raw(where, rest))
        elif keyword == "HEALTHCHECK" and rest != "NONE":
            _, _, command = rest.partition("CMD ")
            found.append(dockerfile_raw(where, command.strip()))
    return found


def dockerfile_env() -> dict[str, str]:
    env: dict[str, str] = {}
    for keyword, rest in dockerfile_instructions():
        if keyword == "ENV":
            for word in shlex.split(rest):
                name, _, value = word.partition("=")
                env[name] = value
    return env


def compose() -> dict[str, Any]:
    data = yaml.safe_load(COMPOSE.read_text())
    assert isinstance(data, dict)
    return data


def compose_app_services() -> dict[str, dict[str, Any]]:
    """The services built from the project's image."""
    return {name: svc for name, svc in compose()["services"].items() if "build" in svc}


def compose_words(value: Any) -> tuple[str, ...] | str:
    """Compose unescapes $$ to $; lists are exec form, strings are split without a shell."""
    if isinstance(value, list):
        return tuple(str(word).replace("$$", "$") for word in value)
    return str(value).replace("$$", "$")


def compose_commands() -> list[RawCommand]:
    found = []
    for name, service in compose()["services"].items():
        for key in ("entrypoint", "command"):
            if key in service:
                words = compose_words(service[key])
                where = f"{rel(COMPOSE)}:{name}.{key}"
                if isinstance(words, tuple):
                    found.append(RawCommand(where, argv=words))
                else:
                    found.append(RawCommand(where, argv=tuple(shlex.split(words))))
        test = service.get("healthcheck", {}).get("test")
        where = f"{rel(COMPOSE)}:{name}.healthcheck"
        if isinstance(test, str):
            found.append(RawCommand(where, shell=test.replace("$$", "$")))
        elif isinstance(test, list) and test[0] == "CMD":
            found.append(RawCommand(where, argv=tuple(str(w).replace("$$", "$") for w in test[1:])))
        elif isinstance(test, list) and test[0] == "CMD-SHELL":
            found.append(RawCommand(where, shell=str(test[1]).replace("$$", "$")))
    return found


def k8s_documents() -> list[tuple[Path, dict[str, Any]]]:
    docs = []
    for path in sorted(K8S.glob("*.y*ml")):
        for doc in yaml.safe_load_all(path.read_text()):
            if doc is not None:
                docs.append((path, doc))
    return docs


def pod_spec(doc: dict[str, Any]) -> dict[str, Any] | None:
    kind = doc.get("kind")
    if kind in {"Deployment", "StatefulSet", "DaemonSet", "Job", "ReplicaSet"}:
        return doc["spec"]["template"]["spec"]
    if kind == "CronJob":
        return doc["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    if kind == "Pod":
        return doc["spec"]
    return None


def k8s_containers() -> Iterator[tuple[str, dict[str, Any], dict[str, Any]]]:
    """(where, workload document, container) for every container and init container."""
    for path, doc in k8s_documents():
        spec = pod_spec(doc)
        if spec is None:
            continue
        for container in [*spec.get("initContainers", []), *spec["containers"]]:
            yield f"{rel(path)}:{doc['metadata']['name']}/{container['name']}", doc, container


def k8s_commands() -> list[RawCommand]:
    found = []
    for where, _, container in k8s_containers():
        argv = [*container.get("command", []), *container.get("args", [])]
        if argv:
            found.append(RawCommand(where, argv=tuple(str(word) for word in argv)))
        handlers = [
            (probe, container.get(probe)) for probe in ("livenessProbe", "readinessProbe", "startupProbe")
        ]
        handlers += [
            (f"lifecycle.{hook}", hook_spec) for hook, hook_spec in container.get("lifecycle", {}).items()
        ]
        for name, handler in handlers:
            if handler and "exec" in handler:
                found.append(RawCommand(f"{where}.{name}", argv=tuple(handler["exec"]["command"])))
    return found


def k8s_http_probes() -> Iterator[tuple[str, dict[str, Any], dict[str, Any]]]:
    for where, doc, container in k8s_containers():
        for probe in ("livenessProbe", "readinessProbe", "startupProbe"):
            spec = container.get(probe)
            if spec and "httpGet" in spec:
                yield f"{where}.{probe}", doc, spec["httpGet"]


# Not SMS Bridge's own: the ingress controller's log format, applied to its namespace.
CONTROLLER_CONFIG = K8S / "ingress-nginx-logging.yaml"


def k8s_config_data() -> tuple[dict[str, str], dict[str, str]]:
    """(ConfigMap data, Secret stringData) of the manifests."""
    config: dict[str, str] = {}
    secret: dict[str, str] = {}
    for path, doc in k8s_documents():
        if path == CONTROLLER_CONFIG:
            continue
        if doc["kind"] == "ConfigMap":
            config.update(doc.get("data", {}))
        elif doc["kind"] == "Secret":
            secret.update(doc.get("stringData", {}))
    return config, secret


# --------------------------------------------------------------------------- command checks


def _celery_global_options() -> dict[str, bool]:
    """Option -> takes a value, for ``celery``'s own options (before the subcommand)."""
    options: dict[str, bool] = {}
    for param in celery_cli.params:
        if isinstance(param, click.Option):
            for opt in [*param.opts, *param.secondary_opts]:
                options[opt] = not (param.is_flag or param.count)
    return options


GUNICORN_CONFIG = "python:smsbridge.gunicorn_conf"


def check_gunicorn(command: Command) -> str:
    parser = GunicornConfig(usage="%(prog)s [OPTIONS] [APP_MODULE]", prog="gunicorn").parser()
    try:
        namespace = parser.parse_args(command.argv[1:])
    except SystemExit:
        pytest.fail(f"{command.where}: gunicorn rejects its options: {command.argv}")
    assert len(namespace.args) == 1, f"{command.where}: expected one WSGI target, got {namespace.args}"
    # The config module keeps query strings and raw numbers out of the access log.
    assert namespace.config == GUNICORN_CONFIG, (
        f"{command.where}: gunicorn without --config {GUNICORN_CONFIG}"
    )
    assert not namespace.access_log_format, f"{command.where}: --access-logformat overrides the safe one"
    module_name, _, attribute = namespace.args[0].partition(":")
    application = getattr(importlib.import_module(module_name), attribute or "application")
    assert callable(application), f"{command.where}: {namespace.args[0]} is not a WSGI callable"
    return f"gunicorn {namespace.args[0]}"


def check_celery(command: Command) -> str:
    from smsbridge.celery import app as celery_app

    options = _celery_global_options()
    args, app_name, index = command.argv[1:], None, 0
    while index < len(args) and args[index].startswith("-"):
        name, has_value, value = args[index].partition("=")
        if name not in options and name[:2] in options:  # -Asmsbridge
            name, value, has_value = name[:2], name[2:], "="
        assert name in options, f"{command.where}: celery has no global option {name}"
        if options[name] and not has_value:
            index += 1
            value = args[index]
        if name in {"-A", "--app"}:
            app_name = value
        index += 1
    assert app_name == "smsbridge", f"{command.where}: celery must run with -A smsbridge, not {app_name}"
    assert celery_app.main == "smsbridge"
    assert index < len(args), f"{command.where}: celery without a subcommand"
    sub, rest = args[index], args[index + 1 :]
    assert sub in {"worker", "beat", "flower", "inspect"}, f"{command.where}: unexpected celery {sub}"
    assert sub in celery_cli.commands, f"{command.where}: celery has no subcommand {sub}"
    parent = click.Context(
        celery_cli,
        info_name="celery",
        obj=CLIContext(app=celery_app, no_color=True, workdir=None, quiet=True),
    )
    try:
        ctx = celery_cli.commands[sub].make_context(sub, list(rest), parent=parent)
    except click.ClickException as exc:
        pytest.fail(f"{command.where}: celery {sub} rejects its options: {exc.format_message()}")
    kind = f"celery {sub}"
    if sub == "inspect":
        method = ctx.params["command"]
        assert not method.startswith("_") and callable(getattr(Inspect, method, None)), (
            f"{command.where}: celery inspect has no command {method}"
        )
        kind += f" {method}"
    elif sub == "flower":
        for word in ctx.params["tornado_argv"]:
            name = word.lstrip("-").partition("=")[0].replace("-", "_")
            assert word.startswith("--") and name in flower_options, f"{command.where}: Flower has no {word}"
        # flowerconfig.py refuses placeholder credentials; a path other than Flower's
        # default makes a missing file an error instead of being skipped.
        assert FLOWER_CONF in ctx.params["tornado_argv"], f"{command.where}: Flower without {FLOWER_CONF}"
    elif sub == "beat":
        # The scheduler that lets several beats run with only one sending tasks.
        assert ctx.params["scheduler"] == celeryconfig.beat_scheduler, (
            f"{command.where}: scheduler overridden"
        )
        import_string(celeryconfig.beat_scheduler.replace(":", "."))
    elif sub == "worker":
        return _worker_kind(command, ctx.params.get("queues") or [])
    return kind


FLOWER_CONF = "--conf=./flowerconfig.py"
QUEUES = frozenset(queue.name for queue in celeryconfig.task_queues)


def _longest_housekeeping_task() -> float:
    """The longest hard time limit of the tasks beat runs: a warm stop must outlast it."""
    from smsbridge.celery import app as celery_app

    celery_app.loader.import_default_modules()
    names = {entry["task"] for entry in celeryconfig.beat_schedule.values()}
    return max(celery_app.tasks[name].time_limit or celeryconfig.task_time_limit for name in names)


LONGEST_HOUSEKEEPING_TASK = _longest_housekeeping_task()


WORKER_KINDS = {
    frozenset({"celery"}): "celery worker",
    frozenset({"callbacks"}): "celery callbacks worker",
    frozenset({celeryconfig.HOUSEKEEPING_QUEUE}): "celery housekeeping worker",
}


def _worker_kind(command: Command, queues: list[str]) -> str:
    """The pool a worker command starts: "celery worker" on "celery", or the callbacks or housekeeping one."""
    unknown = set(queues) - QUEUES
    assert not unknown, f"{command.where}: the worker consumes queues nobody routes to: {unknown}"
    consumed = frozenset(queues or QUEUES)  # no -Q: every declared queue
    assert consumed in WORKER_KINDS or consumed == QUEUES, f"{command.where}: queues {sorted(consumed)}"
    return WORKER_KINDS.get(consumed, "celery worker")


def check_manage(command: Command, start: int) -> str:
    assert (ROOT / command.argv[start]).name == "manage.py" and (ROOT / "manage.py").is_file()
    assert len(command.argv) > start + 1, f"{command.where}: manage.py without a command"
    name, rest = command.argv[start + 1], command.argv[start + 2 :]
    commands = get_commands()
    assert name in commands, f"{command.where}: no management command {name!r}"
    parser = load_command_class(commands[name], name).create_parser("manage.py", name)
    try:
        parser.parse_args(rest)
    except CommandError as exc:
        pytest.fail(f"{command.where}: manage.py {name} rejects its arguments {rest}: {exc}")
    return f"manage.py {name}"


def check_command(command: Command) -> str | None:
    """Check a project command and name it ("celery worker"); None for other programs."""
    program = command.program
    if program == "gunicorn":
        return check_gunicorn(command)
    if program == "celery":
        return check_celery(command)
    if program == "manage.py":
        return check_manage(command, 0)
    if re.fullmatch(r"python(3(\.\d+)?)?", program) and len(command.argv) > 1:
        first = command.argv[1]
        if first.endswith("manage.py"):
            return check_manage(command, 1)
        if first == "-c":
            compile(command.argv[2], command.where, "exec")
            return "python -c"
        if first == "-m":
            assert importlib.util.find_spec(command.argv[2]), f"{command.where}: no module {command.argv[2]}"
            return f"python -m {command.argv[2]}"
    return None


def sample_environment() -> dict[str, str]:
    return {**env_example(), **dockerfile_env()}


def is_project_command(command: Command) -> bool:
    return command.program in {"gunicorn", "celery", "manage.py"} or bool(
        re.fullmatch(r"python(3(\.\d+)?)?", command.program)
    )


def checked_kinds(raws: list[RawCommand]) -> set[str]:
    """Check every project command of ``raws``; the kinds found ("celery worker", ...)."""
    env = sample_environment()
    return {
        kind for raw in raws for command in resolve_commands(raw, env) if (kind := check_command(command))
    }


def referenced_variables(raws: list[RawCommand]) -> set[str]:
    """Variables the project commands of ``raws`` expand (on their own line or in sh -c)."""
    env = sample_environment()
    return {
        name
        for raw in raws
        for command in resolve_commands(raw, env)
        if is_project_command(command)
        for name in command.variables
    }


def all_raw_commands() -> list[RawCommand]:
    raws = [raw for path in PROCFILES for raw in procfile_commands(path).values()]
    return raws + systemd_commands() + dockerfile_commands() + compose_commands() + k8s_commands()


WEB = "gunicorn smsbridge.wsgi:application"
PROCESS_KINDS = {
    WEB,
    "celery worker",
    "celery callbacks worker",
    "celery housekeeping worker",
    "celery beat",
    "celery flower",
}


QUERY_VARIABLES = ("$request ", '$request"', "$request_uri", "$args", "$query_string", "$arg_", "$is_args")


def assert_log_format_has_no_query(log_format: str) -> None:
    text = log_format + " "
    leaks = [name for name in QUERY_VARIABLES if name in text]
    assert not leaks, f"the access log format carries the query string: {leaks}"
    assert re.search(r"\$request_method \$(uri|smsbridge_log_path) \$server_protocol", text)


def redis_conf() -> dict[str, str]:
    """Directive -> value (the last one wins, as in Redis; ``save`` lines are joined)."""
    settings: dict[str, str] = {}
    for line in REDIS_CONF.read_text().splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        directive, _, value = line.strip().partition(" ")
        if directive == "save" and "save" in settings:
            value = f"{settings['save']} {value}"
        settings[directive.lower()] = value.strip().strip('"')
    return settings
