"""Keeps README.md honest about ferry's commands (the house rule: the README documents every command
that exists, with an example), checked against what the real binary's --help says.

Contract under test:
1. every command `ferry --help` lists (and every sub-command of a group, from `ferry GROUP --help`)
   has a `### ` heading naming it (`### `ferry bundle save | load``) and, in that section, a line
   in a ```sh block starting with `ferry <command>`;
2. every flag in a README example (a ```sh line starting with `ferry `, `\\` continuations joined,
   cut at `|`, `&&`, `;`, `>`) or in a heading is listed by that command's --help, so renaming or
   removing a flag fails here until the README follows;
3. the "Set up" section begins with `make demo` then `make test`, and the Makefile has both targets.
Every failure names the command, flag or section and its README line."""

import os
import re
import shlex
import unittest

from ferrytest.ferry import Ferry

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
PUNCTUATION = "();<>|&"  # shell operators: what follows belongs to another program


class CommandHelp:
    """What `ferry PATH --help` says: the sub-commands it lists and the flag names it accepts."""

    def __init__(self, path, text):
        self.path = path
        self.text = text
        self.subcommands = []
        self.flags = set()
        self.switches = set()  # short flags without a value, which may be stacked (-vv)
        section = None
        for line in text.splitlines():
            if line and not line[0].isspace():
                section = line.strip()  # "Options:", "Subcommands:", footer text...
            elif not line.strip():
                section = None  # CLI11 ends each section with a blank line
            elif section == "Subcommands:":
                self.subcommands.append(line.split()[0])
            elif section == "Options:" and line.lstrip().startswith("-"):
                # "  -f,--filename TEXT ...", "  --src-tls-verify{true}  Verify..."
                names, _, value = re.split(r"\s{2,}", line.strip())[0].partition(" ")
                for name in names.split(","):
                    name = re.sub(r"\{.*\}$", "", name)
                    self.flags.add(name)
                    if len(name) == 2 and not value:
                        self.switches.add(name[1])

    def name(self):
        return " ".join(("ferry",) + self.path)

    def unknown_flag(self, token):
        """None if this command accepts the flag `token` (a word starting with '-'), else its name."""
        name = token.split("=", 1)[0]
        if name.startswith("--") or len(name) == 2:
            return None if name in self.flags else name
        if set(name[1:]) <= self.switches:
            return None
        # hey's single-dash long flags (`ferry load -host`): --host listed and -host documented.
        spelled = re.search(rf"(?<![\w-]){re.escape(name)}(?![\w-])", self.text)
        return None if "-" + name in self.flags and spelled else name


def read_command_tree(ferry):
    """{path: CommandHelp} for the root, every command and every sub-command of a group."""
    tree, queue = {}, [()]
    while queue:
        path = queue.pop(0)
        r = ferry.run(*path, "--help")
        usage = f"Usage: {ferry.bin} {' '.join(path)}".rstrip() + " "
        if r.code != 0 or usage not in r.out:
            raise AssertionError(f"`ferry {' '.join(path)} --help` did not describe that command:\n{r}")
        tree[path] = CommandHelp(path, r.out)
        queue += [path + (name,) for name in tree[path].subcommands]
    return tree


class Readme:
    """README text as headings, fenced blocks and ```sh command lines, each with its line number."""

    def __init__(self, text, name="README.md"):
        self.name = name
        self.headings = []  # (line, level, text)
        self.blocks = []  # (line of the opening fence, language, [(line, text)])
        self.sh_lines = []  # (line, text): ```sh lines, a `\` continuation joined to its start
        block, pending = None, None
        for number, line in enumerate(text.splitlines(), start=1):
            if line.startswith("```"):
                block = (number, line[3:].strip(), []) if block is None else None
                if block:
                    self.blocks.append(block)
                continue
            if block is None:
                m = re.match(r"(#{1,6}) (.*)", line)
                if m:
                    self.headings.append((number, len(m.group(1)), m.group(2).strip()))
                continue
            block[2].append((number, line))
            if block[1] != "sh":
                continue
            start, joined = pending or (number, "")
            joined += line
            pending = (start, joined[:-1]) if line.rstrip().endswith("\\") else None
            if pending is None:
                self.sh_lines.append((start, joined))

    def where(self, line):
        return f"{self.name}:{line}"

    def section_end(self, heading_line):
        """The line after the section a heading opens: the next heading of its level or above."""
        level = next(lv for n, lv, _ in self.headings if n == heading_line)
        later = [n for n, lv, _ in self.headings if n > heading_line and lv <= level]
        return later[0] if later else float("inf")

    def ferry_examples(self):
        """(line, words after `ferry`) for every ```sh line starting with `ferry `, cut at the first
        shell operator; (line, None) when the line is not valid shell."""
        for line, text in self.sh_lines:
            if not text.lstrip().startswith("ferry "):
                continue
            lexer = shlex.shlex(text, posix=True, punctuation_chars=PUNCTUATION)
            lexer.whitespace_split = True
            try:
                words = list(lexer)
            except ValueError:
                yield line, None
                continue
            cut = next((i for i, w in enumerate(words) if set(w) <= set(PUNCTUATION)), len(words))
            yield line, words[1:cut]


def resolve(words, tree):
    """Splits `words` (what follows `ferry`) into (command path, its arguments, root flags), taking
    `a | b` alternatives as in headings: ([paths], rest, root flags)."""
    root_flags = []
    while words and words[0].startswith("-"):
        root_flags, words = root_flags + [words[0]], words[1:]
    path = ()
    while words and words[0] in tree[path].subcommands:
        names, words = [words[0]], words[1:]
        while len(words) >= 2 and words[0] == "|" and words[1] in tree[path].subcommands:
            names, words = names + [words[1]], words[2:]
        if len(names) > 1:
            return [path + (n,) for n in names], [], root_flags
        path += (names[0],)
    return ([path] if path else []), words, root_flags


def flag_problems(where, words, tree):
    """Problems with the command and flags of one `ferry ...` line (words after `ferry`)."""
    paths, args, root_flags = resolve(words, tree)
    problems = [f"{where}: `ferry {f}`: `ferry --help` does not list the flag {tree[()].unknown_flag(f)}"
                for f in root_flags if tree[()].unknown_flag(f)]
    if not paths:
        return problems + [f"{where}: `ferry {' '.join(args[:1])}` is not a command `ferry --help` lists"]
    if len(paths) > 1:
        return problems
    command = tree[paths[0]]
    if command.subcommands:
        return problems + [f"{where}: `{command.name()}` needs one of {', '.join(command.subcommands)}"]
    for word in args:
        word = word.strip("[]")  # `[--tag latest]`: an optional flag
        if word == "--":
            break  # the rest are arguments
        if word.startswith("-") and word != "-" and command.unknown_flag(word):
            problems.append(f"{where}: `{command.name()} {word}`: `{command.name()} --help` does not "
                            f"list {command.unknown_flag(word)}")
    return problems


def heading_commands(readme, tree):
    """[(heading line, [command paths], words after `ferry`)] for `ferry ...` code spans."""
    found = []
    for line, level, text in readme.headings:
        for span in re.findall(r"`([^`]*)`", text):
            words = span.split()
            if level == 3 and words[:1] == ["ferry"]:
                paths, _, _ = resolve(words[1:], tree)
                found.append((line, paths, words[1:]))
    return found


def command_problems(readme, tree):
    """Commands without a `### ` heading, or without an example line in their section."""
    problems = []
    headings = heading_commands(readme, tree)
    for path, command in sorted(tree.items()):
        if not path or command.subcommands:
            continue  # the root and groups are documented through their commands
        name = command.name()
        sections = [line for line, paths, _ in headings if path in paths]
        if not sections:
            problems.append(f"{readme.name}: `{name}` has no `### ` heading naming it")
            continue
        examples = [line for line, words in readme.ferry_examples()
                    if words and tuple(words[:len(path)]) == path
                    and any(s < line < readme.section_end(s) for s in sections)]
        if not examples:
            problems.append(f"{readme.where(sections[0])}: the section of `{name}` has no ```sh "
                            f"example line starting with `{name}`")
    return problems


def all_flag_problems(readme, tree):
    problems = []
    for line, words in readme.ferry_examples():
        if words is None:
            problems.append(f"{readme.where(line)}: the example is not valid shell (unbalanced quotes?)")
        else:
            problems += flag_problems(readme.where(line), words, tree)
    for line, paths, words in heading_commands(readme, tree):
        problems += flag_problems(readme.where(line), words, tree)
    return problems


def setup_problems(readme, makefile):
    """The Set up section's first block must begin with `make demo`, `make test`; both targets exist."""
    heading = next((n for n, lv, text in readme.headings if lv == 2 and text == "Set up"), None)
    if heading is None:
        return [f"{readme.name}: no `## Set up` section"]
    end = readme.section_end(heading)
    block = next((b for b in readme.blocks if heading < b[0] < end), None)
    if block is None:
        return [f"{readme.where(heading)}: the Set up section has no ``` block with the set-up commands"]
    commands = [(n, t.split("#", 1)[0].strip()) for n, t in block[2] if t.split("#", 1)[0].strip()]
    problems = []
    for i, want in enumerate(["make demo", "make test"]):
        n, got = commands[i] if i < len(commands) else (block[0], "nothing")
        if got != want:
            problems.append(f"{readme.where(n)}: the Set up block's command {i + 1} must be `{want}`, "
                            f"found `{got}`")
        target = want.split()[1]
        if not re.search(rf"^{target}\s*:", makefile, re.M):
            problems.append(f"Makefile: no `{target}:` target, but {readme.where(n)} tells users to run "
                            f"`{want}`")
    return problems


def read(path):
    with open(path, encoding="utf-8") as f:
        return f.read()


class ReadmeTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        with Ferry() as ferry:
            cls.tree = read_command_tree(ferry)
        cls.readme = Readme(read(os.path.join(ROOT, "README.md")))

    def assertNoProblems(self, problems):
        if problems:
            self.fail(f"{len(problems)} README problem(s):\n" + "\n".join(problems))

    def test_every_command_has_a_section_with_an_example(self):
        self.assertGreaterEqual(len(self.tree), 15, sorted(self.tree))  # the help was really read
        self.assertNoProblems(command_problems(self.readme, self.tree))

    def test_every_flag_in_an_example_is_accepted_by_its_command(self):
        self.assertNoProblems(all_flag_problems(self.readme, self.tree))

    def test_set_up_begins_with_make_demo_then_make_test(self):
        self.assertNoProblems(setup_problems(self.readme, read(os.path.join(ROOT, "Makefile"))))

    # The checks themselves, on a small README with known gaps, against the same --help.
    GAPPY = "\n".join([
        "## Set up",                                                          # 1
        "```sh",
        "make test   # runs the tests",                                       # 3
        "make demo",
        "```",
        "### `ferry copy SRC DST`",                                           # 6
        "```sh",
        "ferry copy a b --dest-creds u:p \\",                                 # 8
        "    --dest-credz u:p | skopeo inspect --raw b && kubectl get --watch",
        "ferry copy a b --src-tls-verify=false; ferry --bogus images",        # 10
        "```",
        "### `ferry cluster info --kontext NAME`",                            # 12
        "ferry cluster info  (prose, not an example)",
        "### `ferry load`",                                                   # 14
        "```sh",
        "ferry load -host h -c 5 [--output json] http://x/",                  # 16
        "ferry -vv lode -n 1",
        "ferry bundle -o x",                                                  # 18
        "```",
    ])

    def test_checks_name_each_gap_and_its_line(self):
        readme = Readme(self.GAPPY)
        self.assertEqual(all_flag_problems(readme, self.tree), [
            "README.md:8: `ferry copy --dest-credz`: `ferry copy --help` does not list --dest-credz",
            "README.md:17: `ferry lode` is not a command `ferry --help` lists",
            "README.md:18: `ferry bundle` needs one of " + ", ".join(self.tree[("bundle",)].subcommands),
            "README.md:12: `ferry cluster info --kontext`: `ferry cluster info --help` does not list --kontext",
        ])  # not skopeo's --raw, kubectl's --watch, nor --bogus after `;`; -host, -vv, [--output] are fine
        commands = command_problems(readme, self.tree)
        self.assertIn("README.md:12: the section of `ferry cluster info` has no ```sh example line starting "
                      "with `ferry cluster info`", commands)
        self.assertIn("README.md: `ferry selftest` has no `### ` heading naming it", commands)
        self.assertFalse([p for p in commands if "`ferry copy`" in p or "`ferry load`" in p], commands)
        setup = setup_problems(readme, "demo: build\n")
        self.assertEqual(setup, [
            "README.md:3: the Set up block's command 1 must be `make demo`, found `make test`",
            "README.md:4: the Set up block's command 2 must be `make test`, found `make demo`",
            "Makefile: no `test:` target, but README.md:4 tells users to run `make test`"], setup)


if __name__ == "__main__":
    unittest.main()
