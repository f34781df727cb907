"""The Python rule table: every rule's id, bandit id, CWE, wording and examples, the blacklists, shared constants and the call-dispatch registries the themed check modules register into."""

from __future__ import annotations

import re
from collections.abc import Callable

from slm_lsp.security.core import (
    FileContext,
)
from slm_lsp.security.model import (
    Rule,
)
from slm_lsp.security.rules.pyutil import (
    Call,
)

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


RULE_BY_ID = {r.id: r for r in RULES}
