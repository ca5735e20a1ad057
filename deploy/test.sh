#!/usr/bin/env bash
# The test command (README): on a fresh Debian 12 machine, installs what the tests need (only what is missing),
# builds the development guest, then runs `mvn -B verify` (unit tests in surefire, tests that start the packaged
# jar (*IT) in failsafe) and finally the README's first command, deploy/quickstart.sh, end to end.
# Extra arguments go to Maven (e.g. deploy/test.sh -Dtest=ConfigParserTest).
set -euo pipefail
cd "$(dirname "$0")/.."

. deploy/packages.sh
install_missing_packages

bash deploy/guest/build.sh
mvn -B -ntp verify "$@"
bash deploy/quickstart.sh

# One closing line over everything that ran (surefire, failsafe, and the quickstart as one more).
python3 - <<'PY'
import glob, xml.etree.ElementTree as ET
run = failed = skipped = 0
for report in glob.glob("target/surefire-reports/TEST-*.xml") + glob.glob("target/failsafe-reports/TEST-*.xml"):
    suite = ET.parse(report).getroot()
    run += int(suite.get("tests", 0))
    failed += int(suite.get("failures", 0)) + int(suite.get("errors", 0))
    skipped += int(suite.get("skipped", 0))
print(f"tests: {run - failed - skipped + 1} passed, {failed} failed, {skipped} skipped")
PY
