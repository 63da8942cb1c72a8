#!/usr/bin/env python3
"""remote_bench: the remote sandbox against the speed targets of issue 10.

Every row is whole `cairn run` processes against a real cairn-server
process on 127.0.0.1, next to a baseline measured in the same run:

  1. An input root of --files small files (100 B each, in --dirs
     directories, plus a static busybox so /bin/true runs) executed with
     `cairn run --sandbox remote` on an empty server: the RPCs the server
     received for the whole run (its Prometheus counters, read before and
     after), target at most 20. The same Action again: the upload RPCs
     (FindMissingBlobs, BatchUpdateBlobs, ByteStream Write), target none
     beyond one FindMissingBlobs, or a cache hit.
  2. `cairn run --sandbox remote` of /bin/true, a cache miss every run (a
     new --env value makes each run a new Action), against
     `cairn run --sandbox bwrap` of the same on the same busybox root,
     timed in turns: target <= 1.5x. Printed beside it: the server's own
     time in Execute (the ms= of its request log), the part of a miss
     that a local run does not have.
  3. The same remote Action again and again (a cache hit) against
     `cairn run --sandbox bwrap`: target <= 0.5x. For context, in the
     same turns, `cairn plugins`: a cairn process that loads every plugin
     (the remote one brings gRPC) and does nothing else, the floor under
     any remote run.

Timed rows give the median of each side and the median of the run-by-run
ratios (each run against the baseline run next to it, in turns whose
order flips every round, so no side always goes first). The two sides
share one host cache, warmed before timing. Nothing is asserted: the
table says which targets were met.

Run from the build tree, as root (both sandboxes use bwrap):
  build/bin/remote_bench [--dir DIR] [--files N] [--dirs N] [--runs N] [--keep]
That wrapper passes --cairn, --server and --plugin-dir.
"""

import os
import shutil
import statistics
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from bench_processes import (BenchError, Server, bench_arguments,  # noqa: E402
                             parse_bench_settings, row, run_bench, tail, timed_row,
                             timed_turns)

UPLOAD_METHODS = ("FindMissingBlobs", "BatchUpdateBlobs", "Write")


def difference(after, before):
    """The calls between two readings, {(method, code): count}, zeros left out."""
    return {key: count - before.get(key, 0) for key, count in after.items()
            if count != before.get(key, 0)}


def calls(delta, method, code=None):
    return sum(count for (name, status), count in delta.items()
               if name == method and (code is None or status == code))


def breakdown(delta):
    by_method = {}
    for (method, _), count in delta.items():
        by_method[method] = by_method.get(method, 0) + count
    return ", ".join(f"{method} {count}" for method, count in sorted(by_method.items()))


class Cairn:
    """cairn processes with one sandbox chosen (`run` of /bin/true, `plugins`),
    timed whole, their output appended to a log."""

    def __init__(self, settings, work, sandbox):
        self.argv = [settings.cairn, "--config", os.path.join(work, "user.yaml"),
                     "--cache-dir", os.path.join(work, "cairn-cache"),
                     "--plugin-path", settings.plugin_dir, "--sandbox", sandbox]
        self.log_path = os.path.join(work, f"cairn-{sandbox}.log")
        # Nothing from the caller's environment: no other user configuration.
        self.environment = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "HOME": work,
                            "XDG_CONFIG_HOME": os.path.join(work, "config"),
                            "XDG_CACHE_HOME": os.path.join(work, "xdg-cache")}

    def run(self, root, marker):
        """Runs /bin/true on `root` with --env CAIRN_BENCH_RUN=marker (the
        marker decides which Action it is); returns the wall seconds."""
        return self._timed(self.argv + ["run", "--root", root, "--env",
                                        "CAIRN_BENCH_RUN=" + marker, "--", "/bin/true"])

    def list_plugins(self):
        """`cairn plugins`: a process that loads every plugin (the remote
        one with its gRPC libraries) and does nothing else; the floor under
        any `cairn run`. Returns the wall seconds."""
        return self._timed(self.argv + ["plugins"])

    def _timed(self, argv):
        # No timeout= on the wait: with one, Python polls with growing
        # sleeps and the times come out in steps of those sleeps. A timer
        # kills a run that hangs instead.
        with open(self.log_path, "ab") as log:
            start = time.monotonic()
            process = subprocess.Popen(argv, env=self.environment, stdin=subprocess.DEVNULL,
                                       stdout=log, stderr=log)
            watchdog = threading.Timer(600, process.kill)
            watchdog.start()
            status = process.wait()
            seconds = time.monotonic() - start
            watchdog.cancel()
        if status != 0:
            raise BenchError(f"{' '.join(argv)} exited with status {status}; its output:" +
                             tail(self.log_path))
        return seconds


def make_busybox_root(path):
    os.makedirs(os.path.join(path, "bin"))
    shutil.copy2("/bin/busybox", os.path.join(path, "bin", "busybox"))
    os.symlink("busybox", os.path.join(path, "bin", "true"))


def make_many_files_root(path, files, dirs):
    """`files` files of 100 bytes, each different, spread over `dirs`
    directories, and the busybox root's bin/."""
    make_busybox_root(path)
    for index in range(files):
        directory = os.path.join(path, f"d{index % dirs:04}")
        os.makedirs(directory, exist_ok=True)
        with open(os.path.join(directory, f"f{index:06}"), "wb") as file:
            file.write(f"small file {index:06} ".encode().ljust(100, b"."))


def rpc_rows(settings, work, server, remote):
    root = os.path.join(work, "many-files")
    make_many_files_root(root, settings.files, settings.dirs)
    blobs = settings.files + 1  # the small files and busybox, without the Directory messages

    before = server.requests()
    first_seconds = remote.run(root, "many-files")
    first = difference(server.requests(), before)
    total = sum(first.values())
    uploads = sum(calls(first, method) for method in UPLOAD_METHODS)
    print(f"1. first run, {first_seconds:.2f} s; the server received: {breakdown(first)}")
    row(f"{settings.files:,}-file root, first run: RPCs", f"{total} ({uploads} upload)",
        f"{blobs:,} file blobs", "-", "<= 20 RPCs", total <= 20)

    before = server.requests()
    second_seconds = remote.run(root, "many-files")
    second = difference(server.requests(), before)
    uploads = sum(calls(second, method) for method in UPLOAD_METHODS)
    hit = calls(second, "GetActionResult", "OK") > 0
    print(f"   second run, {second_seconds:.2f} s; the server received: {breakdown(second)}")
    sent = calls(second, "BatchUpdateBlobs") + calls(second, "Write")
    row(f"{settings.files:,}-file root, same Action again: upload RPCs",
        f"{uploads}" + (" (cache hit)" if hit else ""), "-", "-",
        "<= 1 FindMissingBlobs, no blobs", sent == 0 and calls(second, "FindMissingBlobs") <= 1)


def timed_rows(settings, work, server, remote, local):
    root = os.path.join(work, "busybox-root")
    make_busybox_root(root)
    # Warm-up: the root imported into the host's store and staged for
    # bwrap once; busybox on the server.
    for index in range(2):
        local.run(root, f"warm-up {index}")
        remote.run(root, f"warm-up {index}")

    before = server.requests()
    log_offset = server.log_offset()
    miss, bwrap = timed_turns(settings.runs, lambda i: remote.run(root, f"miss {i}"),
                              lambda i: local.run(root, f"bwrap {i}"))
    delta = difference(server.requests(), before)
    if calls(delta, "Execute") != settings.runs or calls(delta, "GetActionResult", "OK") != 0:
        raise BenchError(f"the cache-miss runs were not all executed: {breakdown(delta)}")
    print(f"2. {settings.runs} cache-miss runs; the server received: {breakdown(delta)}")
    executes = server.calls_since(log_offset).get("Execute", [])
    if executes:
        print(f"   the server's own time in Execute (its log, {len(executes)} calls): "
              f"median {statistics.median(executes):.1f} ms")
    timed_row(f"remote /bin/true, cache miss ({settings.runs} runs)", miss, bwrap, "bwrap", 1.5)

    remote.run(root, "hit")  # executed once, then cached
    before = server.requests()
    hit, bwrap, floor = timed_turns(settings.runs, lambda i: remote.run(root, "hit"),
                                    lambda i: local.run(root, "hit"),
                                    lambda i: remote.list_plugins())
    delta = difference(server.requests(), before)
    if calls(delta, "Execute") != 0 or calls(delta, "GetActionResult", "OK") != settings.runs:
        raise BenchError(f"the cache-hit runs were not all hits: {breakdown(delta)}")
    print(f"3. {settings.runs} cache-hit runs; the server received: {breakdown(delta)}")
    timed_row(f"remote /bin/true, cache hit ({settings.runs} runs)", hit, bwrap, "bwrap", 0.5)
    timed_row("  context: `cairn plugins` (start, load plugins)", floor, bwrap, "bwrap", None)


def parse_settings():
    return parse_bench_settings(bench_arguments(
        "The remote sandbox against issue 10's targets.",
        files=10000, files_help="small files of row 1",
        runs=21, runs_help="timed runs of each side, rows 2, 3"))


def main():
    settings = parse_settings()

    def body(work, servers):
        server = Server(settings.server, os.path.join(work, "server-cache"), settings.plugin_dir,
                        os.path.join(work, "server.log"), metrics=True)
        servers.append(server)
        with open(os.path.join(work, "user.yaml"), "w") as config:
            config.write(f"remote-execution:\n  url: {server.url}\n")
        print(f"remote_bench: cairn run against a cairn-server process at {server.url}")
        remote = Cairn(settings, work, "remote")
        local = Cairn(settings, work, "bwrap")
        rpc_rows(settings, work, server, remote)
        timed_rows(settings, work, server, remote, local)

    return run_bench("remote_bench", settings, "both sandboxes use bwrap", body)


if __name__ == "__main__":
    sys.exit(main())
