"""deploy/docker-compose.yml and the image it builds, deploy/Dockerfile."""

import re

from django.urls import resolve

import celeryconfig
from tests.deploy.helpers import (
    DEPLOY,
    DOCKERFILE,
    LONGEST_HOUSEKEEPING_TASK,
    REDIS_CONF,
    ROOT,
    compose,
    dockerfile_instructions,
    env_example,
    redis_conf,
)


def test_compose_has_the_services_and_wires_them() -> None:
    services = compose()["services"]
    assert set(services) >= {
        *("postgres", "redis", "redis-cache", "migrate"),
        *("web", "worker", "callbacks", "housekeeping", "beat", "flower"),
    }
    assert services["postgres"]["image"].startswith("postgres:")
    assert "pg_isready" in str(services["postgres"]["healthcheck"]["test"])
    for name in ("migrate", "web", "worker", "beat", "flower"):
        build = services[name]["build"]
        assert (DEPLOY / build["context"] / build["dockerfile"]).resolve() == DOCKERFILE
    for name in ("web", "worker", "callbacks", "housekeeping", "beat"):
        depends = services[name]["depends_on"]
        assert depends["migrate"]["condition"] == "service_completed_successfully", name
        assert depends["redis"]["condition"] == "service_healthy", name
    for name in ("postgres", "redis"):
        assert services["migrate"]["depends_on"][name]["condition"] == "service_healthy"
    env = services["web"]["environment"]
    assert re.match(r"redis://redis:6379/", env["REDIS_URL"])
    assert re.match(r"redis://redis:6379/", env["CELERY_BROKER_URL"])
    assert re.match(r"redis://redis-cache:6379/", env["CACHE_URL"]), "the cache goes to the LRU instance"
    # A warm shutdown needs longer than the longest task.
    for name in ("worker", "callbacks"):
        assert _seconds(services[name]["stop_grace_period"]) > celeryconfig.task_time_limit
    assert _seconds(services["housekeeping"]["stop_grace_period"]) > LONGEST_HOUSEKEEPING_TASK


def _seconds(duration: str) -> float:
    units = {"h": 3600, "m": 60, "s": 1}
    return sum(float(n) * units[u] for n, u in re.findall(r"(\d+(?:\.\d+)?)([hms])", duration))


def _redis_directives(words: list[str]) -> dict[str, str]:
    """``--name value`` pairs of a redis-server command line."""
    out: dict[str, str] = {}
    for index, word in enumerate(words):
        if word.startswith("--"):
            out[word[2:]] = words[index + 1] if index + 1 < len(words) else ""
    return out


def test_compose_redis_data_instance_is_durable_and_never_evicts() -> None:
    service = compose()["services"]["redis"]
    words = [str(word) for word in service["command"]]
    assert words[0] == "redis-server"
    mounts = {volume.split(":")[1]: volume.split(":")[0] for volume in service["volumes"]}
    conf = (DEPLOY / mounts[words[1]]).resolve()
    assert conf == REDIS_CONF, "the data instance runs deploy/redis.conf"
    settings = {**redis_conf(), **_redis_directives(words[2:])}
    assert settings["appendonly"] == "yes"
    assert settings["maxmemory-policy"] == "noeviction"


def test_compose_redis_cache_instance_is_lru_without_persistence() -> None:
    words = [str(word) for word in compose()["services"]["redis-cache"]["command"]]
    settings = _redis_directives(words[1:])
    assert settings["maxmemory-policy"] == "allkeys-lru"
    assert settings["appendonly"] == "no" and settings["save"] == ""
    assert settings["maxmemory"]


def test_dockerfile_builds_a_non_root_web_image_with_a_healthcheck() -> None:
    instructions = dockerfile_instructions()
    keywords = [keyword for keyword, _ in instructions]
    assert keywords[0] == "FROM" and instructions[0][1].startswith("python:3.11")
    for keyword in ("CMD", "HEALTHCHECK", "USER", "EXPOSE"):
        assert keyword in keywords, f"Dockerfile has no {keyword}"
    user = [rest for keyword, rest in instructions if keyword == "USER"][-1]
    assert user.split(":")[0] not in {"root", "0"}
    assert "8000" in next(rest for keyword, rest in instructions if keyword == "EXPOSE").split()
    for keyword, rest in instructions:
        if keyword == "COPY":
            sources = [word for word in rest.split()[:-1] if not word.startswith("--")]
            for source in sources:
                assert (ROOT / source).exists(), f"COPY {source}: not in the build context"
        if keyword == "RUN":
            for requirement in re.findall(r"-r\s+(\S+)", rest):
                assert (ROOT / requirement).is_file(), requirement
    healthcheck = next(rest for keyword, rest in instructions if keyword == "HEALTHCHECK")
    path = re.search(r"(/health/\w+)", healthcheck)
    assert path and resolve(path[1]), "the HEALTHCHECK calls a project URL"
    assert "localhost" in healthcheck and "localhost" in env_example()["DJANGO_ALLOWED_HOSTS"].split(",")
