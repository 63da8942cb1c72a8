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

import argparse
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

UPLOAD_METHODS = ("FindMissingBlobs", "BatchUpdateBlobs", "Write")
METRIC_LINE = re.compile(
    r'^cairn_server_requests_total\{method="([^"]*)",code="([^"]*)"\} (\d+)$')


class BenchError(Exception):
    pass


def tail(path, lines=20):
    """The end of a log, indented, for an error message."""
    try:
        with open(path, errors="replace") as log:
            last = log.read().splitlines()[-lines:]
    except OSError:
        return ""
    return "".join("\n  " + line for line in last)


class Server:
    """A cairn-server process with its metrics endpoint, stopped by stop()."""

    def __init__(self, binary, cache_dir, plugin_dir, log_path):
        self.log_path = log_path
        self.process = subprocess.Popen(
            [binary, "--listen", "grpc://127.0.0.1:0", "--metrics-listen", "127.0.0.1:0",
             "--cache-dir", cache_dir, "--plugin-path", plugin_dir],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        self.url = None
        self.metrics_url = None
        # The two address lines come first; a thread then copies the rest
        # of the output to the log, so the pipe never fills.
        found = threading.Event()
        self.copier = threading.Thread(target=self._copy_output, args=(found,), daemon=True)
        self.copier.start()
        if not found.wait(30) or self.url is None or self.metrics_url is None:
            self.stop()
            raise BenchError("cairn-server printed no listening and metrics addresses in 30 s; "
                             "its output:" + tail(log_path))

    def _copy_output(self, found):
        with open(self.log_path, "ab") as log:
            for line in self.process.stdout:
                log.write(line)
                log.flush()
                text = line.decode(errors="replace").strip()
                if text.startswith("cairn-server: listening on "):
                    self.url = text.split(" on ", 1)[1]
                elif text.startswith("cairn-server: metrics on "):
                    self.metrics_url = text.split(" on ", 1)[1]
                if self.url and self.metrics_url:
                    found.set()
        found.set()  # the server exited: Server() stops waiting

    def requests(self):
        """{(method, code): count} of cairn_server_requests_total."""
        with urllib.request.urlopen(self.metrics_url, timeout=10) as answer:
            text = answer.read().decode()
        counts = {}
        for line in text.splitlines():
            match = METRIC_LINE.match(line)
            if match:
                counts[(match.group(1), match.group(2))] = int(match.group(3))
        return counts

    def stop(self):
        """SIGTERM, 40 s to drain, then SIGKILL. Returns the exit status."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(40)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.copier.join(10)
        return self.process.returncode


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


ROWS = []


def row(what, measured, baseline, ratio, target, met):
    """One line of the table; `met` None for a row of context (no target)."""
    verdict = "-" if met is None else "met" if met else "UNMET"
    ROWS.append((what, measured, baseline, ratio, target, verdict))


def print_table():
    header = ("row", "measured", "baseline", "ratio", "target", "met?")
    widths = [max(len(str(line[column])) for line in ROWS + [header]) for column in range(6)]
    for line in [header] + ROWS:
        print("  ".join(str(cell).ljust(width) for cell, width in zip(line, widths)).rstrip())


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


def timed_turns(runs, *sides):
    """Runs each side `runs` times in turns, the order reversed every other
    round (A B C, C B A, ...); returns each side's times."""
    times = [[] for _ in sides]
    for index in range(runs):
        order = range(len(sides)) if index % 2 == 0 else reversed(range(len(sides)))
        for side in order:
            times[side].append(sides[side](index))
    return times


def timed_row(what, measured_times, baseline_times, baseline_name, target):
    ratio = statistics.median(m / b for m, b in zip(measured_times, baseline_times))
    row(what, f"{statistics.median(measured_times) * 1e3:.1f} ms",
        f"{baseline_name} {statistics.median(baseline_times) * 1e3:.1f} ms", f"{ratio:.2f}",
        "-" if target is None else f"<= {target}", None if target is None else ratio <= target)


def server_execute_milliseconds(log_path, offset):
    """The ms= of the Execute calls the server logged past `offset` (its
    request log line; an empty list when the format is not recognised)."""
    with open(log_path, errors="replace") as log:
        log.seek(offset)
        return [float(match.group(1)) for match in
                re.finditer(r"\] Execute .*? ms=([0-9.]+)", log.read())]


def timed_rows(settings, work, server, remote, local):
    root = os.path.join(work, "busybox-root")
    make_busybox_root(root)
    # Warm-up: the root imported into the host's store and staged for
    # bwrap once; busybox on the server.
    for index in range(2):
        local.run(root, f"warm-up {index}")
        remote.run(root, f"warm-up {index}")

    before = server.requests()
    log_offset = os.path.getsize(server.log_path)
    miss, bwrap = timed_turns(settings.runs, lambda i: remote.run(root, f"miss {i}"),
                              lambda i: local.run(root, f"bwrap {i}"))
    delta = difference(server.requests(), before)
    if calls(delta, "Execute") != settings.runs or calls(delta, "GetActionResult", "OK") != 0:
        raise BenchError(f"the cache-miss runs were not all executed: {breakdown(delta)}")
    print(f"2. {settings.runs} cache-miss runs; the server received: {breakdown(delta)}")
    executes = server_execute_milliseconds(server.log_path, log_offset)
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
    parser = argparse.ArgumentParser(description="The remote sandbox against issue 10's targets.")
    parser.add_argument("--cairn", required=True, help="the cairn executable")
    parser.add_argument("--server", required=True, help="the cairn-server executable")
    parser.add_argument("--plugin-dir", required=True, help="where the built plugins are")
    parser.add_argument("--dir", default="/tmp", help="where the benchmark's directory is made")
    parser.add_argument("--files", type=int, default=10000, help="small files of row 1")
    parser.add_argument("--dirs", type=int, default=100, help="directories they are spread over")
    parser.add_argument("--runs", type=int, default=21, help="timed runs of each side, rows 2, 3")
    parser.add_argument("--keep", action="store_true", help="keep the directory and logs")
    settings = parser.parse_args()
    if settings.files < 1 or settings.dirs < 1 or settings.runs < 1:
        parser.error("every count must be at least 1")
    return settings


def main():
    settings = parse_settings()
    if os.geteuid() != 0:
        print("remote_bench: run as root: both sandboxes use bwrap", file=sys.stderr)
        return 1
    work = tempfile.mkdtemp(prefix="cairn-remote-bench-", dir=settings.dir)
    server = None
    exit_code = 0
    try:
        server = Server(settings.server, os.path.join(work, "server-cache"), settings.plugin_dir,
                        os.path.join(work, "server.log"))
        with open(os.path.join(work, "user.yaml"), "w") as config:
            config.write(f"remote-execution:\n  url: {server.url}\n")
        print(f"remote_bench: cairn run against a cairn-server process at {server.url}")
        remote = Cairn(settings, work, "remote")
        local = Cairn(settings, work, "bwrap")
        rpc_rows(settings, work, server, remote)
        timed_rows(settings, work, server, remote, local)
        print()
        print_table()
    except (BenchError, OSError, subprocess.SubprocessError) as error:
        print(f"remote_bench: {error}", file=sys.stderr)
        if server is not None:
            print("the end of the server's log:" + tail(server.log_path), file=sys.stderr)
        exit_code = 1
    finally:
        if server is not None:
            status = server.stop()
            if status != 0:
                print(f"  (the server exited with status {status} on SIGTERM)")
        if settings.keep:
            print(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    return exit_code


if __name__ == "__main__":
    sys.exit(main())
