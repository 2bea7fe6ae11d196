"""The release files the tests read, for a checkout that has none: ctest runs this first (the
`corpus` fixture) and `make test` shows its one line.

With $FERRY_CORPUS set or ../shared/corpus/manifests beside the checkout there is nothing to do.
Otherwise every built-in profile is fetched with `ferry manifests fetch` into ferry's own cache
($XDG_CACHE_HOME/ferry/manifests/PROFILE, the directory `--profile` without `--manifests-dir` uses;
sums checked, so a second run downloads nothing) and the files are copied flat into
$FERRY_CORPUS_FETCHED with a SHA256SUMS, written last: the directory counts only once it is complete.
When that is impossible (no network), the reason goes into $FERRY_CORPUS_FETCHED/UNAVAILABLE, the
tests that need the files skip themselves saying so, and this still exits 0: everything else runs.
$FERRY_CORPUS_BASE_URL, if set, is passed as --base-url (a server holding the files flat)."""

import hashlib
import json
import re
import os
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
from ferrytest.util import CORPUS_HOW_TO, CORPUS_UNAVAILABLE, find_corpus  # noqa: E402


def ferry(*args):
    return subprocess.run([os.environ["FERRY_BIN"], *args], capture_output=True, text=True, timeout=900)


def cache_dir(profile):
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "ferry", "manifests", profile)


def fetch_all(out):
    """Fetches every built-in profile; returns None, or the first failure as one line."""
    if not os.access(os.environ["FERRY_BIN"], os.X_OK):  # `make test SANITIZE=...` builds the C++ tests only
        return "ferry is not built in this build directory"
    listed = ferry("manifests", "list", "--output", "json")
    if listed.returncode != 0:
        return "ferry manifests list failed: " + listed.stderr.strip()
    base_url = os.environ.get("FERRY_CORPUS_BASE_URL")
    sums = {}
    for profile in json.loads(listed.stdout)["profiles"]:
        name = profile["name"]
        r = ferry("manifests", "fetch", "--profile", name, "-o", cache_dir(name),
                  *(["--base-url", base_url] if base_url else []))
        if r.returncode != 0:
            # The first cause ferry names ("HOST: what failed: N files (...)"), without the file list.
            lines = [line.strip() for line in r.stderr.splitlines() if line.strip()]
            cause = lines[1] if len(lines) > 1 and not lines[1].startswith("instead:") else lines[0] if lines else ""
            return re.sub(r": \d+ files \(.*\)$", "", cause) or f"ferry manifests fetch exited {r.returncode}"
        for f in profile["files"]:
            src = os.path.join(cache_dir(name), f["name"])
            with open(src, "rb") as fh:
                sums[f["name"]] = hashlib.sha256(fh.read()).hexdigest()
            shutil.copyfile(src, os.path.join(out, f["name"]))
    part = os.path.join(out, "SHA256SUMS.part")
    with open(part, "w") as fh:
        fh.writelines(f"{digest}  {name}\n" for name, digest in sorted(sums.items()))
    os.replace(part, os.path.join(out, "SHA256SUMS"))
    return None


def main():
    path, how = find_corpus()
    if path:
        print(f"release files for the tests: {path} ({how})")
        return 0
    out = os.environ.get("FERRY_CORPUS_FETCHED")
    if not out:
        print("FERRY_CORPUS_FETCHED is not set (ctest sets it)", file=sys.stderr)
        return 1
    os.makedirs(out, exist_ok=True)
    failure = fetch_all(out)
    unavailable = os.path.join(out, CORPUS_UNAVAILABLE)
    if failure is None:
        if os.path.exists(unavailable):
            os.remove(unavailable)
        print(f"release files for the tests: {out} (fetched with ferry manifests fetch)")
        return 0
    with open(unavailable, "w") as fh:
        fh.write(failure + "\n")
    print(f"release files unavailable ({failure}): the tests that need them are skipped; {CORPUS_HOW_TO}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
