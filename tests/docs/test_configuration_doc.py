"""docs/configuration.md names every environment variable the project reads.

The variables are found in the source with ``ast``, not with a regex, so a comment or a
docstring that mentions a name does not count and a new read cannot hide:
``os.environ.get("X")``, ``os.environ["X"]``, ``os.environ.setdefault("X", ...)``,
``os.getenv("X")``, ``"X" in os.environ`` and the settings helpers (``env_bool("X", ...)``,
``env_int``, ``env_list``, any ``env_*`` function) whose first argument names the variable.

Exempt: smsbridge/settings_test.py and tests/ (the suite's own defaults for variables
the settings read anyway) and scripts/bench.py, whose BENCH_* knobs are documented with
the benchmark in docs/benchmark.md (tested below).
"""

import ast
import re
from collections.abc import Iterable
from pathlib import Path

from .markdown import DOCS, ROOT, prose_lines, single_code_span

CONFIGURATION = DOCS / "configuration.md"
BENCHMARK = DOCS / "benchmark.md"
EXEMPT = {ROOT / "smsbridge" / "settings_test.py"}
ENVIRON_METHODS = {"get", "setdefault", "pop"}
ENV_HELPER = re.compile(r"^_?env(_\w+)?$")
# Process files whose ${VARIABLE} expansions are read by the shell, not by Python.
PROCESS_FILES = [ROOT / "deploy" / "Procfile", ROOT / "deploy" / "Procfile.dev"]


def project_sources() -> list[Path]:
    files = [ROOT / "celeryconfig.py", ROOT / "flowerconfig.py", ROOT / "manage.py"]
    files += sorted((ROOT / "smsbridge").glob("*.py")) + sorted((ROOT / "apps").rglob("*.py"))
    return [f for f in files if f not in EXEMPT]


def _dotted(node: ast.AST) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return f"{_dotted(node.value)}.{node.attr}"
    return ""


def _first_string(args: list[ast.expr]) -> str | None:
    if args and isinstance(args[0], ast.Constant) and isinstance(args[0].value, str):
        return args[0].value
    return None


def _is_environ(node: ast.AST) -> bool:
    return _dotted(node).split(".")[-1] == "environ"


def _name_read(node: ast.AST) -> str | None:
    if isinstance(node, ast.Call):
        func = node.func
        if isinstance(func, ast.Attribute) and func.attr in ENVIRON_METHODS and _is_environ(func.value):
            return _first_string(node.args)
        called = _dotted(func).split(".")[-1]
        if called == "getenv" or ENV_HELPER.match(called):
            return _first_string(node.args)
    if isinstance(node, ast.Subscript) and _is_environ(node.value):
        key = node.slice
        return key.value if isinstance(key, ast.Constant) and isinstance(key.value, str) else None
    if isinstance(node, ast.Compare) and any(_is_environ(c) for c in node.comparators):
        return _first_string([node.left])
    return None


def variables_read(files: Iterable[Path]) -> dict[str, set[str]]:
    """Environment variable name -> the files (relative paths) that read it."""
    found: dict[str, set[str]] = {}
    for path in files:
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            name = _name_read(node)
            if name:
                found.setdefault(name, set()).add(str(path.relative_to(ROOT)))
    return found


def process_variables() -> set[str]:
    names: set[str] = set()
    for path in PROCESS_FILES:
        names |= set(re.findall(r"\$\{([A-Z_][A-Z0-9_]*)", path.read_text()))
    return names


def documented(page: Path) -> set[str]:
    """Variables given a table row of their own: the row's first cell is exactly `NAME`."""
    names = set()
    for line in prose_lines(page.read_text()):
        if line.startswith("|"):
            first = single_code_span(line.strip().strip("|").split("|")[0].strip())
            if first and re.fullmatch(r"[A-Z][A-Z0-9_]*", first):
                names.add(first)
    return names


def test_the_collector_finds_each_kind_of_read() -> None:
    found = variables_read(project_sources())
    assert "smsbridge/settings.py" in found["DJANGO_SECRET_KEY"]  # os.environ.get
    assert "smsbridge/settings.py" in found["DJANGO_DEBUG"]  # env_bool
    assert "smsbridge/settings.py" in found["DATABASE_CONN_MAX_AGE"]  # env_int
    assert "smsbridge/settings.py" in found["DJANGO_ALLOWED_HOSTS"]  # env_list
    assert "apps/core/metrics.py" in found["PROMETHEUS_MULTIPROC_DIR"]  # outside the settings
    assert "smsbridge/settings_test.py" not in found["REDIS_URL"]


def test_every_variable_the_code_reads_is_documented() -> None:
    missing = {
        name: sorted(files)
        for name, files in variables_read(project_sources()).items()
        if name not in documented(CONFIGURATION)
    }
    assert not missing, f"add a row to docs/configuration.md for each of: {missing}"


def test_every_variable_the_process_files_expand_is_documented() -> None:
    missing = sorted(process_variables() - documented(CONFIGURATION))
    assert not missing, f"add a row to docs/configuration.md for each of: {missing}"


def test_every_documented_variable_is_still_used_somewhere() -> None:
    """A row for a variable nothing reads any more is a lie: the code, deploy/ and the Makefile."""
    haystack = "\n".join(
        path.read_text(errors="replace")
        for path in [*project_sources(), ROOT / "Makefile", *sorted((ROOT / "deploy").rglob("*"))]
        if path.is_file()
    )
    unused = sorted(name for name in documented(CONFIGURATION) if not re.search(rf"\b{name}\b", haystack))
    assert not unused, f"docs/configuration.md documents variables nothing reads: {unused}"


def test_every_benchmark_knob_is_documented_with_the_benchmark() -> None:
    read = set(variables_read([ROOT / "scripts" / "bench.py"]))
    knobs = {name for name in read if name.startswith("BENCH_")}
    assert knobs, "scripts/bench.py reads no BENCH_* variable any more: update this test"
    missing = sorted(knobs - documented(BENCHMARK))
    assert not missing, f"add a row to docs/benchmark.md for each of: {missing}"
