"""Secret detection: files that are never indexed nor quoted in a prompt, and redaction of key-like literals.

Two checks, both used for cross-file snippets and for the current file's own prompt text:

* ``is_secret_path`` — by name: dotenv files, private keys and certificates, SSH keys, package
  manager and cloud credential stores (the tables below);
* ``redact`` — by content: private-key blocks, tokens with a known prefix (AWS, GitHub, OpenAI,
  Slack, Google, Stripe, JWT), values assigned to password/secret/token-like names, passwords in
  URLs, and high-entropy string literals. Each is replaced by ``REDACTED`` (the same text every
  time, so prompts stay stable for the model's KV cache).
"""

from __future__ import annotations

import fnmatch
import math
import os
import re
from collections import Counter
from functools import lru_cache

#: What a secret is replaced with.
REDACTED = "<redacted>"

#: File-name globs (matched case-insensitively against the base name) that hold secrets.
SECRET_NAME_GLOBS: tuple[str, ...] = (
    ".env",
    ".env.*",
    "*.env",
    "*.pem",
    "*.key",
    "*.p12",
    "*.pfx",
    "*.jks",
    "*.keystore",
    "*.kdbx",
    "*.ppk",
    "*.gpg",
    "*.asc",
    "*.tfstate",
    "*.tfstate.*",
    "*.tfvars",
    "id_rsa*",
    "id_dsa*",
    "id_ecdsa*",
    "id_ed25519*",
    ".netrc",
    "_netrc",
    ".npmrc",
    ".yarnrc.yml",
    ".pypirc",
    ".pgpass",
    ".git-credentials",
    ".gitcredentials",
    ".dockercfg",
    ".htpasswd",
    ".vault-token",
    "secrets.*",
    "secret.*",
    "credentials",
    "*credentials*.json",
    "*service-account*.json",
    "client_secret*.json",
    "keystore.*",
)

#: Folders (by name) whose whole content is secret.
SECRET_DIRS: frozenset[str] = frozenset(
    {".ssh", ".gnupg", ".aws", ".azure", ".password-store", ".docker", ".kube"}
)

#: Path endings (``/``-separated, case-insensitive) that are credential stores wherever they live.
SECRET_SUFFIXES: tuple[str, ...] = (
    ".aws/credentials",
    ".aws/config",
    ".docker/config.json",
    ".kube/config",
    ".config/gcloud/credentials.db",
    ".config/gh/hosts.yml",
)

_NAME_RE = re.compile(
    "|".join(f"(?:{fnmatch.translate(g)})" for g in SECRET_NAME_GLOBS), re.IGNORECASE
)


@lru_cache(maxsize=4096)
def _name_is_secret(name: str) -> bool:
    return _NAME_RE.match(name) is not None


def is_secret_path(path: str | os.PathLike[str]) -> bool:
    """Whether the file at ``path`` holds secrets by its name or folder, and must never be read into a prompt."""
    p = os.fspath(path).replace("\\", "/")
    name = p.rsplit("/", 1)[-1]
    if _name_is_secret(name):
        return True
    parts = p.split("/")[:-1]
    if any(part in SECRET_DIRS for part in parts):
        return True
    low = p.lower()
    return any(low.endswith(s) for s in SECRET_SUFFIXES)


# ------------------------------------------------------------------------------------------ content
#: Tokens recognised by their prefix or shape.
_KNOWN_TOKENS = re.compile(
    r"""
    (?:AKIA|ASIA|AGPA|AIDA|AROA|ANPA|ANVA|AIPA)[0-9A-Z]{16}     # AWS access key id
  | gh[pousr]_[A-Za-z0-9]{30,}                                  # GitHub tokens
  | github_pat_[A-Za-z0-9_]{30,}
  | glpat-[A-Za-z0-9_\-]{20,}                                   # GitLab
  | sk-(?:proj-|ant-|live-)?[A-Za-z0-9_\-]{20,}                 # OpenAI / Anthropic style
  | (?:sk|rk|pk)_(?:live|test)_[A-Za-z0-9]{16,}                 # Stripe
  | xox[abposr]-[A-Za-z0-9\-]{10,}                              # Slack
  | AIza[0-9A-Za-z_\-]{35}                                      # Google API key
  | ya29\.[0-9A-Za-z_\-]{20,}                                   # Google OAuth
  | eyJ[A-Za-z0-9_\-]{10,}\.eyJ[A-Za-z0-9_\-]{10,}\.[A-Za-z0-9_\-]{10,}   # JWT
  | npm_[A-Za-z0-9]{36}
  | hf_[A-Za-z0-9]{30,}                                         # Hugging Face
    """,
    re.VERBOSE,
)
_PEM_BLOCK = re.compile(
    r"-----BEGIN [A-Z0-9 ]*(?:PRIVATE KEY|CERTIFICATE|KEY BLOCK)[A-Z ]*-----.*?(?:-----END [A-Z0-9 ]*-----|\Z)",
    re.DOTALL,
)
_URL_PASSWORD = re.compile(
    r"(?P<head>[a-zA-Z][a-zA-Z0-9+.\-]*://[^/\s:@'\"]+:)(?P<pw>[^@\s'\"/]{3,})(?=@)"
)
#: ``password = "..."``-style assignments (any language): the value is redacted whatever it looks like.
_SECRET_ASSIGN = re.compile(
    r"""(?P<head>\b[\w.\-]*(?:passw(?:or)?d|passwd|pwd|secret|token|api[_\-]?key|apikey|access[_\-]?key|private[_\-]?key|auth[_\-]?key|client[_\-]?secret|credentials?)[\w\-]*["']?\s*(?::=|=>|=|:)\s*[bru]{0,2}(?P<q>["'`]))(?P<val>[^"'`\n]{6,})(?P=q)""",
    re.IGNORECASE,
)
_STRING_LITERAL = re.compile(r"""(?P<q>["'`])(?P<val>[A-Za-z0-9+/=_\-.~]{20,})(?P=q)""")
#: Shannon entropy (bits per character) above which a mixed literal looks random.
ENTROPY_THRESHOLD = 4.0
#: The same for hex-only literals (their alphabet is smaller).
HEX_ENTROPY_THRESHOLD = 3.0


def _entropy(s: str) -> float:
    n = len(s)
    return -sum(c / n * math.log2(c / n) for c in Counter(s).values())


def looks_random(value: str) -> bool:
    """Whether a literal looks like a key or token: long, letters and digits mixed, high entropy."""
    if (
        len(value) < 20
        or not any(c.isdigit() for c in value)
        or not any(c.isalpha() for c in value)
    ):
        return False
    if value.count(".") >= 2 and not any(c in value for c in "+/="):
        return False  # dotted names and version strings
    if re.fullmatch(r"[0-9a-fA-F\-]+", value):
        return len(value.replace("-", "")) >= 32 and _entropy(value) >= HEX_ENTROPY_THRESHOLD
    return _entropy(value) >= ENTROPY_THRESHOLD


def _redact_assign(m: re.Match[str]) -> str:
    val = m.group("val")
    if (
        val.strip() in ("", REDACTED)
        or val.startswith(("${", "{{", "%(", "<"))
        or " " in val.strip()
        and not looks_random(val.replace(" ", ""))
    ):
        return m.group(0)
    return f"{m.group('head')}{REDACTED}{m.group('q')}"


def _redact_literal(m: re.Match[str]) -> str:
    if looks_random(m.group("val")):
        return f"{m.group('q')}{REDACTED}{m.group('q')}"
    return m.group(0)


def redact(text: str) -> str:
    """``text`` with private keys, known tokens, assigned passwords/secrets and random-looking literals replaced by ``REDACTED``."""
    if not text:
        return text
    if "-----BEGIN" in text:
        text = _PEM_BLOCK.sub(REDACTED, text)
    text = _KNOWN_TOKENS.sub(REDACTED, text)
    if "://" in text:
        text = _URL_PASSWORD.sub(lambda m: m.group("head") + REDACTED, text)
    text = _SECRET_ASSIGN.sub(_redact_assign, text)
    return _STRING_LITERAL.sub(_redact_literal, text)
