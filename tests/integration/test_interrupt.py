"""What Ctrl-C (SIGINT) and kill (SIGTERM) leave behind: the files a command was replacing stay as
they were, and no temporary file remains beside them; the command ends by the signal.

Contract under test: `ferry rewrite --in-place` on a large release file, interrupted while it
writes the new version, leaves the original bytes and nothing else in the directory."""

import hashlib
import os
import signal
import subprocess
import unittest

from ferrytest.ferry import Ferry
from ferrytest.testcase import ServerTestCase
from ferrytest.util import corpus_dir, wait_until

TO = ["--to", "mirror.example.com/knative", "--naming", "flatten"]


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


class InterruptTest(ServerTestCase):
    def setUp(self):
        super().setUp()
        self.ferry = self.use(Ferry())

    def large_release_file(self, directory, megabytes=120):
        """The serving core release repeated to about `megabytes` MB: long enough to be caught
        while it is being written."""
        with open(os.path.join(corpus_dir(), "knative-serving-v1.23.0-serving-core.yaml"), "rb") as f:
            core = f.read()
        if not core.endswith(b"\n"):
            core += b"\n"
        path = os.path.join(directory, "release.yaml")
        with open(path, "wb") as f:
            for _ in range(megabytes * (1 << 20) // len(core) + 1):
                f.write(b"---\n" + core)
        return path

    def interrupt_rewrite(self, sig):
        directory = self.tmp.sub(f"release-{sig}", mkdir=True)
        path = self.large_release_file(directory)
        before = sha256_file(path)
        proc = subprocess.Popen([self.ferry.bin, "rewrite", "-f", path, *TO, "--in-place"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=self.ferry.env())
        try:
            def writing():
                if proc.poll() is not None:
                    raise AssertionError(f"ferry finished (exit {proc.returncode}) before it could be "
                                         "interrupted; the input must be larger")
                return len(os.listdir(directory)) > 1  # the new version is being written beside it
            wait_until(writing, "ferry to start writing the new release.yaml", timeout=120, interval=0.005)
            proc.send_signal(sig)
            proc.wait(timeout=60)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            proc.stderr.close()
        self.assertEqual(proc.returncode, -sig, "ferry did not end by the signal")
        self.assertEqual(os.listdir(directory), ["release.yaml"], "a temporary file was left behind")
        self.assertEqual(sha256_file(path), before, "the original file changed")

    def test_ctrl_c_during_rewrite_in_place_leaves_the_original_and_no_temporary_file(self):
        self.interrupt_rewrite(signal.SIGINT)

    def test_kill_during_rewrite_in_place_leaves_the_original_and_no_temporary_file(self):
        self.interrupt_rewrite(signal.SIGTERM)


if __name__ == "__main__":
    unittest.main()
