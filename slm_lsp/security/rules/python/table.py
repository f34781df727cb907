"""Python rules, at parity with bandit's source checks (each rule records its bandit test id).

How it runs: one combined query captures imports and simple assignments (phase 0, facts), then
calls, keyword arguments, strings, ``except`` clauses, asserts and function defaults (phase 1).
Calls are dispatched through two tables: by qualified name after alias resolution
(``CALLS_BY_QUAL``) and by the called name alone (``CALLS_BY_NAME``), so the per-call cost is a
dict lookup. Simple checks are table rows (``BLACKLIST_CALLS``, ``BLACKLIST_IMPORTS``).
"""

from __future__ import annotations

import re
import shlex
import stat
from collections.abc import Callable
from typing import TYPE_CHECKING

from slm_lsp.security.core import FileContext, Pattern, RuleSet, text_of
from slm_lsp.security.model import Fix, Rule
from slm_lsp.security.rules.pyutil import (
    STRINGISH,
    Call,
    add_keyword,
    collect_assignment,
    collect_import,
    collect_params,
    is_fstring,
    is_imported_exact,
    is_imported_like,
    literal,
    qualname,
    remove_keyword,
    replace_attr,
    resolve_value,
    string_parts,
    string_value,
    truthy_shell,
)

if TYPE_CHECKING:  # pragma: no cover
    from tree_sitter import Node

LANGS = ("python",)
#: Seconds put into ``timeout=`` by the quick fix for requests/httpx calls without one.
FIX_TIMEOUT_S = 30

RULES: list[Rule] = []


def _rule(
    id: str,
    bandit: str | None,
    title: str,
    cwe: int,
    severity: str,
    confidence: str,
    message: str,
    help: str,
    bad: str,
    good: str,
    fixable: bool = False,
) -> str:
    RULES.append(
        Rule(id, title, cwe, severity, confidence, message, help, good, bad, LANGS, bandit, fixable)
    )
    return id


# ====================================================================== rule table
B101 = _rule(
    "PY-B101",
    "B101",
    "assert used",
    703,
    "low",
    "high",
    "Use of assert detected. The enclosed code will be removed when compiling to optimised byte code.",
    "`python -O` strips asserts; never use them to enforce security or validate input.",
    "assert user.is_admin",
    "if not user.is_admin:\n    raise PermissionError",
)
B102 = _rule(
    "PY-B102",
    "B102",
    "exec used",
    78,
    "medium",
    "high",
    "Use of exec detected.",
    "exec runs arbitrary code; build behaviour from data instead.",
    "exec(code)",
    "handlers[name]()",
)
B103 = _rule(
    "PY-B103",
    "B103",
    "permissive file permissions",
    732,
    "medium",
    "high",
    "Chmod setting a permissive mask on a file.",
    "Group/world-writable or executable modes let other users change or run the file.",
    "os.chmod(path, 0o777)",
    "os.chmod(path, 0o600)",
)
B104 = _rule(
    "PY-B104",
    "B104",
    "binding to all interfaces",
    605,
    "medium",
    "medium",
    "Possible binding to all interfaces.",
    "Listening on 0.0.0.0 exposes the service on every network; bind to a specific address.",
    "sock.bind(('0.0.0.0', 80))",
    "sock.bind(('127.0.0.1', 80))",
)
B105 = _rule(
    "PY-B105",
    "B105",
    "hard-coded password string",
    259,
    "low",
    "medium",
    "Possible hardcoded password.",
    "Secrets in source end up in version control; read them from the environment or a secret store.",
    "password = 'hunter2'",
    "password = os.environ['DB_PASSWORD']",
)
B106 = _rule(
    "PY-B106",
    "B106",
    "hard-coded password argument",
    259,
    "low",
    "medium",
    "Possible hardcoded password passed as an argument.",
    "Pass secrets from configuration, not literals.",
    "connect(password='hunter2')",
    "connect(password=os.environ['DB_PASSWORD'])",
)
B107 = _rule(
    "PY-B107",
    "B107",
    "hard-coded password default",
    259,
    "low",
    "medium",
    "Possible hardcoded password as a function default.",
    "A default secret is a shared secret; require the caller to pass it.",
    "def login(user, password='admin'): ...",
    "def login(user, password): ...",
)
B108 = _rule(
    "PY-B108",
    "B108",
    "hard-coded temp path",
    377,
    "medium",
    "medium",
    "Probable insecure usage of temp file/directory.",
    "Fixed names in shared temp folders invite symlink and race attacks; use the tempfile module.",
    "open('/tmp/out.txt', 'w')",
    "tempfile.NamedTemporaryFile('w')",
)
B110 = _rule(
    "PY-B110",
    "B110",
    "try/except/pass",
    703,
    "low",
    "high",
    "Try, Except, Pass detected.",
    "Silently swallowing every exception hides failures, including security checks that failed.",
    "try:\n    check()\nexcept Exception:\n    pass",
    "try:\n    check()\nexcept ValueError:\n    log.warning('bad value')",
)
B112 = _rule(
    "PY-B112",
    "B112",
    "try/except/continue",
    703,
    "low",
    "high",
    "Try, Except, Continue detected.",
    "Skipping an item on any exception hides failures.",
    "for x in xs:\n    try:\n        f(x)\n    except Exception:\n        continue",
    "for x in xs:\n    try:\n        f(x)\n    except ValueError:\n        log.warning('skip %s', x)\n        continue",
)
B113 = _rule(
    "PY-B113",
    "B113",
    "request without timeout",
    400,
    "medium",
    "low",
    "Call to requests/httpx without a timeout.",
    "Without a timeout a slow server hangs the caller forever.",
    "requests.get(url)",
    "requests.get(url, timeout=30)",
    True,
)
B201 = _rule(
    "PY-B201",
    "B201",
    "Flask debug mode",
    94,
    "high",
    "medium",
    "A Flask app appears to be run with debug=True, which exposes the Werkzeug debugger and allows the execution of arbitrary code.",
    "The Werkzeug debugger executes code typed into the browser.",
    "app.run(debug=True)",
    "app.run(debug=False)",
    True,
)
B202 = _rule(
    "PY-B202",
    "B202",
    "tarfile extractall without filter",
    22,
    "high",
    "high",
    "tarfile.extractall used without any validation. Please check and discard dangerous members.",
    "Archive members named ../x or /etc/x escape the target folder; pass filter='data' (Python 3.12+).",
    "tar.extractall(dest)",
    "tar.extractall(dest, filter='data')",
    True,
)
B301 = _rule(
    "PY-B301",
    "B301",
    "pickle deserialization",
    502,
    "medium",
    "high",
    "Pickle and modules that wrap it can be unsafe when used to deserialize untrusted data, possible security issue.",
    "Unpickling runs code chosen by whoever wrote the data; use JSON for untrusted input.",
    "pickle.loads(data)",
    "json.loads(data)",
)
B302 = _rule(
    "PY-B302",
    "B302",
    "marshal deserialization",
    502,
    "medium",
    "high",
    "Deserialization with the marshal module is possibly dangerous.",
    "marshal is not safe against malicious data.",
    "marshal.loads(data)",
    "json.loads(data)",
)
B303 = _rule(
    "PY-B303",
    "B303",
    "insecure hash (MD2/MD4/MD5/SHA1)",
    327,
    "medium",
    "high",
    "Use of insecure MD2, MD4, MD5, or SHA1 hash function.",
    "These hashes are broken for collision resistance; use SHA-256 or better.",
    "Crypto.Hash.MD5.new()",
    "Crypto.Hash.SHA256.new()",
)
B304 = _rule(
    "PY-B304",
    "B304",
    "insecure cipher",
    327,
    "high",
    "high",
    "Use of insecure cipher. Replace with a known secure cipher such as AES.",
    "DES, RC4, Blowfish and friends are broken or have small blocks.",
    "Crypto.Cipher.DES.new(key)",
    "Crypto.Cipher.AES.new(key, AES.MODE_GCM)",
)
B305 = _rule(
    "PY-B305",
    "B305",
    "insecure cipher mode ECB",
    327,
    "medium",
    "high",
    "Use of insecure cipher mode ECB.",
    "ECB encrypts equal blocks to equal ciphertext and leaks patterns; use GCM or CBC with a MAC.",
    "modes.ECB()",
    "modes.GCM(iv)",
)
B306 = _rule(
    "PY-B306",
    "B306",
    "tempfile.mktemp",
    377,
    "medium",
    "high",
    "Use of insecure and deprecated function (mktemp).",
    "mktemp returns a name another process can create first; mkstemp creates the file atomically.",
    "name = tempfile.mktemp()",
    "fd, name = tempfile.mkstemp()",
    True,
)
B307 = _rule(
    "PY-B307",
    "B307",
    "eval used",
    78,
    "medium",
    "high",
    "Use of possibly insecure function - consider using safer ast.literal_eval.",
    "eval runs arbitrary expressions; ast.literal_eval accepts only literals.",
    "eval(text)",
    "ast.literal_eval(text)",
    True,
)
B308 = _rule(
    "PY-B308",
    "B308",
    "mark_safe",
    79,
    "medium",
    "high",
    "Use of mark_safe() may expose cross-site scripting vulnerabilities and should be reviewed.",
    "mark_safe turns off Django's escaping for the string.",
    "mark_safe(user_text)",
    "format_html('<b>{}</b>', user_text)",
)
B310 = _rule(
    "PY-B310",
    "B310",
    "urlopen with any scheme",
    22,
    "medium",
    "high",
    "Audit url open for permitted schemes. Allowing use of file:/ or custom schemes is often unexpected.",
    "urllib opens file:// and custom schemes too; check the scheme first.",
    "urllib.request.urlopen(url)",
    "if urlparse(url).scheme in ('http', 'https'):\n    urllib.request.urlopen(url)",
)
B311 = _rule(
    "PY-B311",
    "B311",
    "random for security",
    330,
    "low",
    "high",
    "Standard pseudo-random generators are not suitable for security/cryptographic purposes.",
    "random is predictable; use the secrets module for tokens, passwords and keys.",
    "token = random.choice(alphabet)",
    "token = secrets.choice(alphabet)",
    True,
)
B312 = _rule(
    "PY-B312",
    "B312",
    "telnetlib",
    319,
    "high",
    "high",
    "Telnet-related functions are being called. Telnet is considered insecure. Use SSH or some other encrypted protocol.",
    "Telnet sends credentials in clear text.",
    "telnetlib.Telnet(host)",
    "paramiko.SSHClient()",
)
B313 = _rule(
    "PY-B313",
    "B313",
    "xml.etree.cElementTree parse",
    20,
    "medium",
    "high",
    "Using xml.etree.cElementTree to parse untrusted XML data is known to be vulnerable to XML attacks. Use defusedxml.",
    "Entity expansion and external entities; defusedxml blocks them.",
    "xml.etree.cElementTree.parse(f)",
    "defusedxml.ElementTree.parse(f)",
)
B314 = _rule(
    "PY-B314",
    "B314",
    "xml.etree.ElementTree parse",
    20,
    "medium",
    "high",
    "Using xml.etree.ElementTree to parse untrusted XML data is known to be vulnerable to XML attacks. Use defusedxml.",
    "Entity expansion attacks; defusedxml blocks them.",
    "ElementTree.fromstring(data)",
    "defusedxml.ElementTree.fromstring(data)",
)
B315 = _rule(
    "PY-B315",
    "B315",
    "xml.sax.expatreader",
    20,
    "medium",
    "high",
    "Using xml.sax.expatreader to parse untrusted XML data is known to be vulnerable to XML attacks. Use defusedxml.",
    "Use defusedxml.expatreader.",
    "xml.sax.expatreader.create_parser()",
    "defusedxml.expatreader.create_parser()",
)
B316 = _rule(
    "PY-B316",
    "B316",
    "xml.dom.expatbuilder",
    20,
    "medium",
    "high",
    "Using xml.dom.expatbuilder to parse untrusted XML data is known to be vulnerable to XML attacks. Use defusedxml.",
    "Use defusedxml.expatbuilder.",
    "xml.dom.expatbuilder.parse(f)",
    "defusedxml.expatbuilder.parse(f)",
)
B317 = _rule(
    "PY-B317",
    "B317",
    "xml.sax parse",
    20,
    "medium",
    "high",
    "Using xml.sax to parse untrusted XML data is known to be vulnerable to XML attacks. Use defusedxml.",
    "Use defusedxml.sax.",
    "xml.sax.parseString(data, handler)",
    "defusedxml.sax.parseString(data, handler)",
)
B318 = _rule(
    "PY-B318",
    "B318",
    "xml.dom.minidom parse",
    20,
    "medium",
    "high",
    "Using xml.dom.minidom to parse untrusted XML data is known to be vulnerable to XML attacks. Use defusedxml.",
    "Use defusedxml.minidom.",
    "minidom.parseString(data)",
    "defusedxml.minidom.parseString(data)",
)
B319 = _rule(
    "PY-B319",
    "B319",
    "xml.dom.pulldom parse",
    20,
    "medium",
    "high",
    "Using xml.dom.pulldom to parse untrusted XML data is known to be vulnerable to XML attacks. Use defusedxml.",
    "Use defusedxml.pulldom.",
    "pulldom.parseString(data)",
    "defusedxml.pulldom.parseString(data)",
)
B320 = _rule(
    "PY-S006",
    None,
    "lxml parse",
    20,
    "medium",
    "high",
    "Using lxml.etree to parse untrusted XML data is known to be vulnerable to XML attacks. Use defusedxml or a parser with resolve_entities=False.",
    "lxml resolves entities by default in older versions.",
    "lxml.etree.fromstring(data)",
    "lxml.etree.fromstring(data, parser=etree.XMLParser(resolve_entities=False))",
)
B321 = _rule(
    "PY-B321",
    "B321",
    "ftplib",
    319,
    "high",
    "high",
    "FTP-related functions are being called. FTP is considered insecure. Use SSH/SFTP/SCP or some other encrypted protocol.",
    "FTP sends credentials in clear text.",
    "ftplib.FTP(host)",
    "ftplib.FTP_TLS(host)",
)
B323 = _rule(
    "PY-B323",
    "B323",
    "unverified SSL context",
    295,
    "medium",
    "high",
    "ssl._create_unverified_context does not validate certificates or perform hostname checks.",
    "An unverified context accepts any certificate (man-in-the-middle).",
    "ssl._create_unverified_context()",
    "ssl.create_default_context()",
    True,
)
B324 = _rule(
    "PY-B324",
    "B324",
    "weak hash (hashlib)",
    327,
    "high",
    "high",
    "Use of weak hash for security. Consider a SHA-2 hash, or usedforsecurity=False.",
    "MD4/MD5/SHA1 are broken; for non-security uses say so with usedforsecurity=False.",
    "hashlib.md5(data)",
    "hashlib.sha256(data)",
    True,
)
# imports
B401 = _rule(
    "PY-B401",
    "B401",
    "import telnetlib",
    319,
    "high",
    "high",
    "A telnet-related module is being imported. Telnet is considered insecure.",
    "Use SSH.",
    "import telnetlib",
    "import paramiko",
)
B402 = _rule(
    "PY-B402",
    "B402",
    "import ftplib",
    319,
    "high",
    "high",
    "A FTP-related module is being imported. FTP is considered insecure.",
    "Use SFTP or FTPS.",
    "import ftplib",
    "import paramiko",
)
B403 = _rule(
    "PY-B403",
    "B403",
    "import pickle",
    502,
    "low",
    "high",
    "Consider possible security implications associated with pickle-style modules.",
    "Never unpickle untrusted data.",
    "import pickle",
    "import json",
)
B404 = _rule(
    "PY-B404",
    "B404",
    "import subprocess",
    78,
    "low",
    "high",
    "Consider possible security implications associated with the subprocess module.",
    "Pass argument lists, never shell strings built from input.",
    "import subprocess",
    "import shutil",
)
B405 = _rule(
    "PY-B405",
    "B405",
    "import xml.etree",
    20,
    "low",
    "high",
    "Using xml.etree to parse untrusted XML data is known to be vulnerable to XML attacks; use defusedxml.",
    "Use defusedxml.",
    "import xml.etree.ElementTree",
    "import defusedxml.ElementTree",
)
B406 = _rule(
    "PY-B406",
    "B406",
    "import xml.sax",
    20,
    "low",
    "high",
    "Using xml.sax to parse untrusted XML data is known to be vulnerable to XML attacks; use defusedxml.",
    "Use defusedxml.",
    "import xml.sax",
    "import defusedxml.sax",
)
B407 = _rule(
    "PY-B407",
    "B407",
    "import xml.dom.expatbuilder",
    20,
    "low",
    "high",
    "Using xml.dom.expatbuilder to parse untrusted XML data is known to be vulnerable to XML attacks; use defusedxml.",
    "Use defusedxml.",
    "import xml.dom.expatbuilder",
    "import defusedxml.expatbuilder",
)
B408 = _rule(
    "PY-B408",
    "B408",
    "import xml.dom.minidom",
    20,
    "low",
    "high",
    "Using xml.dom.minidom to parse untrusted XML data is known to be vulnerable to XML attacks; use defusedxml.",
    "Use defusedxml.",
    "import xml.dom.minidom",
    "import defusedxml.minidom",
)
B409 = _rule(
    "PY-B409",
    "B409",
    "import xml.dom.pulldom",
    20,
    "low",
    "high",
    "Using xml.dom.pulldom to parse untrusted XML data is known to be vulnerable to XML attacks; use defusedxml.",
    "Use defusedxml.",
    "import xml.dom.pulldom",
    "import defusedxml.pulldom",
)
B411 = _rule(
    "PY-B411",
    "B411",
    "import xmlrpc",
    20,
    "high",
    "high",
    "Using xmlrpc to parse untrusted XML data is known to be vulnerable to XML attacks. Use defusedxml.xmlrpc.monkey_patch().",
    "Monkey-patch with defusedxml.",
    "import xmlrpc.client",
    "import defusedxml.xmlrpc",
)
B412 = _rule(
    "PY-B412",
    "B412",
    "httpoxy",
    284,
    "high",
    "high",
    "Consider possible security implications associated with CGI handlers (httpoxy).",
    "CGI handlers pass the Proxy header as HTTP_PROXY.",
    "from wsgiref.handlers import CGIHandler",
    "a WSGI server",
)
B413 = _rule(
    "PY-B413",
    "B413",
    "import pycrypto",
    327,
    "high",
    "high",
    "The pyCrypto library and its module are no longer actively maintained and have been deprecated. Consider using pyca/cryptography library.",
    "Use cryptography.",
    "from Crypto.Cipher import AES",
    "from cryptography.hazmat.primitives.ciphers import Cipher",
)
B415 = _rule(
    "PY-B415",
    "B415",
    "import pyghmi",
    319,
    "high",
    "high",
    "An IPMI-related module is being imported. IPMI is considered insecure. Use an encrypted protocol.",
    "Avoid IPMI.",
    "import pyghmi",
    "Redfish over HTTPS",
)
# crypto / TLS
B501 = _rule(
    "PY-B501",
    "B501",
    "certificate validation disabled",
    295,
    "high",
    "high",
    "Call with verify=False disabling SSL certificate checks, security issue.",
    "verify=False accepts any certificate: anyone on the path can read and change the traffic.",
    "requests.get(url, verify=False)",
    "requests.get(url)",
    True,
)
B502 = _rule(
    "PY-B502",
    "B502",
    "insecure SSL/TLS version",
    327,
    "high",
    "high",
    "Call with insecure SSL/TLS protocol version identified, security issue.",
    "SSLv2/3 and TLS 1.0/1.1 are broken; use TLS 1.2+ (ssl.PROTOCOL_TLS_CLIENT).",
    "ssl.wrap_socket(s, ssl_version=ssl.PROTOCOL_SSLv3)",
    "ssl.create_default_context().wrap_socket(s)",
    True,
)
B503 = _rule(
    "PY-B503",
    "B503",
    "insecure SSL/TLS version default",
    327,
    "medium",
    "medium",
    "Function definition identified with insecure SSL/TLS protocol version by default, possible security issue.",
    "Do not default to a broken protocol.",
    "def connect(v=ssl.PROTOCOL_SSLv3): ...",
    "def connect(v=ssl.PROTOCOL_TLS_CLIENT): ...",
)
B504 = _rule(
    "PY-B504",
    "B504",
    "ssl.wrap_socket without version",
    327,
    "low",
    "medium",
    "ssl.wrap_socket call with no SSL/TLS protocol version specified, the default SSLv23 could be insecure, possible security issue.",
    "ssl.wrap_socket is deprecated; use an SSLContext.",
    "ssl.wrap_socket(s)",
    "ssl.create_default_context().wrap_socket(s, server_hostname=h)",
)
B505 = _rule(
    "PY-B505",
    "B505",
    "weak cryptographic key",
    326,
    "high",
    "high",
    "Key size is considered breakable.",
    "RSA/DSA keys need 2048+ bits, EC curves 224+.",
    "rsa.generate_private_key(65537, 1024)",
    "rsa.generate_private_key(65537, 3072)",
)
B506 = _rule(
    "PY-B506",
    "B506",
    "yaml.load",
    20,
    "medium",
    "high",
    "Use of unsafe yaml load. Allows instantiation of arbitrary objects. Consider yaml.safe_load().",
    "yaml.load with the full loader builds arbitrary Python objects.",
    "yaml.load(text)",
    "yaml.safe_load(text)",
    True,
)
B507 = _rule(
    "PY-B507",
    "B507",
    "SSH host key not verified",
    295,
    "high",
    "medium",
    "Paramiko call with policy set to automatically trust the unknown host key.",
    "Auto-adding host keys allows man-in-the-middle attacks.",
    "client.set_missing_host_key_policy(AutoAddPolicy())",
    "client.load_system_host_keys(); client.set_missing_host_key_policy(RejectPolicy())",
    True,
)
B508 = _rule(
    "PY-B508",
    "B508",
    "SNMPv1/v2",
    319,
    "medium",
    "high",
    "The use of SNMPv1 and SNMPv2 is insecure. You should use SNMPv3 if able.",
    "SNMPv1/2 community strings travel in clear text.",
    "CommunityData('public', mpModel=0)",
    "UsmUserData('user', authKey, privKey)",
)
B509 = _rule(
    "PY-B509",
    "B509",
    "SNMPv3 without encryption",
    319,
    "medium",
    "high",
    "You should not use SNMPv3 without encryption. noAuthNoPriv & authNoPriv is insecure.",
    "Give both auth and priv keys.",
    "UsmUserData('user')",
    "UsmUserData('user', authKey, privKey)",
)
# injection
B601 = _rule(
    "PY-B601",
    "B601",
    "paramiko exec_command",
    78,
    "medium",
    "medium",
    "Possible shell injection via Paramiko call, check inputs are properly sanitized.",
    "The command runs in the remote shell.",
    "client.exec_command('ls ' + path)",
    "client.exec_command('ls ' + shlex.quote(path))",
)
B602 = _rule(
    "PY-B602",
    "B602",
    "subprocess with shell=True",
    78,
    "high",
    "high",
    "subprocess call with shell=True identified, security issue.",
    "The shell interprets metacharacters in the command; pass an argument list without a shell.",
    "subprocess.call('ls ' + path, shell=True)",
    "subprocess.call(['ls', path])",
    True,
)
B603 = _rule(
    "PY-B603",
    "B603",
    "subprocess without shell",
    78,
    "low",
    "high",
    "subprocess call - check for execution of untrusted input.",
    "Make sure the program and arguments are not attacker-controlled.",
    "subprocess.call(cmd)",
    "subprocess.call(['/bin/ls', path])",
)
B604 = _rule(
    "PY-B604",
    "B604",
    "shell=True in another call",
    78,
    "medium",
    "low",
    "Function call with shell=True parameter identified, possible security issue.",
    "Wrappers that take shell=True usually hand it to a shell.",
    "run_cmd(cmd, shell=True)",
    "run_cmd([prog, arg])",
)
B605 = _rule(
    "PY-B605",
    "B605",
    "process started with a shell",
    78,
    "high",
    "high",
    "Starting a process with a shell, possible injection detected, security issue.",
    "os.system and os.popen pass the string to /bin/sh.",
    "os.system('rm ' + path)",
    "subprocess.run(['rm', path])",
)
B606 = _rule(
    "PY-B606",
    "B606",
    "process started without a shell",
    78,
    "low",
    "medium",
    "Starting a process without a shell.",
    "Check that the program path and arguments are trusted.",
    "os.execv(prog, args)",
    "os.execv('/usr/bin/prog', ['prog'])",
)
B607 = _rule(
    "PY-B607",
    "B607",
    "partial executable path",
    78,
    "low",
    "high",
    "Starting a process with a partial executable path.",
    "A relative program name is looked up in PATH, which an attacker may control.",
    "subprocess.call(['ls'])",
    "subprocess.call(['/bin/ls'])",
)
B608 = _rule(
    "PY-B608",
    "B608",
    "SQL built from strings",
    89,
    "medium",
    "low",
    "Possible SQL injection vector through string-based query construction.",
    "Pass values as query parameters; never format them into the SQL text.",
    "cur.execute(\"SELECT * FROM t WHERE id = '%s'\" % uid)",
    "cur.execute('SELECT * FROM t WHERE id = %s', (uid,))",
)
B609 = _rule(
    "PY-B609",
    "B609",
    "wildcard injection",
    155,
    "high",
    "medium",
    "Possible wildcard injection in call.",
    "File names starting with '-' become options when a shell expands '*'.",
    "os.system('tar cf x.tar *')",
    "subprocess.run(['tar', 'cf', 'x.tar', '--', *files])",
)
B610 = _rule(
    "PY-B610",
    "B610",
    "Django extra()",
    89,
    "medium",
    "medium",
    "Use of extra potential SQL attack vector.",
    "extra() pastes SQL fragments; use the ORM or params.",
    "qs.extra(where=[f'id={x}'])",
    "qs.filter(id=x)",
)
B611 = _rule(
    "PY-B611",
    "B611",
    "Django RawSQL",
    89,
    "medium",
    "medium",
    "Use of RawSQL potential SQL attack vector.",
    "Pass values as params.",
    "RawSQL('select ' + col, [])",
    "RawSQL('select col from t where id = %s', [x])",
)
B612 = _rule(
    "PY-B612",
    "B612",
    "logging.config.listen",
    94,
    "medium",
    "high",
    "Use of insecure logging.config.listen detected.",
    "The listener eval()s configuration received on a socket; pass verify=.",
    "logging.config.listen(9999)",
    "logging.config.listen(9999, verify=check)",
)
B613 = _rule(
    "PY-B613",
    "B613",
    "bidirectional control characters",
    838,
    "high",
    "medium",
    "A Python source file contains bidirectional control characters.",
    "Trojan Source: bidi controls make code read differently from how it runs.",
    "s = 'abc\u202e'",
    "s = 'abc'",
)
B614 = _rule(
    "PY-B614",
    "B614",
    "torch.load",
    502,
    "medium",
    "high",
    "Use of unsafe PyTorch load.",
    "torch.load unpickles; pass weights_only=True.",
    "torch.load(path)",
    "torch.load(path, weights_only=True)",
    True,
)
B615 = _rule(
    "PY-B615",
    "B615",
    "Hugging Face download without revision",
    494,
    "medium",
    "high",
    "Unsafe Hugging Face Hub download without revision pinning.",
    "Pin revision= to a commit hash.",
    "AutoModel.from_pretrained('org/model')",
    "AutoModel.from_pretrained('org/model', revision='5d0f2e8a7f1d')",
)
B701 = _rule(
    "PY-B701",
    "B701",
    "jinja2 autoescape off",
    94,
    "high",
    "high",
    "Using jinja2 templates with autoescape=False is dangerous and can lead to XSS. Use autoescape=True or select_autoescape.",
    "Without autoescaping every variable is an XSS sink.",
    "Environment(loader=l, autoescape=False)",
    "Environment(loader=l, autoescape=True)",
    True,
)
B702 = _rule(
    "PY-B702",
    "B702",
    "Mako templates",
    80,
    "medium",
    "high",
    "Mako templates allow HTML/JS rendering by default and are inherently open to XSS attacks.",
    "Escape with the h filter or default_filters.",
    "Template(text)",
    "Template(text, default_filters=['h'])",
)
B703 = _rule(
    "PY-B703",
    "B703",
    "Django mark_safe on variable data",
    80,
    "medium",
    "high",
    "Potential XSS on mark_safe function.",
    "Use format_html to escape the variable parts.",
    "mark_safe(name)",
    "format_html('{}', name)",
)
B704 = _rule(
    "PY-B704",
    "B704",
    "markupsafe Markup on variable data",
    79,
    "medium",
    "high",
    "Potential XSS with Markup detected. Do not use Markup on untrusted data.",
    "Markup marks the text as safe HTML; use Markup.format or escape.",
    "Markup(user)",
    "Markup('<b>{}</b>').format(user)",
)
# ours, beyond bandit
S001 = _rule(
    "PY-S001",
    None,
    "TLS verification turned off",
    295,
    "high",
    "high",
    "Certificate checks are turned off (ssl.CERT_NONE / check_hostname=False).",
    "Without certificate and hostname checks TLS gives no authentication.",
    "ctx.verify_mode = ssl.CERT_NONE",
    "ctx.verify_mode = ssl.CERT_REQUIRED",
    True,
)
S002 = _rule(
    "PY-S002",
    None,
    "JWT signature not verified",
    347,
    "high",
    "high",
    "JWT decoded without verifying its signature.",
    "An unverified token can be forged by anyone.",
    "jwt.decode(tok, options={'verify_signature': False})",
    "jwt.decode(tok, key, algorithms=['HS256'])",
)
S003 = _rule(
    "PY-S003",
    None,
    "input() in Python 2 code",
    95,
    "high",
    "medium",
    "input() in Python 2 evaluates what the user types; use raw_input().",
    "Python 2's input() is eval(raw_input()).",
    "print 'x'\nname = input()",
    "name = raw_input()",
    True,
)
S004 = _rule(
    "PY-S004",
    None,
    "Django DEBUG on",
    489,
    "medium",
    "medium",
    "DEBUG = True in a Django settings module leaks internals on errors.",
    "Read DEBUG from the environment and keep it off in production.",
    "DEBUG = True",
    "DEBUG = os.environ.get('DJANGO_DEBUG') == '1'",
    True,
)
S005 = _rule(
    "PY-S005",
    None,
    "command built from strings",
    78,
    "high",
    "medium",
    "A shell command is built from variable data; pass an argument list instead.",
    "Formatting values into a command string lets them add shell syntax.",
    "os.system(f'convert {name} out.png')",
    "subprocess.run(['convert', name, 'out.png'])",
)

# ====================================================================== tables
#: bandit's blacklisted calls: qualified name → rule
BLACKLIST_CALLS: dict[str, str] = {}
for _rid, _names in (
    (
        B301,
        "pickle.loads pickle.load pickle.Unpickler dill.loads dill.load dill.Unpickler shelve.open shelve.DbfilenameShelf jsonpickle.decode jsonpickle.unpickler.decode jsonpickle.unpickler.Unpickler pandas.read_pickle",
    ),
    (B302, "marshal.load marshal.loads"),
    (
        B303,
        "Crypto.Hash.MD2.new Crypto.Hash.MD4.new Crypto.Hash.MD5.new Crypto.Hash.SHA.new Cryptodome.Hash.MD2.new Cryptodome.Hash.MD4.new Cryptodome.Hash.MD5.new Cryptodome.Hash.SHA.new cryptography.hazmat.primitives.hashes.MD5 cryptography.hazmat.primitives.hashes.SHA1",
    ),
    (
        B304,
        "Crypto.Cipher.ARC2.new Crypto.Cipher.ARC4.new Crypto.Cipher.Blowfish.new Crypto.Cipher.DES.new Crypto.Cipher.XOR.new Cryptodome.Cipher.ARC2.new Cryptodome.Cipher.ARC4.new Cryptodome.Cipher.Blowfish.new Cryptodome.Cipher.DES.new Cryptodome.Cipher.XOR.new cryptography.hazmat.primitives.ciphers.algorithms.ARC4 cryptography.hazmat.primitives.ciphers.algorithms.Blowfish cryptography.hazmat.primitives.ciphers.algorithms.CAST5 cryptography.hazmat.primitives.ciphers.algorithms.IDEA cryptography.hazmat.primitives.ciphers.algorithms.SEED cryptography.hazmat.primitives.ciphers.algorithms.TripleDES",
    ),
    (B305, "cryptography.hazmat.primitives.ciphers.modes.ECB"),
    (B306, "tempfile.mktemp"),
    (B307, "eval"),
    (B308, "django.utils.safestring.mark_safe"),
    (
        B310,
        "urllib.request.urlopen urllib.request.urlretrieve urllib.request.URLopener urllib.request.FancyURLopener six.moves.urllib.request.urlopen six.moves.urllib.request.urlretrieve six.moves.urllib.request.URLopener six.moves.urllib.request.FancyURLopener",
    ),
    (
        B311,
        "random.Random random.random random.randrange random.randint random.choice random.choices random.uniform random.triangular random.randbytes random.sample random.getrandbits",
    ),
    (B312, "telnetlib.Telnet"),
    (
        B313,
        "xml.etree.cElementTree.parse xml.etree.cElementTree.iterparse xml.etree.cElementTree.fromstring xml.etree.cElementTree.XMLParser",
    ),
    (
        B314,
        "xml.etree.ElementTree.parse xml.etree.ElementTree.iterparse xml.etree.ElementTree.fromstring xml.etree.ElementTree.XMLParser",
    ),
    (B315, "xml.sax.expatreader.create_parser"),
    (B316, "xml.dom.expatbuilder.parse xml.dom.expatbuilder.parseString"),
    (B317, "xml.sax.parse xml.sax.parseString xml.sax.make_parser"),
    (B318, "xml.dom.minidom.parse xml.dom.minidom.parseString"),
    (B319, "xml.dom.pulldom.parse xml.dom.pulldom.parseString"),
    (
        B320,
        "lxml.etree.parse lxml.etree.fromstring lxml.etree.RestrictedElement lxml.etree.GlobalParserTLS lxml.etree.getDefaultParser lxml.etree.check_docinfo",
    ),
    (B321, "ftplib.FTP"),
    (B323, "ssl._create_unverified_context"),
):
    for _n in _names.split():
        BLACKLIST_CALLS[_n] = _rid

#: bandit's blacklisted imports: (rule, module prefixes); a ``from M import N`` is checked as ``M.N``
BLACKLIST_IMPORTS: list[tuple[str, tuple[str, ...]]] = [
    (B401, ("telnetlib",)),
    (B402, ("ftplib",)),
    (B403, ("pickle", "cPickle", "dill", "shelve")),
    (B404, ("subprocess",)),
    (B405, ("xml.etree.cElementTree", "xml.etree.ElementTree")),
    (B406, ("xml.sax",)),
    (B407, ("xml.dom.expatbuilder",)),
    (B408, ("xml.dom.minidom",)),
    (B409, ("xml.dom.pulldom",)),
    (B411, ("xmlrpc",)),
    (
        B412,
        (
            "wsgiref.handlers.CGIHandler",
            "twisted.web.twcgi.CGIScript",
            "twisted.web.twcgi.CGIDirectory",
        ),
    ),
    (
        B413,
        (
            "Crypto.Cipher",
            "Crypto.Hash",
            "Crypto.IO",
            "Crypto.Protocol",
            "Crypto.PublicKey",
            "Crypto.Random",
            "Crypto.Signature",
            "Crypto.Util",
        ),
    ),
    (B415, ("pyghmi",)),
]

SUBPROCESS = {
    "subprocess.Popen",
    "subprocess.call",
    "subprocess.check_call",
    "subprocess.check_output",
    "subprocess.run",
}
SHELL = {
    "os.system",
    "os.popen",
    "os.popen2",
    "os.popen3",
    "os.popen4",
    "popen2.popen2",
    "popen2.popen3",
    "popen2.popen4",
    "popen2.Popen3",
    "popen2.Popen4",
    "commands.getoutput",
    "commands.getstatusoutput",
    "subprocess.getoutput",
    "subprocess.getstatusoutput",
}
NO_SHELL = {
    f"os.{n}"
    for n in "execl execle execlp execlpe execv execve execvp execvpe spawnl spawnle spawnlp spawnlpe spawnv spawnve spawnvp spawnvpe startfile".split()
}
BAD_TLS = {
    "PROTOCOL_SSLv2",
    "SSLv2_METHOD",
    "SSLv23_METHOD",
    "PROTOCOL_SSLv3",
    "PROTOCOL_TLSv1",
    "SSLv3_METHOD",
    "TLSv1_METHOD",
    "PROTOCOL_TLSv1_1",
    "TLSv1_1_METHOD",
}
HTTP_VERBS = {"get", "options", "head", "post", "put", "patch", "delete"}
HTTPX_ATTRS = {"request", "stream", "Client", "AsyncClient"} | HTTP_VERBS
WEAK_HASHES = ("md4", "md5", "sha", "sha1")
PASSWORD_RE = re.compile(
    r"(^{0}$|_{0}_|^{0}_|_{0}$)".format(r"(pas+wo?r?d|pass(phrase)?|pwd|token|secrete?)"),
    re.IGNORECASE,
)
#: Names that mention a secret but hold metadata about it (``token_type``, ``password_field``, ``max_token_len``).
NOT_SECRET_RE = re.compile(
    r"(?i)(_(type|types|kind|name|names|field|fields|label|prompt|url|uri|endpoint|path|file|len|length|size|"
    r"count|pattern|regex|re|hint|help|message|msg|error|errors|header|param|format|mode|class|style|chars?|"
    r"index|idx|id|policy|validator|column|col|attr|attribute|prefix|suffix|sep|separator|delimiter|placeholder|"
    r"expiry|expires|ttl|timeout|min|max|rules?|required|enabled|changed|reset_url)$|^(is|has|num|max|min|n|use|"
    r"show|check|validate|require|allow)_)"
)


def secret_name(name: str) -> bool:
    """Whether a variable, attribute or key name says it holds a secret (bandit's words, less metadata names)."""
    return bool(PASSWORD_RE.search(name)) and not NOT_SECRET_RE.search(name)


SQL_RE = re.compile(
    r"(select\s.*from\s|delete\s+from\s|insert\s+into\s.*values[\s(]|update\s.*set\s)",
    re.IGNORECASE | re.DOTALL,
)
FULL_PATH = re.compile(r"^(?:[A-Za-z](?=\:)|[\\\/\.])")
BIDI = re.compile("[\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200f]")
SHELL_META = re.compile(r"[|&;<>()$`\\\"'*?\[\]#~=%{}\n]")

CallCheck = Callable[[FileContext, Call], None]
CALLS_BY_QUAL: dict[str, list[CallCheck]] = {}
CALLS_BY_NAME: dict[str, list[CallCheck]] = {}


def on_qual(*names: str) -> Callable[[CallCheck], CallCheck]:
    def deco(fn: CallCheck) -> CallCheck:
        for n in names:
            CALLS_BY_QUAL.setdefault(n, []).append(fn)
        return fn

    return deco


def on_name(*names: str) -> Callable[[CallCheck], CallCheck]:
    def deco(fn: CallCheck) -> CallCheck:
        for n in names:
            CALLS_BY_NAME.setdefault(n, []).append(fn)
        return fn

    return deco


# ====================================================================== call checks
def _blacklist(ctx: FileContext, call: Call) -> None:
    rid = BLACKLIST_CALLS[call.qual]
    fix = None
    if rid == B311:
        fix = _random_fix(ctx, call)
    elif rid == B306:
        e = replace_attr(ctx, call.fn, "mkstemp")
        fix = (
            Fix("Use tempfile.mkstemp() (returns (fd, path) and creates the file safely)", (e,))
            if e and call.fn.type == "attribute"
            else None
        )
    elif rid == B307:
        e = _literal_eval_fix(ctx, call)
        fix = e
    elif rid == B323:
        e = replace_attr(ctx, call.fn, "create_default_context")
        fix = (
            Fix("Use ssl.create_default_context()", (e,))
            if e and call.fn.type == "attribute"
            else None
        )
    msg = None
    if rid in (B304, B305):
        msg = (
            RULE_BY_ID[rid].message.replace("insecure cipher", f"insecure cipher {call.qual}")
            if rid == B304
            else f"Use of insecure cipher mode {call.qual}."
        )
    ctx.report(rid, call.node, msg, fix=fix)


for _qual in BLACKLIST_CALLS:
    CALLS_BY_QUAL.setdefault(_qual, []).append(_blacklist)


def _literal_eval_fix(ctx: FileContext, call: Call) -> Fix | None:
    if call.fn.type != "identifier" or len(call.args) != 1 or call.keywords:
        return None
    edits = [ctx.edit(call.fn, "ast.literal_eval")]
    if not is_imported_exact(ctx, "ast"):
        edits.append(_import_edit(ctx, "ast"))
    return Fix("Use ast.literal_eval (literals only)", tuple(edits))


def _import_edit(ctx: FileContext, module: str):
    """Insert ``import module`` before the first statement that is not a docstring or __future__ import."""
    row = ctx.facts.get("import_row")
    if row is None:
        row = ctx.facts["import_row"] = _import_row(ctx)
    return ctx.edit_points((row, 0), (row, 0), f"import {module}\n")


def _import_row(ctx: FileContext) -> int:
    root = ctx.root
    row = 0
    for child in root.named_children:
        if child.type == "comment":
            continue
        if (
            child.type == "expression_statement"
            and child.named_child_count == 1
            and child.named_children[0].type in STRINGISH
            and row == 0
        ):
            row = child.end_point[0] + 1
            continue
        if child.type == "future_import_statement":
            row = child.end_point[0] + 1
            continue
        row = max(row, child.start_point[0])
        break
    return row


_SECRETS_SAME = {"choice": "choice", "getrandbits": "randbits"}


def _random_fix(ctx: FileContext, call: Call) -> Fix | None:
    if call.fn.type != "attribute" or call.name == "Random":
        return None
    obj = call.fn.child_by_field_name("object")
    if obj is None or obj.type != "identifier":
        return None
    if call.name in _SECRETS_SAME:
        new = f"secrets.{_SECRETS_SAME[call.name]}"
    elif call.name == "randrange" and len(call.args) == 1 and not call.keywords:
        new = "secrets.randbelow"
    else:
        new = f"secrets.SystemRandom().{call.name}"
    edits = [ctx.edit(call.fn, new)]
    if not is_imported_exact(ctx, "secrets"):
        edits.append(_import_edit(ctx, "secrets"))
    return Fix(f"Use {new} (cryptographically secure)", tuple(edits))


@on_qual("exec")
def _exec(ctx: FileContext, call: Call) -> None:
    ctx.report(B102, call.node)


@on_qual("__import__", "importlib.import_module", "importlib.__import__")
def _dynamic_import(ctx: FileContext, call: Call) -> None:
    name = string_value(call.arg(0, "name"))
    if name:
        _check_import_name(ctx, call.node, [name])


def _has_shell(call: Call) -> bool:
    return truthy_shell(call.kwvalue("shell")) if call.has_kw("shell") else False


def _is_literal_str(node: Node | None) -> bool:
    return node is not None and node.type in STRINGISH and string_value(node) is not None


def _built_command(ctx: FileContext, node: Node | None) -> bool:
    """Whether a command argument is a string built from variable data (through one assignment)."""
    node = resolve_value(ctx, node)
    if node is None:
        return False
    if node.type == "string":
        return is_fstring(node)
    if node.type == "binary_operator":
        return any(
            c.type in ("identifier", "attribute", "call", "subscript", "binary_operator")
            or (c.type == "string" and is_fstring(c))
            for c in node.named_children
        )
    if node.type == "call":
        fn = node.child_by_field_name("function")
        return (
            fn is not None
            and fn.type == "attribute"
            and text_of(fn.child_by_field_name("attribute")) in ("format", "join", "format_map")
        )
    return False


@on_qual(*SUBPROCESS)
def _subprocess(ctx: FileContext, call: Call) -> None:
    shell = _has_shell(call)
    if shell:
        if call.args:
            first = call.args[0]
            literal_cmd = _is_literal_str(first)
            fix = None
            if literal_cmd:
                fix = _shell_list_fix(ctx, call, first)
                ctx.report(
                    B602,
                    call.at_kw("shell"),
                    "subprocess call with shell=True seems safe, but may be changed in the future, consider rewriting without shell",
                    severity="low",
                    fix=fix,
                )
            else:
                if first.type == "list":
                    rm = remove_keyword(ctx, call, "shell")
                    fix = Fix("Run the argument list without a shell", (rm,)) if rm else None
                ctx.report(B602, call.at_kw("shell"), fix=fix)
            if _built_command(ctx, first):
                ctx.report(S005, first)
    else:
        ctx.report(B603, call.at_kw("shell") if call.has_kw("shell") else call.node)
    _partial_path(ctx, call)
    _wildcard(ctx, call, shell)


def _shell_list_fix(ctx: FileContext, call: Call, first: Node) -> Fix | None:
    value = string_value(first)
    if value is None or SHELL_META.search(value):
        return None
    try:
        argv = shlex.split(value)
    except ValueError:
        return None
    if not argv:
        return None
    rm = remove_keyword(ctx, call, "shell")
    if rm is None:
        return None
    new = "[" + ", ".join(repr(a) for a in argv) + "]"
    return Fix("Pass an argument list without a shell", (ctx.edit(first, new), rm))


@on_qual(*SHELL)
def _shell(ctx: FileContext, call: Call) -> None:
    if call.args:
        if _is_literal_str(call.args[0]):
            ctx.report(
                B605,
                call.node,
                "Starting a process with a shell: Seems safe, but may be changed in the future, consider rewriting without shell",
                severity="low",
            )
        else:
            ctx.report(B605, call.node)
            if _built_command(ctx, call.args[0]):
                ctx.report(S005, call.args[0])
    _partial_path(ctx, call)
    _wildcard(ctx, call, True)


@on_qual(*NO_SHELL)
def _no_shell(ctx: FileContext, call: Call) -> None:
    ctx.report(B606, call.node)
    _partial_path(ctx, call)


def _partial_path(ctx: FileContext, call: Call) -> None:
    if not call.args:
        return
    node = call.args[0]
    if node.type == "list" and node.named_child_count:
        node = node.named_children[0]
    v = string_value(node) if node.type in STRINGISH else None
    if v is not None and not FULL_PATH.match(v):
        ctx.report(B607, call.node)


def _wildcard(ctx: FileContext, call: Call, shell: bool) -> None:
    if not shell or not call.args:
        return
    a = literal(call.args[0])
    s = (
        " ".join(x for x in a if isinstance(x, str))
        if isinstance(a, list)
        else a
        if isinstance(a, str)
        else ""
    )
    if s and "*" in s and any(v in s for v in ("chown", "chmod", "tar", "rsync")):
        ctx.report(B609, call.at_kw("shell"), f"Possible wildcard injection in call: {call.qual}")


def _other_shell_keyword(ctx: FileContext, caps: dict) -> None:
    """B604: ``shell=<truthy>`` in any call that is not a subprocess function."""
    kw = caps["kw"][0]
    call_node = kw.parent.parent if kw.parent is not None else None
    if call_node is None or call_node.type != "call":
        return
    fn = call_node.child_by_field_name("function")
    if fn is None or qualname(ctx, fn) in SUBPROCESS:
        return
    if truthy_shell(kw.child_by_field_name("value")):
        ctx.report(B604, kw)


@on_name("chmod", "fchmod", "lchmod")
def _chmod(ctx: FileContext, call: Call) -> None:
    if len(call.args) + len(call.keywords) != 2 or len(call.args) < 2:
        return
    mode = literal(resolve_value(ctx, call.args[1]))
    if not isinstance(mode, int) or isinstance(mode, bool):
        return
    if mode & (stat.S_IWOTH | stat.S_IWGRP | stat.S_IXGRP | stat.S_IXOTH):
        # writable by others is the vulnerability; executable by others (0o755) is how programs are installed
        sev = "high" if mode & stat.S_IWOTH else "medium" if mode & stat.S_IWGRP else "low"
        ctx.report(
            B103, call.node, f"Chmod setting a permissive mask {oct(mode)} on file.", severity=sev
        )


def _requests(ctx: FileContext, call: Call) -> None:
    root = call.qual.split(".")[0]
    is_req = root == "requests" and call.name in HTTP_VERBS
    is_httpx = root == "httpx" and call.name in HTTPX_ATTRS
    if not (is_req or is_httpx):
        return
    if call.has_kw("verify") and call.kwliteral("verify") in (False, "False"):
        rm = remove_keyword(ctx, call, "verify")
        ctx.report(
            B501,
            call.at_kw("verify"),
            f"Call to {root} with verify=False disabling SSL certificate checks, security issue.",
            fix=Fix("Remove verify=False (verify certificates)", (rm,)) if rm else None,
        )
    if is_req and not call.has_kw("timeout") and not _has_kwargs_splat(call):
        e = add_keyword(ctx, call, f"timeout={FIX_TIMEOUT_S}")
        ctx.report(
            B113,
            call.node,
            f"Call to {root} without timeout",
            fix=Fix(f"Add timeout={FIX_TIMEOUT_S}", (e,)) if e else None,
        )
    elif call.has_kw("timeout") and call.kwliteral("timeout") in (None, "None"):
        ctx.report(
            B113,
            call.at_kw("timeout"),
            f"Call to {root} with timeout set to None",
            fix=Fix(
                f"Use timeout={FIX_TIMEOUT_S}",
                (ctx.edit(call.kwvalue("timeout"), str(FIX_TIMEOUT_S)),),
            ),
        )


def _has_kwargs_splat(call: Call) -> bool:
    return call.arglist is not None and any(
        c.type == "dictionary_splat" for c in call.arglist.named_children
    )


for _verb in HTTPX_ATTRS:
    CALLS_BY_NAME.setdefault(_verb, []).append(_requests)


@on_name("run")
def _flask_debug(ctx: FileContext, call: Call) -> None:
    if (
        is_imported_like(ctx, "flask")
        and call.qual.endswith(".run")
        and call.kwliteral("debug") in (True, "True")
    ):
        v = call.kwvalue("debug")
        ctx.report(
            B201,
            call.at_kw("debug"),
            fix=Fix("Turn debug off", (ctx.edit(v, "False"),)) if v is not None else None,
        )


@on_name("extractall")
def _tar(ctx: FileContext, call: Call) -> None:
    if not is_imported_exact(ctx, "tarfile"):
        return
    if call.has_kw("filter") and string_value(call.kwvalue("filter")) == "data":
        return
    if call.has_kw("members"):
        m = call.kwvalue("members")
        if m is not None and m.type == "call":
            ctx.report(
                B202,
                call.node,
                "Usage of tarfile.extractall(members=function(tarfile)). Make sure your function properly discards dangerous members.",
                severity="low",
                confidence="low",
            )
        else:
            ctx.report(
                B202,
                call.node,
                "Found tarfile.extractall(members=?) but couldn't identify the type of members. Check if the members were properly validated.",
                severity="medium",
                confidence="medium",
            )
        return
    if call.has_kw("filter"):
        e = ctx.edit(call.kwvalue("filter"), "'data'")  # type: ignore[arg-type]
    else:
        e = add_keyword(ctx, call, "filter='data'")
    ctx.report(B202, call.node, fix=Fix("Extract with filter='data'", (e,)) if e else None)


def _hashlib(ctx: FileContext, call: Call) -> None:
    parts = call.qual.split(".")
    func = parts[-1]
    if "hashlib" in parts:
        if call.kwliteral("usedforsecurity") in (False, "False"):
            return
        if func in WEAK_HASHES:
            fixes = []
            if call.fn.type == "attribute":
                e = replace_attr(ctx, call.fn, "sha256")
                if e:
                    fixes.append(Fix("Use hashlib.sha256", (e,)))
            e2 = add_keyword(ctx, call, "usedforsecurity=False")
            if e2:
                fixes.append(Fix("Mark as not used for security (usedforsecurity=False)", (e2,)))
            ctx.report(
                B324,
                call.node,
                f"Use of weak {func.upper()} hash for security. Consider usedforsecurity=False",
                fix=fixes[0] if fixes else None,
                alternatives=fixes[1:],
            )
        elif func == "new":
            name_node = call.arg(0, "name")
            name = string_value(name_node)
            if name and name.lower() in WEAK_HASHES:
                fixes = [Fix("Use sha256", (ctx.edit(name_node, "'sha256'"),))]  # type: ignore[arg-type]
                e2 = add_keyword(ctx, call, "usedforsecurity=False")
                if e2:
                    fixes.append(
                        Fix("Mark as not used for security (usedforsecurity=False)", (e2,))
                    )
                ctx.report(
                    B324,
                    call.node,
                    f"Use of weak {name.upper()} hash for security. Consider usedforsecurity=False",
                    fix=fixes[0],
                    alternatives=fixes[1:],
                )
    elif "crypt" in parts and func in ("crypt", "mksalt"):
        node = call.arg(1, "salt") if func == "crypt" else call.arg(0, "method")
        v = literal(node)
        if isinstance(v, str) and v.split(".")[-1] in (
            "METHOD_CRYPT",
            "METHOD_MD5",
            "METHOD_BLOWFISH",
        ):
            ctx.report(
                B324,
                call.node,
                f"Use of insecure crypt.{v.split('.')[-1]} hash function.",
                severity="medium",
            )


for _h in WEAK_HASHES + ("new", "crypt", "mksalt"):
    CALLS_BY_NAME.setdefault(_h, []).append(_hashlib)


@on_qual("ssl.wrap_socket")
def _wrap_socket(ctx: FileContext, call: Call) -> None:
    if not call.has_kw("ssl_version"):
        ctx.report(B504, call.node)


def _bad_tls_keyword(ctx: FileContext, caps: dict) -> None:
    """B502: ``ssl_version=``/``method=`` naming a broken protocol in any call."""
    kw = caps["kw"][0]
    value = kw.child_by_field_name("value")
    call_node = kw.parent.parent if kw.parent is not None else None
    if value is None or call_node is None or call_node.type != "call":
        return
    v = text_of(value).split(".")[-1]
    if v not in BAD_TLS:
        return
    fn = call_node.child_by_field_name("function")
    q = qualname(ctx, fn) if fn is not None else ""
    name = text_of(kw.child_by_field_name("name"))
    strong = (q == "ssl.wrap_socket" and name == "ssl_version") or (
        q == "pyOpenSSL.SSL.Context" and name == "method"
    )
    fix = None
    if v.startswith("PROTOCOL_") and value.type == "attribute":
        fix = Fix("Use PROTOCOL_TLS_CLIENT", (replace_attr(ctx, value, "PROTOCOL_TLS_CLIENT"),))  # type: ignore[arg-type]
    if strong:
        ctx.report(B502, kw, fix=fix)
    elif q not in ("ssl.wrap_socket", "pyOpenSSL.SSL.Context"):
        ctx.report(
            B502,
            kw,
            "Function call with insecure SSL/TLS protocol identified, possible security issue.",
            severity="medium",
            confidence="medium",
            fix=fix,
        )


@on_qual("pyOpenSSL.SSL.Context", "OpenSSL.SSL.Context")
def _ossl_ctx(ctx: FileContext, call: Call) -> None:
    if call.args and text_of(call.args[0]).split(".")[-1] in BAD_TLS and not call.has_kw("method"):
        ctx.report(
            B502,
            call.node,
            "SSL.Context call with insecure SSL/TLS protocol version identified, security issue.",
        )


_KEYS = {
    "cryptography.hazmat.primitives.asymmetric.dsa.generate_private_key": ("DSA", 0, "key_size"),
    "cryptography.hazmat.primitives.asymmetric.rsa.generate_private_key": ("RSA", 1, "key_size"),
    "Crypto.PublicKey.DSA.generate": ("DSA", 0, "bits"),
    "Crypto.PublicKey.RSA.generate": ("RSA", 0, "bits"),
    "Cryptodome.PublicKey.DSA.generate": ("DSA", 0, "bits"),
    "Cryptodome.PublicKey.RSA.generate": ("RSA", 0, "bits"),
}
_CURVES = {
    "SECT571K1": 571,
    "SECT571R1": 570,
    "SECP521R1": 521,
    "BrainpoolP512R1": 512,
    "SECT409K1": 409,
    "SECT409R1": 409,
    "BrainpoolP384R1": 384,
    "SECP384R1": 384,
    "SECT283K1": 283,
    "SECT283R1": 283,
    "BrainpoolP256R1": 256,
    "SECP256K1": 256,
    "SECP256R1": 256,
    "SECT233K1": 233,
    "SECT233R1": 233,
    "SECP224R1": 224,
    "SECP192R1": 192,
    "SECT163K1": 163,
    "SECT163R2": 163,
}


@on_qual(*_KEYS)
def _key_size(ctx: FileContext, call: Call) -> None:
    kind, pos, kw = _KEYS[call.qual]
    size = literal(call.kwvalue(kw)) if call.has_kw(kw) else literal(call.arg(pos))
    if not isinstance(size, int) or isinstance(size, bool):
        return
    _classify_key(ctx, call, kind, size)


@on_qual("cryptography.hazmat.primitives.asymmetric.ec.generate_private_key")
def _ec_key(ctx: FileContext, call: Call) -> None:
    node = call.arg(0, "curve")
    if node is None:
        return
    name = text_of(node).split("(")[0].split(".")[-1]
    _classify_key(ctx, call, "EC", _CURVES.get(name, 224))


def _classify_key(ctx: FileContext, call: Call, kind: str, size: int) -> None:
    limits = {
        "DSA": ((1024, "high"), (2048, "medium")),
        "RSA": ((1024, "high"), (2048, "medium")),
        "EC": ((160, "high"), (224, "medium")),
    }[kind]
    for limit, sev in limits:
        if size < limit:
            ctx.report(
                B505,
                call.node,
                f"{kind} key sizes below {limit} bits are considered breakable.",
                severity=sev,
            )
            return


@on_name("load")
def _yaml_load(ctx: FileContext, call: Call) -> None:
    if not is_imported_exact(ctx, "yaml"):
        return
    parts = call.qual.split(".")
    if "yaml" not in parts:
        return
    loader = call.kwvalue("Loader") if call.has_kw("Loader") else call.arg(1)
    if loader is not None and text_of(loader).split(".")[-1] in ("SafeLoader", "CSafeLoader"):
        return
    fix = None
    if call.fn.type == "attribute" and call.args:
        obj = text_of(call.fn.child_by_field_name("object"))
        fix = Fix(
            "Use yaml.safe_load",
            (ctx.edit(call.node, f"{obj}.safe_load({text_of(call.args[0])})"),),
        )
    ctx.report(B506, call.node, fix=fix)


@on_name("set_missing_host_key_policy")
def _ssh_policy(ctx: FileContext, call: Call) -> None:
    if not is_imported_like(ctx, "paramiko") or not call.args:
        return
    arg = call.args[0]
    target = arg.child_by_field_name("function") if arg.type == "call" else arg
    if target is None:
        return
    last = text_of(target).split(".")[-1]
    if last in ("AutoAddPolicy", "WarningPolicy"):
        name_node = (
            target.child_by_field_name("attribute") if target.type == "attribute" else target
        )
        fix = (
            Fix("Reject unknown host keys", (ctx.edit(name_node, "RejectPolicy"),))
            if name_node is not None
            else None
        )  # type: ignore[arg-type]
        ctx.report(B507, call.node, fix=fix)


@on_qual("pysnmp.hlapi.CommunityData")
def _snmp_v12(ctx: FileContext, call: Call) -> None:
    if call.kwliteral("mpModel") in (0, 1):
        ctx.report(B508, call.node)


@on_qual("pysnmp.hlapi.UsmUserData")
def _snmp_v3(ctx: FileContext, call: Call) -> None:
    if len(call.args) < 3:
        ctx.report(B509, call.node)


@on_name("exec_command")
def _paramiko_exec(ctx: FileContext, call: Call) -> None:
    if is_imported_like(ctx, "paramiko"):
        ctx.report(B601, call.node)


@on_name("extra")
def _django_extra(ctx: FileContext, call: Call) -> None:
    kwargs = {k: call.kwvalue(k) for k in call.keywords}
    for i, key in enumerate(("select", "where", "params", "tables", "order_by", "select_params")):
        if i < len(call.args):
            kwargs[key] = call.args[i]
    insecure = False
    for key in ("where", "tables"):
        v = kwargs.get(key)
        if v is not None:
            if v.type == "list":
                if any(string_value(e) is None for e in v.named_children):
                    insecure = True
            else:
                insecure = True
    if not insecure and kwargs.get("select") is not None:
        sel = kwargs["select"]
        if sel.type == "dictionary":
            for pair in sel.named_children:
                if (
                    pair.type != "pair"
                    or string_value(pair.child_by_field_name("key")) is None
                    or string_value(pair.child_by_field_name("value")) is None
                ):
                    insecure = True
        else:
            insecure = True
    if insecure:
        ctx.report(B610, call.node)


@on_name("RawSQL")
def _rawsql(ctx: FileContext, call: Call) -> None:
    if not is_imported_like(ctx, "django.db.models"):
        return
    sql = call.arg(0, "sql")
    if sql is not None and string_value(sql) is None:
        ctx.report(B611, call.node)


@on_qual("logging.config.listen")
def _log_listen(ctx: FileContext, call: Call) -> None:
    if not call.has_kw("verify"):
        ctx.report(B612, call.node)


@on_qual("torch.load", "torch.serialization.load")
def _torch(ctx: FileContext, call: Call) -> None:
    if call.kwliteral("weights_only") in (True, "True"):
        return
    e = (
        add_keyword(ctx, call, "weights_only=True")
        if not call.has_kw("weights_only")
        else ctx.edit(call.kwvalue("weights_only"), "True")
    )  # type: ignore[arg-type]
    ctx.report(B614, call.node, fix=Fix("Load weights only", (e,)) if e else None)


_HF = {
    "from_pretrained": "transformers",
    "load_dataset": "datasets",
    "hf_hub_download": "huggingface_hub",
    "snapshot_download": "huggingface_hub",
    "repository_id": "huggingface_hub",
}


@on_name(*_HF)
def _hf(ctx: FileContext, call: Call) -> None:
    if not any(is_imported_like(ctx, m) for m in ("transformers", "datasets", "huggingface_hub")):
        return
    if _HF[call.name] not in call.qual.split("."):
        return
    for k in ("revision", "commit_id"):
        if call.has_kw(k) and call.kwvalue(k).type not in STRINGISH + (
            "integer",
            "true",
            "false",
            "none",
        ):  # type: ignore[union-attr]
            return
    rev = next(
        (string_value(call.kwvalue(k)) for k in ("revision", "commit_id") if call.has_kw(k)), None
    )
    if (
        rev
        and len(rev.strip("\"'")) >= 7
        and all(c in "0123456789abcdefABCDEF" for c in rev.strip("\"'"))
    ):
        return
    first = string_value(call.arg(0)) if call.args else None
    if first and first.startswith(("./", "/", "../")):
        return
    ctx.report(
        B615,
        call.node,
        f"Unsafe Hugging Face Hub download without revision pinning in {call.name}()",
    )


@on_name("Environment")
def _jinja(ctx: FileContext, call: Call) -> None:
    if "jinja2" not in call.qual.split("."):
        return
    # bandit walks the whole call (nested keyword arguments included)
    for kw in _walk_type(call.node, "keyword_argument"):
        if text_of(kw.child_by_field_name("name")) != "autoescape":
            continue
        v = kw.child_by_field_name("value")
        if v is None:
            continue
        if v.type == "false" or text_of(v) == "False":
            ctx.report(B701, call.node, fix=Fix("Turn autoescape on", (ctx.edit(v, "True"),)))
            return
        if v.type == "true" or text_of(v) == "True":
            return
        if (
            v.type == "call"
            and text_of(v.child_by_field_name("function")).split(".")[-1] == "select_autoescape"
        ):
            return
        ctx.report(
            B701,
            call.node,
            "Using jinja2 templates with autoescape=False is dangerous and can lead to XSS. Ensure autoescape=True or use the select_autoescape function to mitigate XSS vulnerabilities.",
            confidence="medium",
        )
        return
    e = add_keyword(ctx, call, "autoescape=True")
    ctx.report(
        B701,
        call.node,
        "By default, jinja2 sets autoescape to False. Consider using autoescape=True or use the select_autoescape function to mitigate XSS vulnerabilities.",
        fix=Fix("Turn autoescape on", (e,)) if e else None,
    )


def _walk_type(node: Node, typ: str):
    stack = [node]
    while stack:
        n = stack.pop()
        if n.type == typ:
            yield n
        stack.extend(reversed(n.named_children))


@on_name("Template")
def _mako(ctx: FileContext, call: Call) -> None:
    if "mako" in call.qual.split("."):
        ctx.report(B702, call.node)


@on_qual("markupsafe.Markup", "flask.Markup")
def _markup(ctx: FileContext, call: Call) -> None:
    if call.args and call.args[0].type not in STRINGISH + (
        "integer",
        "float",
        "true",
        "false",
        "none",
    ):
        ctx.report(
            B704,
            call.node,
            f"Potential XSS with ``{call.qual}`` detected. Do not use ``{call.name}`` on untrusted data.",
        )
    elif call.args and is_fstring(call.args[0]):
        ctx.report(B704, call.node)


@on_name("mark_safe", "SafeText", "SafeUnicode", "SafeString", "SafeBytes")
def _mark_safe(ctx: FileContext, call: Call) -> None:
    if not is_imported_like(ctx, "django.utils.safestring") or not call.args:
        return
    arg = call.args[0]
    if _is_literal_str(arg):
        return
    if not _xss_secure(ctx, arg, _enclosing_scope(call.node), 0):
        ctx.report(B703, call.node)


def _enclosing_scope(node: Node) -> Node:
    cur = node.parent
    while cur is not None and cur.type not in ("function_definition", "module"):
        cur = cur.parent
    return cur or node


def _param_names(fn: Node) -> set[str]:
    params = fn.child_by_field_name("parameters")
    out = set()
    if params is not None:
        for p in params.named_children:
            if p.type == "identifier":
                out.add(text_of(p))
            else:
                n = p.child_by_field_name("name")
                if n is not None:
                    out.add(text_of(n))
                elif p.named_child_count and p.named_children[0].type == "identifier":
                    out.add(text_of(p.named_children[0]))
    return out


def _xss_secure(ctx: FileContext, node: Node, scope: Node, depth: int) -> bool:
    """bandit's mark_safe analysis: data is safe when every assignment reaching it is a literal or a safe format."""
    if depth > 5:
        return False
    if _is_literal_str(node):
        return True
    if node.type == "identifier":
        until = node.start_point[0]
        name = text_of(node)
        if scope.type == "function_definition" and name in _param_names(scope):
            return False
        values = []
        for n in _walk_type(scope, "identifier"):
            if n.start_point[0] >= until or text_of(n) != name:
                continue
            par = n.parent
            if par is None:
                continue
            if (
                par.type in ("assignment", "augmented_assignment")
                and par.child_by_field_name("left") == n
            ):
                values.append(par.child_by_field_name("right"))
            elif (
                par.type == "pattern_list"
                and par.parent is not None
                and par.parent.type == "assignment"
            ):
                right = par.parent.child_by_field_name("right")
                idx = par.named_children.index(n) if n in par.named_children else -1
                if (
                    right is not None
                    and right.type in ("expression_list", "tuple")
                    and 0 <= idx < right.named_child_count
                ):
                    values.append(right.named_children[idx])
                else:
                    return False
            elif par.type in ("as_pattern_target", "for_statement", "with_item"):
                return False
        if not values:
            return False
        return all(v is not None and _xss_secure(ctx, v, scope, depth + 1) for v in values)
    if node.type == "call":
        fn = node.child_by_field_name("function")
        if (
            fn is not None
            and fn.type == "attribute"
            and text_of(fn.child_by_field_name("attribute")) == "format"
            and fn.child_by_field_name("object").type in STRINGISH
        ):  # type: ignore[union-attr]
            al = node.child_by_field_name("arguments")
            if al is None or any(c.type == "keyword_argument" for c in al.named_children):
                return False
            for a in al.named_children:
                if a.type == "list_splat":
                    inner = a.named_children[0] if a.named_child_count else None
                    if inner is not None and inner.type in ("list", "tuple"):
                        if not all(
                            _xss_secure(ctx, e, scope, depth + 1) for e in inner.named_children
                        ):
                            return False
                        continue
                    return False
                if not _xss_secure(ctx, a, scope, depth + 1):
                    return False
            return True
        return False
    if (
        node.type == "binary_operator"
        and node.child_by_field_name("operator") is not None
        and text_of(node.child_by_field_name("operator")) == "%"
    ):
        left, right = node.child_by_field_name("left"), node.child_by_field_name("right")
        if left is not None and _is_literal_str(left) and right is not None:
            elems = right.named_children if right.type == "tuple" else [right]
            return all(_xss_secure(ctx, e, scope, depth + 1) for e in elems)
    return False


@on_qual("jwt.decode")
def _jwt(ctx: FileContext, call: Call) -> None:
    if call.kwliteral("verify") in (False, "False"):
        ctx.report(S002, call.at_kw("verify"))
        return
    opts = call.kwvalue("options")
    if opts is not None and opts.type == "dictionary":
        for pair in opts.named_children:
            if (
                pair.type == "pair"
                and string_value(pair.child_by_field_name("key")) == "verify_signature"
                and literal(pair.child_by_field_name("value")) in (False, "False")
            ):
                ctx.report(S002, pair)


@on_qual("input")
def _py2_input(ctx: FileContext, call: Call) -> None:
    if ctx.facts.get("py2"):
        ctx.report(S003, call.node, fix=Fix("Use raw_input()", (ctx.edit(call.fn, "raw_input"),)))


# ====================================================================== pattern handlers
def on_call(ctx: FileContext, caps: dict) -> None:
    fn = caps["fn"][0]
    qual = qualname(ctx, fn)
    handlers = CALLS_BY_QUAL.get(qual)
    name = qual.rsplit(".", 1)[-1]
    by_name = CALLS_BY_NAME.get(name)
    if handlers is None and by_name is None:
        return
    call = Call(ctx, caps["call"][0], fn, qual)
    for h in handlers or ():
        h(ctx, call)
    for h in by_name or ():
        h(ctx, call)


def _check_import_name(ctx: FileContext, node: Node, names: list[str]) -> None:
    for rid, prefixes in BLACKLIST_IMPORTS:
        for name in names:
            if any(name.startswith(p) for p in prefixes):
                ctx.report(
                    rid,
                    node,
                    f"Consider possible security implications associated with the {name} module."
                    if RULE_BY_ID[rid].severity == "low"
                    else None,
                )
                break


def _import_call(ctx: FileContext, call: Call) -> None:
    _check_import_name(ctx, call.node, [call.qual])


for _rid, _prefixes in BLACKLIST_IMPORTS:
    for _p in _prefixes:
        CALLS_BY_QUAL.setdefault(_p, []).append(_import_call)


def on_import(ctx: FileContext, caps: dict) -> None:
    node = caps["imp"][0]
    names = []
    for child in node.named_children:
        if child.type == "dotted_name":
            names.append(text_of(child))
        elif child.type == "aliased_import":
            names.append(text_of(child.child_by_field_name("name")))
    _check_import_name(ctx, node, names)


def on_import_from(ctx: FileContext, caps: dict) -> None:
    node = caps["impfrom"][0]
    module_node = node.child_by_field_name("module_name")
    module = text_of(module_node).lstrip(".") if module_node is not None else ""
    prefix = f"{module}." if module else ""
    names = []
    for child in node.children_by_field_name("name"):
        n = child.child_by_field_name("name") if child.type == "aliased_import" else child
        names.append(prefix + text_of(n))
    if not names and module:
        names.append(module + ".*")
    _check_import_name(ctx, node, names)


def on_assert(ctx: FileContext, caps: dict) -> None:
    ctx.report(B101, caps["assert"][0])


def on_exec_stmt(ctx: FileContext, caps: dict) -> None:
    ctx.report(B102, caps["exec"][0])


def on_except(ctx: FileContext, caps: dict) -> None:
    node = caps["except"][0]
    block = None
    type_node = None
    for c in node.named_children:
        if c.type == "block":
            block = c
        elif c.type != "comment" and type_node is None:
            type_node = c
    if block is None:
        return
    body = [c for c in block.named_children if c.type != "comment"]
    if len(body) != 1 or body[0].type not in ("pass_statement", "continue_statement"):
        return
    if type_node is not None:
        t = (
            type_node.named_children[0]
            if type_node.type == "as_pattern" and type_node.named_child_count
            else type_node
        )
        if text_of(t) != "Exception":
            return
    rid = B110 if body[0].type == "pass_statement" else B112
    ctx.report(rid, (node, body[0]))


def on_password_assign(ctx: FileContext, caps: dict) -> None:
    target = caps["target"][0]
    value = caps["value"][0]
    assign = target.parent
    if assign is None or assign.child_by_field_name("type") is not None:
        return
    name = (
        text_of(target.child_by_field_name("attribute"))
        if target.type == "attribute"
        else text_of(target)
    )
    if secret_name(name):
        sv = string_value(value)
        ctx.report(
            B105,
            value,
            f"Possible hardcoded password: '{sv if sv is not None else string_parts(value)}'",
        )


def on_password_pair(ctx: FileContext, caps: dict) -> None:
    key, value = caps["key"][0], caps["value"][0]
    k = string_value(key)
    if k is not None and secret_name(k):
        ctx.report(B105, key, f"Possible hardcoded password: '{string_value(value)}'")


def on_password_subscript(ctx: FileContext, caps: dict) -> None:
    key, value = caps["key"][0], caps["value"][0]
    k = string_value(key)
    if k is not None and secret_name(k) and string_value(value) is not None:
        ctx.report(B105, key, f"Possible hardcoded password: '{string_value(value)}'")


def on_password_compare(ctx: FileContext, caps: dict) -> None:
    cmp_node = caps["cmp"][0]
    named = [c for c in cmp_node.named_children if c.type != "comment"]
    if len(named) < 2 or named[1].type not in STRINGISH:
        return
    left = named[0]
    name = (
        text_of(left.child_by_field_name("attribute"))
        if left.type == "attribute"
        else text_of(left)
        if left.type == "identifier"
        else ""
    )
    if name and secret_name(name) and string_value(named[1]) is not None:
        ctx.report(B105, named[1], f"Possible hardcoded password: '{string_value(named[1])}'")


def on_password_kwarg(ctx: FileContext, caps: dict) -> None:
    kw = caps["kw"][0]
    if kw.parent is None or kw.parent.parent is None or kw.parent.parent.type != "call":
        return
    name = text_of(kw.child_by_field_name("name"))
    value = kw.child_by_field_name("value")
    if secret_name(name) and string_value(value) is not None:
        ctx.report(B106, value, f"Possible hardcoded password: '{string_value(value)}'")  # type: ignore[arg-type]


def on_password_default(ctx: FileContext, caps: dict) -> None:
    param = caps["param"][0]
    params = param.parent
    if (
        params is None
        or params.type != "parameters"
        or params.parent is None
        or params.parent.type != "function_definition"
    ):
        return
    # keyword-only parameters (after * or *args) are not checked, as in bandit
    for sib in params.named_children:
        if sib == param:
            break
        if sib.type in ("keyword_separator", "list_splat_pattern"):
            return
    name = text_of(param.child_by_field_name("name"))
    value = param.child_by_field_name("value")
    if not secret_name(name) or string_value(value) is None:
        return
    fn = params.parent
    seen = ctx.facts.setdefault("b107", set())
    if fn.id in seen:
        return
    seen.add(fn.id)
    ctx.report(B107, (fn, value), f"Possible hardcoded password: '{string_value(value)}'")  # type: ignore[arg-type]


def on_tls_default(ctx: FileContext, caps: dict) -> None:
    param = caps["param"][0]
    value = param.child_by_field_name("value")
    if value is None or text_of(value).split(".")[-1] not in BAD_TLS:
        return
    fn = param.parent.parent if param.parent is not None else None
    if fn is None or fn.type != "function_definition":
        return
    seen = ctx.facts.setdefault("b503", set())
    if fn.id not in seen:
        seen.add(fn.id)
        ctx.report(B503, (fn, value))


def _not_docstring(node: Node) -> bool:
    par = node.parent
    return par is None or par.type != "expression_statement"


def on_bind_all(ctx: FileContext, caps: dict) -> None:
    s = caps["str"][0]
    if _not_docstring(s) and string_value(s) == "0.0.0.0":
        ctx.report(B104, s)


def on_tmp(ctx: FileContext, caps: dict) -> None:
    content = caps["content"][0]
    s = content.parent
    if s is None or not _not_docstring(s):
        return
    prev = content.prev_sibling
    if prev is None or prev.type not in ("string_start", "interpolation"):
        return
    if (
        s.parent is not None
        and s.parent.type == "concatenated_string"
        and s.parent.named_children[0] != s
    ):
        return
    ctx.report(B108, s)


def _binop_top(node: Node) -> Node:
    while node.parent is not None and node.parent.type in (
        "binary_operator",
        "parenthesized_expression",
    ):
        if node.parent.type == "parenthesized_expression" and (
            node.parent.parent is None or node.parent.parent.type != "binary_operator"
        ):
            break
        node = node.parent
    return node


def _binop_strings(node: Node, out: list[str]) -> None:
    for c in node.named_children:
        if c.type in ("binary_operator", "parenthesized_expression"):
            _binop_strings(c, out)
        elif c.type in STRINGISH:
            out.append(
                string_parts(c)
                if is_fstring(c) or c.type == "concatenated_string"
                else (string_value(c) or string_parts(c))
            )


def _wrapper_is_execute(wrapper: Node | None) -> bool:
    if (
        wrapper is None
        or wrapper.type != "argument_list"
        or wrapper.parent is None
        or wrapper.parent.type != "call"
    ):
        return False
    fn = wrapper.parent.child_by_field_name("function")
    name = (
        text_of(fn.child_by_field_name("attribute"))
        if fn is not None and fn.type == "attribute"
        else text_of(fn)
    )
    return name in ("execute", "executemany")


def _literal_only(node: Node) -> bool:
    """Whether an expression is built from literals alone (``"a" + "b"``, ``"x %s" % ("y",)``): no data can reach it."""
    stack = [node]
    while stack:
        n = stack.pop()
        t = n.type
        if t in ("string", "concatenated_string"):
            if any(c.type == "interpolation" for c in n.named_children) or (
                t == "concatenated_string" and any(is_fstring(c) for c in n.named_children)
            ):
                return False
        elif t in ("integer", "float", "true", "false", "none", "comment"):
            pass
        elif t in ("binary_operator", "parenthesized_expression", "tuple", "list", "argument_list"):
            stack.extend(n.named_children)
        else:
            return False
    return True


def on_sql_binop(ctx: FileContext, caps: dict) -> None:
    top = _binop_top(caps["bin"][0])
    seen = ctx.facts.setdefault("sqlbin", set())
    if top.id in seen:
        return
    seen.add(top.id)
    if _literal_only(top):
        return
    parts: list[str] = []
    _binop_strings(top, parts)
    if SQL_RE.search("".join(parts)):
        conf = "medium" if _wrapper_is_execute(top.parent) else "low"
        ctx.report(B608, top, confidence=conf)


def on_sql_format(ctx: FileContext, caps: dict) -> None:
    s, m, call = caps["str"][0], caps["m"][0], caps["call"][0]
    args = call.child_by_field_name("arguments")
    if args is not None and _literal_only(args):
        return
    stmt = string_value(s) if s.type == "string" and not is_fstring(s) else string_parts(s)
    if stmt and SQL_RE.search(stmt):
        replace = text_of(m) == "replace"
        conf = "medium" if _wrapper_is_execute(call.parent) and not replace else "low"
        ctx.report(B608, s, confidence=conf)


def on_sql_fstring(ctx: FileContext, caps: dict) -> None:
    s = caps["fstr"][0]
    if s.parent is not None and s.parent.type == "concatenated_string":
        s = s.parent
        seen = ctx.facts.setdefault("sqlcat", set())
        if s.id in seen:
            return
        seen.add(s.id)
    if s.parent is not None and s.parent.type == "expression_statement":
        return
    if SQL_RE.search(string_parts(s)):
        par = s.parent
        if par is not None and par.type == "concatenated_string":
            par = par.parent
        conf = "medium" if _wrapper_is_execute(par) else "low"
        ctx.report(B608, s, confidence=conf)


def on_cert_none(ctx: FileContext, caps: dict) -> None:
    node = caps["hit"][0]
    value = caps["value"][0]
    target = caps.get("target", [None])[0]
    tname = text_of(target).split(".")[-1] if target is not None else ""
    v = text_of(value)
    if v.split(".")[-1] == "CERT_NONE" and tname in ("verify_mode", "cert_reqs"):
        fix = Fix(
            "Require certificates",
            (ctx.edit(value, v.rsplit("CERT_NONE", 1)[0] + "CERT_REQUIRED"),),
        )
        ctx.report(S001, node, fix=fix)
    elif tname == "check_hostname" and value.type == "false":
        ctx.report(S001, node, fix=Fix("Check host names", (ctx.edit(value, "True"),)))


def on_django_debug(ctx: FileContext, caps: dict) -> None:
    if not ctx.path.replace("\\", "/").rsplit("/", 1)[-1].startswith("settings"):
        return
    node = caps["hit"][0]
    if (
        node.parent is not None
        and node.parent.type == "expression_statement"
        and node.parent.parent is not None
        and node.parent.parent.type == "module"
    ):
        ctx.report(S004, node, fix=Fix("Turn DEBUG off", (ctx.edit(caps["value"][0], "False"),)))


def on_py2(ctx: FileContext, caps: dict) -> None:
    ctx.facts["py2"] = True


def bidi_check(ctx: FileContext) -> None:
    m = BIDI.search(ctx.text)
    if m is None:
        return
    line = ctx.text.count("\n", 0, m.start())
    line_start = ctx.text.rfind("\n", 0, m.start()) + 1
    col_chars = m.start() - line_start
    # report in byte columns (the engine converts back)
    col_bytes = len(ctx.text[line_start : m.start()].encode("utf-8", "replace"))
    del col_chars
    ctx.report_at(
        B613,
        (line, col_bytes),
        (line, col_bytes + len(m.group().encode("utf-8"))),
        f"A Python source file contains bidirectional control characters ({m.group()!r}).",
    )


PATTERNS: list[Pattern] = [
    Pattern("(import_statement) @imp", collect_import, phase=0),
    Pattern("(import_from_statement) @impfrom", collect_import, phase=0),
    Pattern("(assignment left: (identifier) @name right: (_) @value)", collect_assignment, phase=0),
    Pattern("(function_definition) @fndef", collect_params, phase=0),
    Pattern("[(print_statement) (exec_statement)] @py2", on_py2, phase=0),
    Pattern("(call function: (_) @fn) @call", on_call),
    Pattern("(import_statement) @imp", on_import),
    Pattern("(import_from_statement) @impfrom", on_import_from),
    Pattern("(assert_statement) @assert", on_assert),
    Pattern("(exec_statement) @exec", on_exec_stmt),
    Pattern("(except_clause) @except", on_except),
    Pattern('(keyword_argument name: (identifier) @k (#eq? @k "shell")) @kw', _other_shell_keyword),
    Pattern(
        '(keyword_argument name: (identifier) @k (#any-of? @k "ssl_version" "method")) @kw',
        _bad_tls_keyword,
    ),
    Pattern(
        '(keyword_argument name: (identifier) @k value: [(string) (concatenated_string)] (#match? @k "(?i)(pas|pwd|token|secret)")) @kw',
        on_password_kwarg,
    ),
    Pattern(
        '(assignment left: [(identifier) (attribute)] @target right: [(string) (concatenated_string)] @value (#match? @target "(?i)(pas|pwd|token|secret)"))',
        on_password_assign,
    ),
    Pattern(
        '(pair key: (string) @key value: [(string) (concatenated_string)] @value (#match? @key "(?i)(pas|pwd|token|secret)"))',
        on_password_pair,
    ),
    Pattern(
        '(assignment left: (subscript subscript: (string) @key) right: (string) @value (#match? @key "(?i)(pas|pwd|token|secret)"))',
        on_password_subscript,
    ),
    Pattern(
        '(comparison_operator [(identifier) (attribute)] @left (#match? @left "(?i)(pas|pwd|token|secret)")) @cmp',
        on_password_compare,
    ),
    Pattern(
        "[(default_parameter value: (string)) (typed_default_parameter value: (string))] @param",
        on_password_default,
    ),
    Pattern(
        '([(default_parameter value: [(attribute) (identifier)] @v) (typed_default_parameter value: [(attribute) (identifier)] @v)] @param (#match? @v "(SSL|TLS)v"))',
        on_tls_default,
    ),
    Pattern(
        '((string) @str (#match? @str "^[bBrRuU]*[\\"\']0\\\\.0\\\\.0\\\\.0[\\"\']$"))', on_bind_all
    ),
    Pattern('((string_content) @content (#match? @content "^(/tmp|/var/tmp|/dev/shm)"))', on_tmp),
    Pattern("(binary_operator [(string) (concatenated_string)]) @bin", on_sql_binop),
    Pattern(
        '(call function: (attribute object: [(string) (concatenated_string)] @str attribute: (identifier) @m) (#any-of? @m "format" "replace")) @call',
        on_sql_format,
    ),
    Pattern("(string (interpolation)) @fstr", on_sql_fstring),
    Pattern(
        '(assignment left: (_) @target right: (_) @value (#match? @target "(verify_mode|cert_reqs|check_hostname)$")) @hit',
        on_cert_none,
    ),
    Pattern(
        '(keyword_argument name: (identifier) @target value: (_) @value (#eq? @target "cert_reqs")) @hit',
        on_cert_none,
    ),
    Pattern(
        '(assignment left: (identifier) @n right: (true) @value (#eq? @n "DEBUG")) @hit',
        on_django_debug,
    ),
]

RULE_BY_ID = {r.id: r for r in RULES}

RULESET = RuleSet(LANGS, RULES, PATTERNS, [bidi_check])
