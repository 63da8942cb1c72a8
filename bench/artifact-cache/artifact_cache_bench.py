#!/usr/bin/env python3
"""artifact_cache_bench: remote artifact caches against their speed targets.

Every row is whole `cairn` processes against real cairn-server processes
on 127.0.0.1, next to a baseline measured in the same run. The project
is a copy of examples/busybox-project with two elements added:
many-files.bst, a manual element that unpacks --files small files (100 B
each, in --dirs directories) from one tar archive, and
many-files-system.bst, a stack of it and base.bst.

  1. `cairn artifact push many-files.bst --remote URL`, a fresh server
     (a new process on a new cache directory) every run, against
     `cairn cas import` of the same tree into a fresh local cache:
     target <= 2x.
  2. `cairn artifact pull many-files.bst --remote URL` into a fresh local
     cache against the same `cairn cas import`: target <= 2x. For
     context, in the same turns, `cairn show many-files.bst` in a fresh
     cache: the cache key alone, which needs the element's source tree.
  3. `cairn build TARGET` in a fresh local cache, every element pulled
     from the configured artifact cache, against the sum of
     `cairn artifact pull --deps all TARGET` and a `cairn build TARGET`
     that then finds everything cached: target <= 1.2x. Once for
     hello.bst, once for many-files-system.bst.

Beside each row it prints where the time goes: the server's own time
per method (the ms= of its request log), the transfer time cairn
reports ("... in N s") and the rest of the process's wall time.

Timed rows give the median of each side and the median of the run-by-run
ratios (each run against the baseline run next to it, in turns whose
order flips every round, so no side always goes first). Every side runs
once untimed first, so the source files are in the page cache. Every
run gets a new directory (cache, server store) and none is deleted
before the row is over (see Scratch: on ext4, deleting 20,000 files
slows the next 20,000 made for half a minute). Nothing is asserted: the
table says which targets were met.

Run from the build tree, as root (the project's builds use bwrap):
  build/bin/artifact_cache_bench [--dir DIR] [--files N] [--dirs N] [--runs N]
                                 [--settle SECONDS] [--keep]
That wrapper passes --cairn, --server, --plugin-dir and --example-project.
"""

import os
import re
import shutil
import statistics
import subprocess
import sys
import tarfile
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from bench_processes import (BenchError, Server, bench_arguments,  # noqa: E402
                             parse_bench_settings, run_bench, timed_row, timed_turns)

# The request log line of cairn-server: "[time] [cairn-server] [info] METHOD ... ms=N".
MOVED_LINE = re.compile(r"^(pushed|pulled) (\d+) of (\d+) elements: (\d+) blobs, .* in ([0-9.]+) s$",
                        re.MULTILINE)
BUILD_LINE = re.compile(r"^(\d+) built, (\d+) cached(?:, (\d+) pulled)?", re.MULTILINE)

# The files come out of one tar archive, so that they are the artifact's
# alone: were they an import's source, a pull would find every blob in the
# local store already (computing the cache key stores the source tree).
MANY_FILES_ELEMENT = """\
# --files small files, unpacked from one archive: the artifact of rows 1, 2.
kind: manual
build-depends:
- base.bst
sources:
- kind: local
  path: files/many-files-archive
config:
  install-commands:
  - mkdir -p %{install-root}/many-files
  - tar -xf many-files.tar -C %{install-root}/many-files
"""
MANY_FILES_SYSTEM_ELEMENT = """\
# The many files and the base system: the second target of row 3.
kind: stack
depends:
- base.bst
- many-files.bst
"""


def server_time(calls, runs=1):
    """'METHOD N calls X ms, ...' per run: the server's request log, summed."""
    if not calls:
        return "no requests logged"
    parts = []
    for method, times in sorted(calls.items(), key=lambda item: -sum(item[1])):
        count = len(times) / runs
        parts.append(f"{method} {count:.3g}x {sum(times) / runs:.0f} ms")
    return ", ".join(parts)


class Cairn:
    """cairn processes on the benchmark's project, timed whole, their
    output appended to a log."""

    def __init__(self, settings, work, project):
        self.argv = [settings.cairn, "--config", os.path.join(work, "user.yaml"),
                     "--plugin-path", settings.plugin_dir]
        self.project = project
        self.work = work
        self.log_path = os.path.join(work, "cairn.log")
        # Nothing from the caller's environment: no other user configuration.
        self.environment = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "HOME": work,
                            "XDG_CONFIG_HOME": os.path.join(work, "config"),
                            "XDG_CACHE_HOME": os.path.join(work, "xdg-cache")}

    def in_project(self, cache_dir, *arguments):
        """Runs `cairn -C PROJECT --cache-dir CACHE_DIR ARGUMENTS...`;
        returns (wall seconds, output)."""
        return self._timed(self.argv + ["-C", self.project, "--cache-dir", cache_dir] +
                           list(arguments))

    def cas_import(self, cache_dir, tree):
        """`cairn cas import TREE` into CACHE_DIR, outside any project;
        returns (wall seconds, output)."""
        return self._timed(self.argv + ["--cache-dir", cache_dir, "cas", "import", tree])

    def _timed(self, argv):
        # communicate() with no timeout= blocks on the pipe instead of
        # polling with growing sleeps; a timer kills a run that hangs.
        start = time.monotonic()
        process = subprocess.Popen(argv, env=self.environment, cwd=self.work,
                                   stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                   stderr=subprocess.STDOUT)
        watchdog = threading.Timer(600, process.kill)
        watchdog.start()
        output, _ = process.communicate()
        seconds = time.monotonic() - start
        watchdog.cancel()
        text = output.decode(errors="replace")
        with open(self.log_path, "a") as log:
            log.write(f"$ {' '.join(argv)}\n{text}")
        if process.returncode != 0:
            raise BenchError(f"{' '.join(argv)} exited with status {process.returncode}; "
                             "its output:" + "".join("\n  " + line
                                                      for line in text.splitlines()[-20:]))
        return seconds, text


def make_project(settings, path):
    """A copy of the example project, prepared, with the many-files
    elements; returns the directory of the files many-files.bst installs."""
    shutil.copytree(settings.example_project, path, symlinks=True,
                    ignore=lambda directory, names: [name for name in names
                                                     if name in ("_checkout", ".cairn")])
    shutil.rmtree(os.path.join(path, "files", "base"), ignore_errors=True)
    subprocess.run([os.path.join(path, "prepare.sh")], check=True, stdout=subprocess.DEVNULL)
    # The tree itself (the baseline imports it) lies outside the project.
    tree = os.path.join(os.path.dirname(path), "many-files")
    for index in range(settings.files):
        directory = os.path.join(tree, f"d{index % settings.dirs:04}")
        os.makedirs(directory, exist_ok=True)
        with open(os.path.join(directory, f"f{index:06}"), "wb") as file:
            file.write(f"small file {index:06} ".encode().ljust(100, b"."))
    archive_dir = os.path.join(path, "files", "many-files-archive")
    os.makedirs(archive_dir)
    with tarfile.open(os.path.join(archive_dir, "many-files.tar"), "w",
                      format=tarfile.USTAR_FORMAT) as archive:
        for name in sorted(os.listdir(tree)):
            archive.add(os.path.join(tree, name), arcname=name)
    with open(os.path.join(path, "elements", "many-files.bst"), "w") as element:
        element.write(MANY_FILES_ELEMENT)
    with open(os.path.join(path, "elements", "many-files-system.bst"), "w") as element:
        element.write(MANY_FILES_SYSTEM_ELEMENT)
    return tree


def moved(output, verb, minimum_blobs):
    """The (blobs, seconds) of cairn's "pushed/pulled N of M elements: B
    blobs, ... in S s" line; an error unless every element moved and at
    least `minimum_blobs` blobs did."""
    match = MOVED_LINE.search(output)
    if match is None or match.group(1) != verb:
        raise BenchError(f"no '{verb} N of M elements' line in: {output.strip()}")
    if match.group(2) != match.group(3) or int(match.group(4)) < minimum_blobs:
        raise BenchError(f"not everything was {verb}: {match.group(0)}")
    return int(match.group(4)), float(match.group(5))


def build_counts(output):
    """(built, cached, pulled) of a build's summary line."""
    match = BUILD_LINE.search(output)
    if match is None:
        raise BenchError(f"no build summary in: {output.strip()}")
    return int(match.group(1)), int(match.group(2)), int(match.group(3) or 0)




def warm_up(*sides):
    """Runs each side once, untimed (index -1): the files it reads are in
    the page cache, and its checks have passed once."""
    for side in sides:
        side(-1)


class Scratch:
    """Fresh directories for the runs of a row, none deleted before the row
    is over. Deleting thousands of files just before a timed process
    would time the file system instead: ext4 without a journal does not
    reuse an inode freed in the last dirty_expire_centisecs (30 s), and
    every new file (each blob stored) then scans past the freed ones; a
    fresh cache right after `rm -rf` of the last one took 10x as long."""

    def __init__(self, root, settle_seconds):
        self.root = root
        self.settle_seconds = settle_seconds
        self.count = 0

    def fresh(self, name):
        """A new path, not yet made, under the scratch directory."""
        os.makedirs(self.root, exist_ok=True)
        self.count += 1
        return os.path.join(self.root, f"{name}-{self.count}")

    def clear(self, settle=True):
        """Deletes every directory of the row, then (with `settle`) waits
        for the freed inodes to be reusable; between rows, not timed."""
        shutil.rmtree(self.root, ignore_errors=True)
        if settle and self.settle_seconds > 0:
            print(f"   (deleted the row's caches; {self.settle_seconds:g} s for the file system "
                  "to settle)", flush=True)
            time.sleep(self.settle_seconds)


def default_settle_seconds():
    """ext4's window for recently freed inodes: the kernel's
    dirty_expire_centisecs, plus the 5 s it adds while the inode table
    block is dirty, plus one."""
    try:
        with open("/proc/sys/vm/dirty_expire_centisecs") as setting:
            return int(setting.read()) / 100 + 6
    except (OSError, ValueError):
        return 36


def import_side(cairn, scratch, tree):
    """The baseline of rows 1 and 2: `cairn cas import` into a fresh cache."""
    def side(_):
        seconds, output = cairn.cas_import(scratch.fresh("import-cache"), tree)
        if not re.match(r"^[0-9a-f]{64}/\d+$", output.strip().splitlines()[-1]):
            raise BenchError(f"cairn cas import printed no digest: {output.strip()}")
        return seconds
    return side


def push_row(settings, scratch, cairn, built_cache, tree):
    transfers, server_calls = [], {}

    def push(index):
        # A new server on a new directory: every blob is sent. Starting
        # and stopping it is not timed.
        directory = scratch.fresh("push-server")
        server = Server(settings.server, directory, settings.plugin_dir, directory + ".log")
        try:
            seconds, output = cairn.in_project(built_cache, "artifact", "push", "many-files.bst",
                                               "--remote", server.url)
            transfer = moved(output, "pushed", settings.files)[1]
        finally:
            server.stop()
        # Read once the server has stopped: its whole log is written.
        if index >= 0:
            transfers.append(transfer)
            for method, times in server.calls_since(0).items():
                server_calls.setdefault(method, []).extend(times)
        return seconds

    sides = (push, import_side(cairn, scratch, tree))
    warm_up(*sides)
    pushes, imports = timed_turns(settings.runs, *sides)
    runs = len(transfers)
    print(f"1. push of {settings.files:,} files to a fresh server, {settings.runs} runs: "
          f"wall {statistics.median(pushes) * 1e3:.0f} ms, of which cairn reports "
          f"{statistics.median(transfers) * 1e3:.0f} ms moving blobs")
    print(f"   the server's own time per push: {server_time(server_calls, runs)}")
    timed_row(f"push, {settings.files:,}-file artifact, fresh server", pushes, imports,
              "cas import", 2)


def pull_row(settings, scratch, cairn, shared, tree):
    transfers = []

    def pull(index):
        seconds, output = cairn.in_project(scratch.fresh("pull-cache"), "artifact",
                                           "pull", "many-files.bst", "--remote", shared.url)
        transfer = moved(output, "pulled", settings.files)[1]
        if index >= 0:
            transfers.append(transfer)
        return seconds

    def show(_):
        seconds, output = cairn.in_project(scratch.fresh("show-cache"), "show",
                                           "--deps", "none", "--format", "%{state}",
                                           "many-files.bst")
        if output.strip() != "downloadable":
            raise BenchError(f"many-files.bst is not downloadable in a fresh cache: {output}")
        return seconds

    sides = (pull, import_side(cairn, scratch, tree), show)
    warm_up(*sides)
    offset = shared.log_offset()
    pulls, imports, shows = timed_turns(settings.runs, *sides)
    calls = shared.calls_since(offset)
    # The shows ask the server too (whether the artifact is there).
    runs = len(transfers)
    print(f"2. pull of {settings.files:,} files into a fresh cache, {settings.runs} runs: "
          f"wall {statistics.median(pulls) * 1e3:.0f} ms, of which cairn reports "
          f"{statistics.median(transfers) * 1e3:.0f} ms moving blobs")
    print(f"   the server's own time per pull (and show): {server_time(calls, runs)}")
    timed_row(f"pull, {settings.files:,}-file artifact, fresh cache", pulls, imports,
              "cas import", 2)
    timed_row("  context: `cairn show`, fresh cache (the key)", shows, imports, "cas import",
              None)


def build_row(settings, scratch, cairn, shared, target, number):
    pulled_builds, pull_parts, cached_parts = [], [], []

    def build_pulling(_):
        seconds, output = cairn.in_project(scratch.fresh("build-cache"), "build",
                                           target)
        built, cached, pulled = build_counts(output)
        if built or cached or not pulled:
            raise BenchError(f"the build of {target} in a fresh cache did not pull everything: "
                             f"{output.strip().splitlines()[-1]}")
        pulled_builds.append(pulled)
        return seconds

    def pull_then_build(index):
        cache = scratch.fresh("pull-build-cache")
        pull_seconds, output = cairn.in_project(cache, "artifact", "pull", target, "--deps", "all")
        moved(output, "pulled", 1)
        build_seconds, output = cairn.in_project(cache, "build", target)
        built, cached, pulled = build_counts(output)
        if built or pulled or not cached:
            raise BenchError(f"the build of {target} after its pull was not all cached: "
                             f"{output.strip().splitlines()[-1]}")
        if index >= 0:  # not the warm-up
            pull_parts.append(pull_seconds)
            cached_parts.append(build_seconds)
        return pull_seconds + build_seconds

    warm_up(build_pulling, pull_then_build)
    offset = shared.log_offset()
    builds, baselines = timed_turns(settings.runs, build_pulling, pull_then_build)
    calls = shared.calls_since(offset)
    print(f"{number}. build of {target} in a fresh cache, {pulled_builds[-1]} elements pulled, "
          f"{settings.runs} runs: wall {statistics.median(builds) * 1e3:.0f} ms; baseline: pull "
          f"--deps all {statistics.median(pull_parts) * 1e3:.0f} ms + cached build "
          f"{statistics.median(cached_parts) * 1e3:.0f} ms")
    print(f"   the server's time per turn (both sides): {server_time(calls, settings.runs)}")
    timed_row(f"build of {target}, all pulled", builds, baselines, "pull + cached build", 1.2)


def parse_settings():
    parser = bench_arguments("Remote artifact caches against their targets.",
                             files=20000, files_help="small files of the artifact",
                             runs=11, runs_help="timed runs of each side")
    parser.add_argument("--example-project", required=True,
                        help="examples/busybox-project, copied for the benchmark")
    parser.add_argument("--settle", type=float, default=default_settle_seconds(),
                        help="seconds to wait after deleting a row's caches (default: ext4's "
                        "window for recently freed inodes, see Scratch)")
    return parse_bench_settings(parser)


def main():
    settings = parse_settings()

    def body(work, servers):
        project = os.path.join(work, "project")
        tree = make_project(settings, project)
        # One server holds every artifact for the pulls of rows 2 and 3;
        # the configuration names it, as a user's would.
        shared = Server(settings.server, os.path.join(work, "shared-server"),
                        settings.plugin_dir, os.path.join(work, "shared-server.log"))
        servers.append(shared)
        with open(os.path.join(work, "user.yaml"), "w") as config:
            config.write(f"artifact-caches:\n  - url: {shared.url}\n    push: true\n")
        print(f"artifact_cache_bench: whole cairn processes, the artifact cache a cairn-server "
              f"process at {shared.url}")
        cairn = Cairn(settings, work, project)
        built_cache = os.path.join(work, "built-cache")
        targets = ("hello.bst", "many-files-system.bst")
        cairn.in_project(built_cache, "build", "--no-remote", *targets)
        cairn.in_project(built_cache, "artifact", "push", "--deps", "all", *targets,
                         "--remote", shared.url)
        scratch = Scratch(os.path.join(work, "scratch"), settings.settle)
        push_row(settings, scratch, cairn, built_cache, tree)
        scratch.clear()
        pull_row(settings, scratch, cairn, shared, tree)
        scratch.clear()
        for number, target in enumerate(targets, start=3):
            build_row(settings, scratch, cairn, shared, target, number)
            scratch.clear(settle=number < 2 + len(targets))

    return run_bench("artifact_cache_bench", settings, "the project's builds use bwrap", body)


if __name__ == "__main__":
    sys.exit(main())
