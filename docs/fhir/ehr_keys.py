"""An EHR's key pair for SMART Backend Services: writes ehr-private.pem (keep it secret) and
ehr-jwks.json (the public key set an admin registers). Usage: python ehr_keys.py [DIR]"""

import json
import sys
from pathlib import Path

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

out = Path(sys.argv[1] if len(sys.argv) > 1 else ".")
key = ec.generate_private_key(ec.SECP384R1())
pem = key.private_bytes(
    serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
)
(out / "ehr-private.pem").write_bytes(pem)
public = jwt.algorithms.ECAlgorithm.to_jwk(key.public_key(), as_dict=True)
jwks = {"keys": [{**public, "kid": "ehr-1", "alg": "ES384", "use": "sig"}]}
(out / "ehr-jwks.json").write_text(json.dumps(jwks, indent=2))
print(f"wrote {out / 'ehr-private.pem'} and {out / 'ehr-jwks.json'}")
