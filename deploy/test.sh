#!/usr/bin/env bash
# The test command (README): on a fresh Debian 12 machine, installs what the tests need (only what is missing),
# builds the development guest, then runs `mvn -B verify` (*Test in surefire, which start no QEMU; *IT, on real
# QEMU or the packaged jar, in failsafe) and finally the README's first command, deploy/quickstart.sh, end to end.
# Extra arguments go to Maven (e.g. deploy/test.sh -Dtest=ConfigParserTest).
set -euo pipefail
cd "$(dirname "$0")/.."

. deploy/packages.sh
install_missing_packages

bash deploy/guest/build.sh
mvn -B -ntp verify "$@"
bash deploy/quickstart.sh

# One closing line over everything that ran (surefire, failsafe, and the quickstart as one more).
# Only each report's <testsuite> tag is read: a test's captured output may hold characters XML does not allow
# (the hostile-input tests send U+FFFF and the like, which surefire copies as they are), so no XML parser is used.
python3 - <<'PY'
import glob, re
run = failed = skipped = 0
for report in glob.glob("target/surefire-reports/TEST-*.xml") + glob.glob("target/failsafe-reports/TEST-*.xml"):
    with open(report, encoding="utf-8", errors="replace") as f:
        tag = re.search(r"<testsuite\b[^>]*>", f.read(65536)).group(0)
    count = lambda name: int((re.search(r'\b' + name + r'="(\d+)"', tag) or [0, 0])[1])
    run += count("tests")
    failed += count("failures") + count("errors")
    skipped += count("skipped")
print(f"tests: {run - failed - skipped + 1} passed, {failed} failed, {skipped} skipped")
PY
