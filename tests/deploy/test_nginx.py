"""deploy/nginx/smsbridge.conf, parsed and, where installed, accepted by nginx -t."""

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from django.urls import resolve

from tests.deploy.helpers import NGINX, assert_log_format_has_no_query


def nginx_tokens(text: str) -> list[str]:
    """Words and the characters { } ; of an nginx config, without comments or quotes."""
    tokens: list[str] = []
    for match in re.finditer(r"#[^\n]*|\"(?:\\.|[^\"\\])*\"|'(?:\\.|[^'\\])*'|[{};]|[^\s{};#\"']+", text):
        word = match[0]
        if not word.startswith("#"):
            tokens.append(word)
    return tokens


def test_nginx_config_is_balanced_and_limits_bodies() -> None:
    tokens = nginx_tokens(NGINX.read_text())
    depth = 0
    for token in tokens:
        depth += {"{": 1, "}": -1}.get(token, 0)
        assert depth >= 0, "a closing brace without an opening one"
    assert depth == 0, "unbalanced braces"
    text = " ".join(tokens)
    size = re.search(r"client_max_body_size (\d+)([kKmM]?) ;", text)
    assert size, "client_max_body_size is not set"
    limit = int(size[1]) * {"": 1, "k": 1024, "m": 1024 * 1024}[size[2].lower()]
    assert limit <= 64 * 1024, "nginx must not accept bodies the API refuses anyway"
    upstreams = set(re.findall(r"upstream (\S+) {", text))
    for target in re.findall(r"proxy_pass https?://([^/;\s]+)", text):
        assert target in upstreams, f"proxy_pass to an undefined upstream {target}"
    for header in ("X-Forwarded-Proto", "X-Forwarded-Host", "Host"):
        assert re.search(rf"proxy_set_header {header} ", text), header
    assert "limit_req_zone" in text and re.search(r"location /sms/receive { limit_req ", text)
    resolve("/sms/receive")


def test_nginx_logs_paths_without_query_strings_or_numbers() -> None:
    text = " ".join(nginx_tokens(NGINX.read_text()))
    formats = dict(re.findall(r"log_format (\S+) ((?:'[^']*' ?)+);", text))
    assert set(formats) == {"smsbridge"}
    assert_log_format_has_no_query(formats["smsbridge"])
    servers = text.count("server { listen")
    assert len(re.findall(r"access_log \S+ smsbridge ;", text)) == servers, "every server logs in that format"
    # The map hides the number in /onboard/register/<number> and its kind.
    pattern = re.search(r'map \$uri \$smsbridge_log_path { ~(\S+) "\$\{smsbridge_kept\}<number>" ;', text)
    assert pattern, "the map of logged paths"
    regex = pattern[1].replace("?<smsbridge_kept>", "?P<smsbridge_kept>")
    for path in ("/onboard/register/9876543210", "/onboard/status/+14155550123", "/otp/status/9876543210"):
        kept = re.match(regex, path)
        assert kept and kept["smsbridge_kept"] + "<number>" != path and "98765" not in kept["smsbridge_kept"]
    assert not re.match(regex, "/sms/receive/jasmin/0b0e")


OPENSSL_SELF_SIGNED = [
    "openssl",
    "req",
    "-x509",
    "-newkey",
    "rsa:2048",
    "-nodes",
    "-days",
    "1",
    "-subj",
    "/CN=t",
]


def _temp_paths(root: Path) -> str:
    """nginx's temporary directories under ``root``: its compiled-in ones (/var/lib/nginx)
    exist only where the package is installed, not where make test unpacked the binary."""
    kinds = ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    return "".join(f"  {kind}_temp_path {root}/{kind};\n" for kind in kinds)


@pytest.mark.skipif(
    shutil.which("nginx") is None or shutil.which("openssl") is None, reason="nginx or openssl not installed"
)
def test_nginx_accepts_the_config(tmp_path: Path) -> None:
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        [*OPENSSL_SELF_SIGNED, "-keyout", str(key), "-out", str(cert)],
        check=True,
        capture_output=True,
        timeout=60,
    )
    site = re.sub(r"ssl_certificate_key \S+;", f"ssl_certificate_key {key};", NGINX.read_text())
    site = re.sub(r"ssl_certificate \S+;", f"ssl_certificate {cert};", site)
    # Logs and the ACME webroot where an unpacked nginx may write (no /var/log/nginx).
    site = site.replace("/var/log/nginx/", f"{tmp_path}/").replace("/var/www/", f"{tmp_path}/www/")
    (tmp_path / "site.conf").write_text(site)
    (tmp_path / "nginx.conf").write_text(
        f"pid {tmp_path}/nginx.pid;\nerror_log {tmp_path}/error.log;\nevents {{}}\n"
        f"http {{\n  access_log off;\n{_temp_paths(tmp_path)}  include {tmp_path}/site.conf;\n}}\n"
    )
    result = subprocess.run(
        [
            "nginx",
            "-t",
            "-p",
            str(tmp_path),
            "-e",
            str(tmp_path / "error.log"),
            "-c",
            str(tmp_path / "nginx.conf"),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
