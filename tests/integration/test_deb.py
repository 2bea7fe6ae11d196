"""`make deb`'s package, made here with cpack from the test build (FERRY_BUILD_DIR): it holds ferry
and its completions, its Depends name the Debian package of every shared library the binary needs
(as dpkg-shlibdeps computes them), dpkg finds those dependencies satisfiable on this Debian 12, and
the unpacked binary runs. (Installing it into a fresh debootstrap'd Debian 12 is done by hand; see
the closing note of issue 17.)"""

import glob
import os
import re
import shutil
import subprocess
import tempfile
import unittest

from ferrytest.testcase import ServerTestCase
from ferrytest.util import run


def build_dir():
    path = os.environ.get("FERRY_BUILD_DIR")
    if not path or not os.path.isfile(os.path.join(path, "CPackConfig.cmake")):
        raise RuntimeError(f"FERRY_BUILD_DIR={path!r} holds no CPackConfig.cmake (ctest sets it)")
    return path


def owning_package(library):
    """The Debian package that ships `library` (a path ldd printed), without its architecture."""
    for path in (library, os.path.realpath(library)):
        for candidate in (path, path.replace("/usr/lib/", "/lib/", 1), path.replace("/lib/", "/usr/lib/", 1)):
            r = subprocess.run(["dpkg-query", "-S", candidate], capture_output=True, text=True)
            if r.returncode == 0:
                return r.stdout.split(":", 1)[0].strip()
    raise AssertionError(f"no Debian package ships {library}")


@unittest.skipUnless(shutil.which("cpack") and shutil.which("dpkg-shlibdeps"),
                     "cpack or dpkg-shlibdeps missing (make test installs cmake and build-essential)")
class DebianPackage(ServerTestCase):
    @classmethod
    def setUpClass(cls):
        cls.out = tempfile.mkdtemp(prefix="ferrytest-deb-")
        r = run(["cpack", "-G", "DEB", "--config", os.path.join(build_dir(), "CPackConfig.cmake"), "-B", cls.out],
                timeout=600)
        debs = glob.glob(os.path.join(cls.out, "ferry_*.deb"))
        assert len(debs) == 1, f"{debs}\n{r.stdout}"
        cls.deb = debs[0]

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.out, ignore_errors=True)
        super().tearDownClass()

    def field(self, name):
        return run(["dpkg-deb", "-f", self.deb, name]).stdout.strip()

    def test_the_package_names_ferry_its_version_and_files(self):
        self.assertEqual(self.field("Package"), "ferry")
        self.assertRegex(os.path.basename(self.deb), r"^ferry_\d+\.\d+\.\d+_[a-z0-9]+\.deb$")
        files = run(["dpkg-deb", "-c", self.deb]).stdout
        for path in ("./usr/bin/ferry", "./usr/share/bash-completion/completions/ferry",
                     "./usr/share/zsh/vendor-completions/_ferry"):
            self.assertIn(path, files)

    def test_depends_covers_every_library_the_binary_loads(self):
        depends = {re.split(r"[ (]", d.strip())[0] for d in self.field("Depends").split(",")}
        for expected in ("libcurl4", "libarchive13", "libzstd1"):
            self.assertIn(expected, depends)
        root = self.tmp.sub("root")
        run(["dpkg-deb", "-x", self.deb, root])
        binary = os.path.join(root, "usr", "bin", "ferry")
        # The libraries the binary itself names (NEEDED), where the loader finds them; what they
        # load in turn is their packages' own business.
        needed = re.findall(r"NEEDED\s+(\S+)", run(["objdump", "-p", binary]).stdout)
        found = dict(re.findall(r"^\s*(\S+) => (/\S+)", run(["ldd", binary]).stdout, re.M))
        self.assertGreater(len(needed), 5, needed)
        self.assertEqual([n for n in needed if n not in found], [], "libraries the loader cannot find")
        missing = sorted({owning_package(found[n]) for n in needed} - depends)
        self.assertEqual(missing, [], f"the binary needs libraries of {missing}, which Depends does not name: "
                                      f"{self.field('Depends')}")
        version = run([binary, "--version"]).stdout.strip()
        self.assertRegex(version, r"^ferry \d+\.\d+\.\d+$")
        bash = run(["bash", "--norc", "-c", f"source {root}/usr/share/bash-completion/completions/ferry; "
                    "COMP_WORDS=(ferry sel); COMP_CWORD=1; _ferry; echo ${COMPREPLY[@]}"]).stdout
        self.assertEqual(bash.strip(), "selftest")

    def test_dpkg_can_install_it_here(self):
        r = run(["dpkg", "--dry-run", "-i", self.deb], check=False)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)


if __name__ == "__main__":
    unittest.main()
