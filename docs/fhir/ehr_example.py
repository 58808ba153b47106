"""A referring EHR's side of the portal's FHIR API: sign an assertion, get a token, send the
example referral (a transaction Bundle), then follow its Task. With --follow (a clinic-wide
client: it reads and follows, never sends), list the first Tasks it sees instead.

Usage: python ehr_example.py CLIENT_ID ehr-private.pem [--follow]
(PORTAL_FHIR overrides the base, default http://127.0.0.1:5000/fhir/r4.)"""

import json
import os
import sys
import time
import uuid
from pathlib import Path

import jwt
import requests

BASE = os.environ.get("PORTAL_FHIR", "http://127.0.0.1:5000/fhir/r4")
CLIENT_ID, KEY = sys.argv[1], Path(sys.argv[2]).read_bytes()
FHIR = {"Accept": "application/fhir+json", "Content-Type": "application/fhir+json"}


def access_token(scope: str) -> str:
    """SMART Backend Services: a client_credentials grant with a signed JWT (ES384)."""
    claims = {
        "iss": CLIENT_ID,
        "sub": CLIENT_ID,
        "aud": f"{BASE}/auth/token",
        "exp": int(time.time()) + 240,  # at most 5 minutes
        "jti": uuid.uuid4().hex,  # used once
    }
    assertion = jwt.encode(claims, KEY, algorithm="ES384", headers={"kid": "ehr-1"})
    response = requests.post(
        f"{BASE}/auth/token",
        data={
            "grant_type": "client_credentials",
            "scope": scope,
            "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            "client_assertion": assertion,
        },
        timeout=30,
    )
    response.raise_for_status()
    return response.json()["access_token"]


def print_tasks(params: dict[str, str]) -> None:
    tasks = requests.get(f"{BASE}/Task", params=params, headers=auth, timeout=30).json()
    for entry in tasks.get("entry", []):
        task = entry["resource"]
        print("Task", task["id"], task["status"], task["businessStatus"]["coding"][0]["code"])


token = access_token("system/ServiceRequest.cru system/Task.rs")
auth = {**FHIR, "Authorization": f"Bearer {token}"}
if sys.argv[3:] == ["--follow"]:  # a clinic-wide client: every referral of its clinic
    print_tasks({"_count": "5"})
    sys.exit(0)

# The example referral; the portal's own code systems live under its base URL.
text = (Path(__file__).parent / "example-referral.json").read_text()
bundle = json.loads(text.replace("http://127.0.0.1:5000/fhir/r4", BASE))
sent = requests.post(BASE, json=bundle, headers=auth, timeout=60)
if sent.status_code != 200:
    sys.exit(f"refused ({sent.status_code}): {json.dumps(sent.json(), indent=2)}")
location = sent.json()["entry"][0]["response"]["location"]  # ServiceRequest/ID/_history/N
referral_id = location.split("/")[1]
print("sent", location)
print_tasks({"focus": f"ServiceRequest/{referral_id}"})
