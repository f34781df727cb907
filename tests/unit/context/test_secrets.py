"""Secret files and secret-looking literals (each case names what it checks)."""

from __future__ import annotations

import pytest

from slm_lsp.workspace.secrets import REDACTED, is_secret_path, redact


@pytest.mark.parametrize(
    "path",
    [
        ".env",
        "app/.env.local",
        "certs/server.pem",
        "tls.key",
        "client.p12",
        "store.pfx",
        "home/.ssh/config",
        "id_rsa",
        "id_rsa.pub",
        "id_ed25519",
        ".netrc",
        "web/.npmrc",
        ".pypirc",
        "config/secrets.yml",
        "home/.aws/credentials",
        ".git-credentials",
        "terraform.tfstate",
        "gcp-service-account.json",
    ],
)
def test_secret_paths(path: str) -> None:
    assert is_secret_path(path)


@pytest.mark.parametrize(
    "path",
    [
        "app/settings.py",
        "src/keyboard.js",
        "env.py",
        "docs/secrets.md.txt/readme.py",
        "lib/tokenizer.rs",
        "environment.ts",
    ],
)
def test_ordinary_paths(path: str) -> None:
    assert not is_secret_path(path)


@pytest.mark.parametrize(
    "text",
    [
        'key = "AKIAIOSFODNN7EXAMPLE"',
        "token = 'ghp_" + "abcdefghijklmnopqrstuvwxyz0123456789'",
        'client = OpenAI(api_key="sk-proj-' + "a1b2c3d4e5f6g7h8i9j0k1l2" + '")',
        "SLACK = 'xoxb-1234567890-abcdefghij'",
        'password = "hunter22"',
        'DB_URL = "postgres://admin:s3cr3tpass@db.example.com/app"',
        "blob = 'aZ8kQ2pL9xW3vB7nM4cR6tY1uI5oP0'",
        "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA\n-----END RSA PRIVATE KEY-----",
        'jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U"',
    ],
)
def test_redacted(text: str) -> None:
    out = redact(text)
    assert REDACTED in out
    for secret in (
        "AKIAIOSFODNN7EXAMPLE",
        "ghp_abc",
        "sk-proj",
        "xoxb-",
        "hunter22",
        "s3cr3tpass",
        "aZ8kQ2pL9",
        "MIIEowIBAAKCAQEA",
        "eyJhbGci",
    ):
        assert secret not in out


@pytest.mark.parametrize(
    "text",
    [
        'name = "parse_config"',
        'path = "os.path.join"',
        'version = "1.2.3"',
        "msg = 'Hello, world! This is a long sentence.'",
        "password = get_password()",
        'password = ""',
        "x = 12345678901234567890",
    ],
)
def test_not_redacted(text: str) -> None:
    assert redact(text) == text
