"""Keeps the Chinese quickstart (docs/zh-CN/README.md) honest, the way test_readme.py keeps README.md:

1. every `ferry ...` line of its ```sh blocks names a command `ferry --help` lists, and every flag on
   it is one that command's --help lists (checked against the real binary, as test_readme.py does);
2. every such line is, word for word (comments and spacing aside), a command of README.md: the two
   documents never teach different commands;
3. README.md links to it near its top.
Every failure names the line."""

import os
import shlex
import unittest

from ferrytest.ferry import Ferry
from test_readme import ROOT, Readme, all_flag_problems, read, read_command_tree

ZH = os.path.join("docs", "zh-CN", "README.md")


def commands(readme):
    """{command as shell words, comment dropped: line} for each ```sh line starting with `ferry `."""
    found = {}
    for line, text in readme.sh_lines:
        if text.lstrip().startswith("ferry "):
            found.setdefault(" ".join(shlex.split(text, comments=True)), line)
    return found


class ChineseReadmeTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        with Ferry() as ferry:
            cls.tree = read_command_tree(ferry)
        cls.zh = Readme(read(os.path.join(ROOT, ZH)), name=ZH)
        cls.en = Readme(read(os.path.join(ROOT, "README.md")))

    def test_every_ferry_line_parses(self):
        self.assertGreaterEqual(len(commands(self.zh)), 10, "the quickstart shows the whole job")
        problems = all_flag_problems(self.zh, self.tree)
        self.assertEqual(problems, [], "\n".join(problems))

    def test_every_ferry_line_is_a_command_of_the_english_readme(self):
        english = commands(self.en)
        missing = [f"{self.zh.where(line)}: `{command}` is not in README.md"
                   for command, line in commands(self.zh).items() if command not in english]
        self.assertEqual(missing, [], "\n".join(missing))

    def test_the_english_readme_links_to_it_at_the_top(self):
        top = read(os.path.join(ROOT, "README.md")).splitlines()[:5]
        self.assertTrue(any(f"]({ZH})" in line for line in top), top)

    def test_the_checks_catch_a_wrong_flag_and_a_command_of_its_own(self):
        gappy = Readme("```sh\nferry install --profile p --selftst\nferry manifests list   # 注释\n```\n", name="zh")
        self.assertEqual(all_flag_problems(gappy, self.tree),
                         ["zh:2: `ferry install --selftst`: `ferry install --help` does not list --selftst"])
        self.assertEqual(sorted(commands(gappy)), ["ferry install --profile p --selftst", "ferry manifests list"])
        self.assertNotIn("ferry install --profile p --selftst", commands(self.en))


if __name__ == "__main__":
    unittest.main()
