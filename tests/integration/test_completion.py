"""`ferry completion bash|zsh`: the scripts, loaded into a real bash and a real zsh, complete what a
user types. Bash runs the completion function exactly as readline would call it (COMP_WORDS,
COMP_CWORD, then COMPREPLY); zsh runs it with its completion builtins (compadd, _files) replaced
by stand-ins that print what they were given, since zsh offers completion only on a terminal."""

import shutil
import unittest

from ferrytest.ferry import Ferry
from ferrytest.testcase import ServerTestCase
from ferrytest.util import run


class BashCompletion(ServerTestCase):
    @classmethod
    def setUpClass(cls):
        with Ferry() as ferry:
            r = ferry.run("completion", "bash")
        assert r.code == 0, str(r)
        cls.script = r.out

    def complete(self, *words):
        """What bash offers for the last of `words` (the word being typed; "" for a new one)."""
        path = self.tmp.sub("ferry.bash")
        with open(path, "w") as f:
            f.write(self.script)
        quoted = " ".join("'" + w + "'" for w in ("ferry",) + words)
        r = run(["bash", "--norc", "-c", f"source '{path}'; COMP_WORDS=({quoted}); COMP_CWORD={len(words)}; "
                 "_ferry; printf '%s\\n' \"${COMPREPLY[@]}\"; complete -p ferry"])
        lines = r.stdout.splitlines()
        return [w for w in lines[:-1] if w], lines[-1]  # printf prints one empty line for no words

    def test_a_subcommand(self):
        self.assertEqual(self.complete("ins")[0], ["install"])
        self.assertEqual(self.complete("bundle", "l")[0], ["load"])
        self.assertIn("completion", self.complete("")[0])

    def test_a_flag_of_the_command_being_typed(self):
        self.assertEqual(self.complete("install", "--selftest-d")[0], ["--selftest-duration"])
        self.assertEqual(self.complete("install", "--self")[0], ["--selftest", "--selftest-duration"])
        self.assertEqual(self.complete("bundle", "save", "--split")[0], ["--split-size"])
        # A global flag before the command does not hide which command it is.
        self.assertEqual(self.complete("-v", "install", "--no-wait")[0], ["--no-wait-load-balancer"])
        self.assertIn("--verbose", self.complete("copy", "--verb")[0])

    def test_values_of_flags_that_take_few(self):
        self.assertEqual(sorted(self.complete("install", "--output", "")[0]), ["json", "text"])
        self.assertEqual(sorted(self.complete("mirror", "--naming", "")[0]), ["flatten", "preserve", "template"])
        self.assertIn("knative-1.23-kourier", self.complete("images", "--profile", "knative-1")[0])
        self.assertEqual(self.complete("completion", "z")[0], ["zsh"])

    def test_a_file_after_a_flag_that_takes_one(self):
        offered, spec = self.complete("install", "--lock", "ima")
        self.assertEqual(offered, [])  # nothing of ferry's own: bash's default, file names, takes over
        self.assertIn("-o default", spec)
        self.assertTrue(spec.endswith(" ferry"), spec)


@unittest.skipUnless(shutil.which("zsh"), "zsh is not installed (make test installs the Debian package zsh)")
class ZshCompletion(ServerTestCase):
    def complete(self, *words):
        with Ferry() as ferry:
            r = ferry.run("completion", "zsh")
        self.assertEqual(r.code, 0, str(r))
        path = self.tmp.sub("_ferry")
        with open(path, "w") as f:
            f.write(r.out)
        quoted = " ".join("'" + w + "'" for w in ("ferry",) + words)
        r = run(["zsh", "-f", "-c", "compadd() { [[ $1 == -- ]] && shift; print -l -- \"$@\"; }; "
                 "_files() { print '<files>'; }; "
                 f"source '{path}'; words=({quoted}); CURRENT={len(words) + 1}; _ferry"])
        return r.stdout.splitlines()

    def test_subcommands_flags_values_and_files(self):
        self.assertIn("install", self.complete("ins"))
        self.assertIn("save", self.complete("bundle", "s"))
        self.assertIn("--selftest", self.complete("install", "--s"))
        self.assertNotIn("--split-size", self.complete("install", "--s"))
        self.assertEqual(sorted(self.complete("install", "--output", "")), ["json", "text"])
        self.assertEqual(self.complete("install", "--lock", ""), ["<files>"])


if __name__ == "__main__":
    unittest.main()
