"""`ferry bundle save --include-ferry`: the bundle carries ferry itself for a site where no ferry
runs yet, as a plain tar member the system `tar --zstd` gets out byte for byte: make deb's package
found beside the binary (a real .deb made here with dpkg-deb), one named with =FILE (also the one
cpack makes from this build, as `make deb` does), or the bare binary (which then runs).
`bundle load`, `inspect` and `verify` name it, and the command load prints works as printed. A
wrong or missing package fails before anything is written; a bundle without the entry loads as
before."""

import hashlib
import json
import os
import shutil
import stat
import subprocess
import tarfile
import unittest

from ferrytest import bundle, images
from ferrytest.ferry import Ferry
from ferrytest.registry import Registry
from ferrytest.testcase import ServerTestCase
from ferrytest.util import run

SOURCE = "gcr.io/knative-releases/knative.dev/serving/cmd/queue:v1.23.0"


def sha256_file(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def make_deb(directory, package="ferry", version="0.1.0", arch="amd64", name=None):
    """A real Debian package made by dpkg-deb: a control file and a stand-in /usr/bin/ferry."""
    root = os.path.join(directory, f"tree-{package}-{version}-{arch}")
    os.makedirs(os.path.join(root, "DEBIAN"))
    os.makedirs(os.path.join(root, "usr", "bin"))
    with open(os.path.join(root, "DEBIAN", "control"), "w") as f:
        f.write(f"Package: {package}\nVersion: {version}\nArchitecture: {arch}\n"
                "Maintainer: ferry tests <ferry@localhost>\nDescription: a stand-in for ferry\n")
    with open(os.path.join(root, "usr", "bin", "ferry"), "w") as f:
        f.write("#!/bin/sh\necho stand-in\n")
    out = os.path.join(directory, name or f"{package}_{version}_{arch}.deb")
    run(["dpkg-deb", "--root-owner-group", "--build", root, out])
    shutil.rmtree(root)
    return out


@unittest.skipUnless(shutil.which("dpkg-deb") and shutil.which("zstd"), "dpkg-deb or zstd missing (make test installs the Debian package zstd)")
class FerryInBundle(ServerTestCase):
    def setUp(self):
        super().setUp()
        self.ferry = self.use(Ferry())
        self.upstream = self.use(Registry())
        self.target = self.use(Registry())
        images.push(self.upstream, "gcr/knative-releases/knative.dev/serving/cmd/queue", "v1.23.0",
                    images.make_image("queue"))
        self.images_file = self.ferry.path("images.txt")
        with open(self.images_file, "w") as f:
            f.write(SOURCE + "\n")
        self.version = run([self.ferry.bin, "--version"]).stdout.split()[1]
        self.arch = run(["dpkg", "--print-architecture"]).stdout.strip()
        self.out = self.tmp.sub("out", mkdir=True)
        # A copy of ferry laid out as a build tree: build/cli/ferry, make deb writes build/ferry_*.deb.
        self.build = self.tmp.sub("build", mkdir=True)
        self.binary = os.path.join(self.build, "cli", "ferry")
        os.makedirs(os.path.dirname(self.binary))
        shutil.copy2(self.ferry.bin, self.binary)

    def save(self, *args, name="knative.tar.zst", binary=None):
        path = os.path.join(self.out, name)
        argv = [binary or self.binary, "bundle", "save", "--images", self.images_file, "-o", path,
                "--source-mirror", f"gcr.io={self.upstream.host}/gcr", *args]
        p = subprocess.run(argv, capture_output=True, text=True, env=self.ferry.env(), timeout=300)
        return path, p

    def load(self, path, *args):
        r = self.ferry.run("bundle", "load", path, "--to", f"{self.target.host}/mirror", "--naming", "flatten",
                           "--lock", self.ferry.path("images.lock"), *args)
        self.assertEqual(r.code, 0, str(r))
        return r

    def extract(self, command):
        """Runs the part of a printed `tar ... && install ...` line that gets the file out, in a
        fresh directory, with the system tar; returns that directory."""
        where = self.tmp.sub("extract", mkdir=True)
        shutil.rmtree(where)
        os.makedirs(where)
        get = command.split(" && ")[0]
        subprocess.run(["sh", "-c", get], cwd=where, check=True, capture_output=True)
        return where

    def bundle_json(self, path):
        where = self.tmp.sub("json", mkdir=True)
        run(["tar", "--zstd", "-xf", path, "-C", where, "ferry/bundle.json"])
        with open(os.path.join(where, "ferry", "bundle.json")) as f:
            return json.load(f)

    def package_line(self, out):
        lines = [line for line in out.splitlines() if " is in the bundle as " in line]
        self.assertEqual(len(lines), 1, out)
        return lines[0]

    def test_without_a_package_the_bare_binary_is_carried_and_runs_once_extracted(self):
        path, p = self.save("--include-ferry")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn(f"no ferry_{self.version}_{self.arch}.deb beside {self.binary}", p.stderr)
        self.assertIn("carrying the bare binary as ferry/ferry", p.stderr)
        self.assertIn("libcurl.so.4", p.stderr)

        # What the user does on the other side, with tools every Linux has.
        where = self.tmp.sub("plain", mkdir=True)
        run(["tar", "--zstd", "-xf", path, "-C", where, "ferry/ferry"])
        extracted = os.path.join(where, "ferry", "ferry")
        self.assertEqual(sha256_file(extracted), sha256_file(self.binary))
        self.assertTrue(os.stat(extracted).st_mode & stat.S_IXUSR)
        self.assertEqual(run([extracted, "--version"]).stdout.strip(), f"ferry {self.version}")

        package = self.bundle_json(path)["ferryPackage"]
        self.assertEqual(package["kind"], "binary")
        self.assertEqual(package["path"], "ferry/ferry")
        self.assertEqual(package["version"], self.version)
        self.assertEqual(package["arch"], self.arch)
        self.assertEqual(package["sha256"], sha256_file(self.binary))
        self.assertIn("libarchive.so.13", package["libraries"])

        line = self.package_line(self.load(path).out)
        self.assertIn("ferry/ferry", line)
        self.assertIn(f"tar --zstd -xf {path} ferry/ferry && install -m 0755 ferry/ferry /usr/local/bin/ferry", line)
        self.assertRegex(line, r"; needs [^)]*libcurl\.so\.4")

    def test_make_debs_package_beside_the_build_is_carried_and_the_printed_command_gets_it_out(self):
        deb = make_deb(self.build, version=self.version, arch=self.arch)
        entry = f"ferry/ferry_{self.version}_{self.arch}.deb"
        # Split into parts, so the printed command has to put them together.
        path, p = self.save("--include-ferry", "--split-size", "4K", "--output", "json")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertNotIn("bare binary", p.stderr)
        report = json.loads(p.stdout)
        self.assertGreater(len(report["parts"]), 1)
        self.assertEqual(report["ferryPackage"]["kind"], "deb")
        self.assertEqual(report["ferryPackage"]["path"], entry)
        self.assertEqual(report["ferryPackage"]["sha256"], sha256_file(deb))

        line = self.package_line(self.load(path + ".000").out)
        command = line.split("where no ferry runs yet: ", 1)[1]
        self.assertEqual(command, f"cat {path}.[0-9][0-9][0-9] | tar --zstd -xf - {entry} && apt install ./{entry}")
        got = os.path.join(self.extract(command), entry)
        self.assertEqual(sha256_file(got), sha256_file(deb))
        self.assertEqual(run(["dpkg-deb", "-f", got, "Package"]).stdout.strip(), "ferry")

        inspect = self.ferry.run("bundle", "inspect", path + ".000", "--output", "json")
        self.assertEqual(inspect.code, 0, str(inspect))
        self.assertEqual(inspect.json()["ferryPackage"]["install"], command)
        verify = self.ferry.run("bundle", "verify", path + ".000")
        self.assertEqual(verify.code, 0, str(verify))
        self.assertIn("ferry's deb: intact", verify.out)

    def test_an_explicit_package_is_stored_under_its_stable_name(self):
        deb = make_deb(self.tmp.sub("elsewhere", mkdir=True), version=self.version, arch="arm64", name="mine.deb")
        path, p = self.save(f"--include-ferry={deb}", name="knative.tar", binary=self.ferry.bin)
        self.assertEqual(p.returncode, 0, p.stderr)
        entry = f"ferry/ferry_{self.version}_arm64.deb"
        self.assertIn(entry, p.stdout)
        with tarfile.open(path) as tar:
            self.assertEqual(hashlib.sha256(tar.extractfile(entry).read()).hexdigest(), sha256_file(deb))
        line = self.package_line(self.ferry.run("bundle", "inspect", path).out)
        self.assertIn(f"tar -xf {path} {entry} && apt install ./{entry}", line)

    @unittest.skipUnless(shutil.which("cpack") and os.path.isfile(os.path.join(os.environ.get("FERRY_BUILD_DIR", ""),
                                                                                "CPackConfig.cmake")),
                         "cpack or the build's CPackConfig.cmake missing (ctest sets FERRY_BUILD_DIR)")
    def test_the_package_make_deb_builds_is_carried(self):
        out = self.tmp.sub("cpack", mkdir=True)
        run(["cpack", "-G", "DEB", "--config", os.path.join(os.environ["FERRY_BUILD_DIR"], "CPackConfig.cmake"),
             "-B", out], timeout=600)
        deb = os.path.join(out, f"ferry_{self.version}_{self.arch}.deb")
        path, p = self.save(f"--include-ferry={deb}", binary=self.ferry.bin)
        self.assertEqual(p.returncode, 0, p.stderr)
        entry = f"ferry/ferry_{self.version}_{self.arch}.deb"
        got = os.path.join(self.extract(self.package_line(self.load(path).out).split("runs yet: ", 1)[1]), entry)
        self.assertEqual(sha256_file(got), sha256_file(deb))
        self.assertIn("./usr/bin/ferry", run(["dpkg-deb", "-c", got]).stdout)

    def test_a_wrong_or_missing_package_fails_naming_it_and_writes_nothing(self):
        other_dir = self.tmp.sub("wrong", mkdir=True)
        text = os.path.join(other_dir, "notes.deb")
        with open(text, "w") as f:
            f.write("not a package\n")
        cases = [
            (make_deb(other_dir, version="0.0.1"), f"is ferry 0.0.1, but this is ferry {self.version}"),
            (make_deb(other_dir, package="curl", version=self.version), "is the Debian package \"curl\", not ferry"),
            (text, "is not a Debian package"),
            (os.path.join(other_dir, "missing.deb"), "No such file or directory"),
        ]
        for file, message in cases:
            with self.subTest(file=file):
                path, p = self.save(f"--include-ferry={file}")
                self.assertEqual(p.returncode, 1, p.stderr)
                self.assertIn("no bundle written: --include-ferry: ", p.stderr)
                self.assertIn(file, p.stderr)
                self.assertIn(message, p.stderr)
                self.assertEqual(os.listdir(self.out), [])

    def test_a_changed_package_is_found_by_verify(self):
        deb = make_deb(self.build, version=self.version, arch=self.arch)
        path, p = self.save("--include-ferry", name="knative.tar", binary=None)
        self.assertEqual(p.returncode, 0, p.stderr)
        entry = f"ferry/ferry_{self.version}_{self.arch}.deb"
        entries = []
        with tarfile.open(path) as tar:
            for m in tar:
                data = tar.extractfile(m).read()
                if m.name == entry:
                    data = data[:-1] + bytes([data[-1] ^ 1])  # one bit off, same size
                entries.append(bundle.Entry(m.name, data))
        damaged = bundle.write_tar(os.path.join(self.tmp.sub("damaged", mkdir=True), "knative.tar"), entries)
        verify = self.ferry.run("bundle", "verify", damaged)
        self.assertEqual(verify.code, 1, str(verify))
        self.assertIn(f"MISMATCH {entry}: bytes hash to sha256:", verify.out)
        self.assertIn(f"ferry/bundle.json says sha256:{sha256_file(deb)}", verify.out)

    def test_a_bundle_without_the_package_loads_as_before(self):
        path, p = self.save(binary=self.ferry.bin)
        self.assertEqual(p.returncode, 0, p.stderr)
        doc = self.bundle_json(path)
        self.assertNotIn("ferryPackage", doc)
        self.assertEqual(doc["formatVersion"], 1)
        r = self.load(path, "--output", "json")
        self.assertNotIn("ferryPackage", r.json())
        self.assertNotIn(" is in the bundle as ", self.load(path).out)


if __name__ == "__main__":
    unittest.main()
