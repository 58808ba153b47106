"""gunicorn's access log names no path: paths carry secrets (a password-reset or invitation
token, a calendar feed's token). Read from gunicorn.conf.py's source (importing it would set
PROMETHEUS_MULTIPROC_DIR for the test process)."""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys

from config import BASE_DIR

# gunicorn's atoms (gunicorn.glogging.Logger.atoms): %(name)s, or %({header}i|o|e)s.
ATOM = re.compile(r"%\((\{[^}]*\}[ioe]|\w+)\)s")
# The path (U), query string (q), request line (r), referrer (f) and raw URI header atoms.
ALLOWED = {"m", "s", "B", "M", "{x-request-id}o"}


def _access_log_format() -> str:
    tree = ast.parse((BASE_DIR / "gunicorn.conf.py").read_text())
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
            isinstance(target, ast.Name) and target.id == "access_log_format"
            for target in node.targets
        ):
            assert isinstance(node.value, ast.Constant)
            return node.value.value
    raise AssertionError("gunicorn.conf.py sets no access_log_format")


def test_access_log_has_method_status_size_duration_and_request_id_but_no_path():
    fmt = _access_log_format()
    atoms = set(ATOM.findall(fmt))
    assert atoms == ALLOWED
    # Nothing else in the format that gunicorn would expand.
    assert ATOM.sub("", fmt).count("%(") == 0
    for path_atom in ("U", "q", "r", "f", "{raw_uri}e", "{path_info}e", "{referer}i"):
        assert f"%({path_atom})s" not in fmt


HOOK = """
import json, runpy, sys
conf = runpy.run_path(sys.argv[1])
conf["post_worker_init"](None)
from portal.auth import passwords
print(json.dumps(passwords._dummy_hash.cache_info().currsize))
"""


def test_a_worker_starting_computes_the_sign_in_stand_in_hash(tmp_path):
    """gunicorn.conf.py's post_worker_init runs in every worker at boot: if it raises, no worker
    starts and the portal does not serve at all."""
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}
    done = subprocess.run(
        [sys.executable, "-c", HOOK, str(BASE_DIR / "gunicorn.conf.py")],
        capture_output=True, text=True, env=env, cwd=BASE_DIR, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "1"
