"""What the benchmarks share."""

import os


def write_section(path, section):
    """Replaces the section of the benchmarks document at `path` whose heading is the first line of
    `section` ("## ferry mirror"), or appends it; every other section stays as it is."""
    heading = section.split("\n", 1)[0]
    text = open(path).read() if os.path.exists(path) else ""
    if not text.strip():
        text = "# Benchmarks\n\nNumbers from `bench/` (see bench/README.md). Never part of `make test`.\n\n"
    start = text.find(heading + "\n")
    if start < 0:
        text = text.rstrip("\n") + "\n\n" + section
    else:
        end = text.find("\n## ", start + 1)
        text = text[:start] + section + ("" if end < 0 else text[end + 1:])
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    with open(path, "w") as f:
        f.write(text)


def targets_table(heading, result):
    """The "**Targets**" table of a section: one row per (target, measured, met) in `result`."""
    return [f"**Targets** ({heading}):", "", "| target | measured | met |", "|---|---|---|",
            *(f"| {name} | {value} | {'yes' if met else '**no**'} |" for name, value, met in result)]
