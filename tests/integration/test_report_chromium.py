"""The self-test's report.html in a real browser: headless Chromium (Debian package `chromium`).

A report.json written here with the documented field names goes through `render_report` (a
test-only tool, path in $FERRY_RENDER_REPORT) to report.html, which Chromium loads from disk with
no network. Chromium's DOM must hold the four charts of each load phase with drawn lines, the
cold-start timeline and the checks table; its screenshot must show the charts' colours (the page
really painted, it is not blank). Chromium is required: `make test` installs it."""

import html
import html.parser
import json
import os
import re
import shutil
import struct
import subprocess
import unittest
import zlib

from ferrytest.testcase import ServerTestCase

CHARTS = ("pods", "in-flight", "rps", "latency")
LINE_BLUE = (0x1F, 0x77, 0xB4)  # pods and p50 lines (report_html.cc)
FAIL_RED = (0xCF, 0x22, 0x2E)   # the FAILED verdict and failed checks


def render_report_bin():
    path = os.environ.get("FERRY_RENDER_REPORT")
    if not path or not os.access(path, os.X_OK):
        raise RuntimeError(f"FERRY_RENDER_REPORT={path!r} is not an executable (build the render_report target)")
    return path


def chromium_bin():
    for name in ("chromium", "chromium-browser"):
        path = shutil.which(name)
        if path:
            return path
    raise RuntimeError("chromium is not installed: install the Debian package `chromium` (make deps does)")


def sample_report():
    series = []
    for t in range(1, 31):
        pods = min(5, 1 + t // 4) if t < 26 else 2
        series.append({"t_seconds": t, "pods": pods, "in_flight": 50, "rps": 200 + 10 * pods,
                       "p50_ms": 110 + t, "p95_ms": 190 + t, "p99_ms": 260 + 2 * t})
    hello = [{"t_seconds": t, "pods": 1, "in_flight": 50, "rps": 4000, "p50_ms": 2, "p95_ms": 5, "p99_ms": 9}
             for t in range(1, 31)]
    return {
        "format_version": 1, "ferry_version": "0.1.0", "namespace": "ferry-selftest",
        "checks": [
            {"name": "helloworld answers through the gateway", "passed": True,
             "expected": "status 200, body \"Hello World!\"", "seen": "status 200", "hint": ""},
            {"name": "pods go back down after the load", "passed": False, "expected": "at most 1 pod",
             "seen": "2 pods after 60 s", "hint": "<kubectl get pods -n ferry-selftest>"},
        ],
        "gateway": {"address": "127.0.0.1:31380", "how": "NodePort 31380 on node address 127.0.0.1"},
        "scale_to_zero": {"observed": True, "seconds_after_last_request": 62.4},
        "cold_start": {"measured": True, "connect_seconds": 0.001, "first_byte_seconds": 2.774,
                       "total_seconds": 2.775,
                       "timeline": [{"label": "request sent", "t_seconds": 0},
                                    {"label": "pod scheduled", "t_seconds": 0.31},
                                    {"label": "pod ready", "t_seconds": 2.52},
                                    {"label": "first byte", "t_seconds": 2.774}]},
        "phases": [
            {"name": "autoscale", "url": "http://autoscale.ferry-selftest.example.com/?sleep=100",
             "concurrency": 50, "duration_seconds": 30, "target": 10, "peak_pods": 5, "note": "",
             "series": series},
            {"name": "helloworld", "url": "http://helloworld.ferry-selftest.example.com/",
             "concurrency": 50, "duration_seconds": 30, "target": 10, "peak_pods": 1,
             "note": "helloworld answers in microseconds, so 50 clients rarely hold 10 requests at once",
             "series": hello},
        ],
    }


class _Dom(html.parser.HTMLParser):
    """Collects the charts (with their drawn lines), the timeline's segments, check rows and any
    attribute that would load something from elsewhere."""

    def __init__(self):
        super().__init__()
        self.charts = {}  # (phase, series) -> [path d, ...]
        self.timeline_phases = []  # widths of the cold-start bar's segments
        self.timeline_labels = []
        self.rows = []  # class of each checks-table row
        self.external = []
        self._chart = None
        self._in_timeline = False
        self._in_mark = False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        for name in ("src", "href"):
            if name in a:
                self.external.append((tag, name, a[name]))
        if tag == "script" or tag == "link":
            self.external.append((tag, "", ""))
        classes = (a.get("class") or "").split()
        if tag == "svg" and "chart" in classes:
            self._chart = (a.get("data-phase"), a.get("data-series"))
            self.charts[self._chart] = []
        elif tag == "svg" and "timeline" in classes:
            self._in_timeline = a.get("data-series") == "cold-start"
        elif tag == "path" and "line" in classes and self._chart:
            self.charts[self._chart].append(a.get("d", ""))
        elif tag == "rect" and "phase" in classes and self._in_timeline:
            self.timeline_phases.append(float(a.get("width", "0")))
        elif tag == "text" and "mark" in classes and self._in_timeline:
            self._in_mark = True
            self.timeline_labels.append("")
        elif tag == "tr" and classes:
            self.rows.append(classes[0])

    def handle_endtag(self, tag):
        if tag == "svg":
            self._chart, self._in_timeline = None, False
        elif tag == "text":
            self._in_mark = False

    def handle_data(self, data):
        if self._in_mark:
            self.timeline_labels[-1] += data


def png_pixels(data):
    """Decodes an 8-bit RGB or RGBA, non-interlaced PNG (what Chromium writes) to a set of RGB colours."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat, header = 8, b"", None
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    width, height, depth, colour, _, _, interlace = header
    assert depth == 8 and colour in (2, 6) and interlace == 0, f"unexpected PNG format {header}"
    bpp = 3 if colour == 2 else 4
    raw, stride = zlib.decompress(idat), width * bpp
    prev, colours, pos = bytearray(stride), set(), 0
    for _ in range(height):
        kind, line = raw[pos], bytearray(raw[pos + 1:pos + 1 + stride])
        pos += 1 + stride
        for i in range(stride):  # undo the row filter (PNG spec, section 9)
            left = line[i - bpp] if i >= bpp else 0
            up, up_left = prev[i], prev[i - bpp] if i >= bpp else 0
            if kind == 1:
                line[i] = (line[i] + left) & 0xFF
            elif kind == 2:
                line[i] = (line[i] + up) & 0xFF
            elif kind == 3:
                line[i] = (line[i] + (left + up) // 2) & 0xFF
            elif kind == 4:
                p = left + up - up_left
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - up_left)
                line[i] = (line[i] + (left if pa <= pb and pa <= pc else up if pb <= pc else up_left)) & 0xFF
        colours.update(bytes(line[i:i + 3]) for i in range(0, stride, bpp))
        prev = line
    return width, height, colours


class ReportInChromium(ServerTestCase):
    def setUp(self):
        super().setUp()
        self.chromium = chromium_bin()
        report_json = self.tmp.sub("report.json")
        with open(report_json, "w") as f:
            json.dump(sample_report(), f)
        self.page = self.tmp.sub("report.html")
        r = subprocess.run([render_report_bin(), report_json, self.page], capture_output=True, text=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)

    def run_chromium(self, *args):
        # A fresh profile per run; no sandbox (tests may run as root); nothing to fetch, so a
        # timeout means Chromium hung, not that the network was slow.
        cmd = [self.chromium, "--headless", "--disable-gpu", "--no-sandbox", "--no-first-run",
               f"--user-data-dir={self.tmp.sub('profile')}", "--hide-scrollbars", *args,
               "file://" + self.page]
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=180)
        self.assertEqual(r.returncode, 0, f"{cmd}\n{r.stderr[-3000:]}")
        return r.stdout

    def test_dom_has_the_charts_the_timeline_and_the_checks(self):
        dom = _Dom()
        dom.feed(self.run_chromium("--dump-dom"))
        for phase in ("autoscale", "helloworld"):
            for series in CHARTS:
                paths = dom.charts.get((phase, series))
                self.assertIsNotNone(paths, f"no chart {series} for {phase}: {sorted(dom.charts)}")
                self.assertTrue(paths and all(d.startswith("M") and d.count("L") == 29 for d in paths),
                                f"chart {series} of {phase} has no drawn line: {paths}")
        self.assertEqual(len(dom.charts[("autoscale", "latency")]), 3)  # p50, p95, p99
        self.assertEqual(len(dom.timeline_phases), 3)
        self.assertTrue(all(w > 0 for w in dom.timeline_phases), dom.timeline_phases)
        self.assertEqual(dom.timeline_labels, ["request sent 0.000 s", "pod scheduled 0.310 s",
                                               "pod ready 2.520 s", "first byte 2.774 s"])
        self.assertEqual(dom.rows, ["pass", "fail"])
        self.assertEqual(dom.external, [], "the page must not load anything")

    def layout(self, report, width):
        """Renders `report` and has Chromium measure it at `width` CSS pixels: a copy of the page with
        a script that writes the boxes of the timeline's labels and of the charts into the DOM."""
        with open(self.tmp.sub("close.json"), "w") as f:
            json.dump(report, f)
        page = self.tmp.sub("close.html")
        r = subprocess.run([render_report_bin(), self.tmp.sub("close.json"), page], capture_output=True, text=True,
                           timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        measure = ("<script>const box = e => { const r = e.getBoundingClientRect(); "
                   "return [r.left, r.top, r.right, r.bottom]; };"
                   "const out = document.createElement('pre'); out.id = 'layout';"
                   "out.textContent = JSON.stringify({"
                   "labels: [...document.querySelectorAll('svg.timeline text.mark')].map(box),"
                   "timeline: box(document.querySelector('svg.timeline')),"
                   "charts: [...document.querySelectorAll('.charts')].map(c => [box(c), [...c.querySelectorAll('svg.chart')].map(box)])"
                   "}); document.body.appendChild(out);</script>")
        with open(page) as f:
            text = f.read().replace("</body>", measure + "</body>")
        self.page = self.tmp.sub("measured.html")
        with open(self.page, "w") as f:
            f.write(text)
        dom = self.run_chromium("--dump-dom", f"--window-size={width},1200")
        found = re.search(r'<pre id="layout">(.*?)</pre>', dom, re.S)
        self.assertIsNotNone(found, dom[-2000:])
        return json.loads(html.unescape(found.group(1)))

    def test_timeline_labels_do_not_overlap_even_when_moments_are_close(self):
        report = sample_report()
        report["cold_start"]["timeline"] = [
            {"label": "request sent", "t_seconds": 0}, {"label": "pod scheduled", "t_seconds": 0.031},
            {"label": "pod ready", "t_seconds": 0.098}, {"label": "first byte", "t_seconds": 0.112},
            {"label": "done", "t_seconds": 2.6}]
        for width in (800, 1400):
            layout = self.layout(report, width)
            labels = layout["labels"]
            self.assertEqual(len(labels), 5)
            for i, a in enumerate(labels):
                self.assertTrue(layout["timeline"][0] <= a[0] and a[2] <= layout["timeline"][2], (width, a))
                for b in labels[i + 1:]:
                    apart = a[2] <= b[0] or b[2] <= a[0] or a[3] <= b[1] or b[3] <= a[1]
                    self.assertTrue(apart, f"at {width}px labels overlap: {a} and {b}")

    def test_the_charts_use_the_page_width(self):
        for width in (1000, 1400, 1920):
            for container, charts in self.layout(sample_report(), width)["charts"]:
                self.assertEqual(len(charts), 4)
                rows = {}
                for c in charts:
                    rows.setdefault(round(c[1]), []).append(c)
                for row in rows.values():  # each row of charts spans (nearly) the whole container
                    used = sum(c[2] - c[0] for c in row)
                    self.assertGreater(used, 0.9 * (container[2] - container[0]), (width, row, container))

    def test_screenshot_shows_the_charts(self):
        shot = self.tmp.sub("shot.png")
        self.run_chromium(f"--screenshot={shot}", "--window-size=1400,1600")
        with open(shot, "rb") as f:
            width, height, colours = png_pixels(f.read())
        self.assertEqual((width, height), (1400, 1600))
        self.assertGreater(len(colours), 50, "the screenshot is (nearly) blank")
        self.assertIn(bytes(LINE_BLUE), colours, "no chart line painted")
        self.assertIn(bytes(FAIL_RED), colours, "the failed verdict is not painted")


if __name__ == "__main__":
    unittest.main()
