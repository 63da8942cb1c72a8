"""bench_processes: what the whole-process benchmarks share (remote_bench,
artifact_cache_bench): their common command line, a cairn-server process
to run against, timing processes in turns, and the table of rows against
their targets.

Imported by the scripts in bench/*/ after they put bench/ on sys.path.
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
import urllib.request

# One request line of cairn-server's log: the method and its ms=.
REQUEST_LINE = re.compile(r"\] (\w+) instance=.*? ms=([0-9.]+)")
METRIC_LINE = re.compile(
    r'^cairn_server_requests_total\{method="([^"]*)",code="([^"]*)"\} (\d+)$')


class BenchError(Exception):
    pass


def bench_arguments(description, files, files_help, runs, runs_help):
    """A parser of the options every whole-process benchmark takes: what
    its wrapper in build/bin passes (--cairn, --server, --plugin-dir), where
    it works (--dir, --keep), and its counts (--files small files in --dirs
    directories, --runs timed runs of each side), whose defaults and
    meaning are the benchmark's. The caller adds its own options, then
    reads them all with parse_bench_settings."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--cairn", required=True, help="the cairn executable")
    parser.add_argument("--server", required=True, help="the cairn-server executable")
    parser.add_argument("--plugin-dir", required=True, help="where the built plugins are")
    parser.add_argument("--dir", default="/tmp", help="where the benchmark's directory is made")
    parser.add_argument("--files", type=int, default=files, help=files_help)
    parser.add_argument("--dirs", type=int, default=100, help="directories they are spread over")
    parser.add_argument("--runs", type=int, default=runs, help=runs_help)
    parser.add_argument("--keep", action="store_true", help="keep the directory and logs")
    return parser


def parse_bench_settings(parser):
    """The command line parsed by a parser of bench_arguments; a count
    below 1 is a usage error."""
    settings = parser.parse_args()
    if settings.files < 1 or settings.dirs < 1 or settings.runs < 1:
        parser.error("every count must be at least 1")
    return settings


def tail(path, lines=20):
    """The end of a log, indented, for an error message."""
    try:
        with open(path, errors="replace") as log:
            last = log.read().splitlines()[-lines:]
    except OSError:
        return ""
    return "".join("\n  " + line for line in last)


class Server:
    """A cairn-server process whose output goes to a log, stopped by
    stop(); with `metrics`, also its Prometheus endpoint."""

    def __init__(self, binary, cache_dir, plugin_dir, log_path, metrics=False):
        self.log_path = log_path
        argv = [binary, "--listen", "grpc://127.0.0.1:0", "--cache-dir", cache_dir,
                "--plugin-path", plugin_dir]
        if metrics:
            argv += ["--metrics-listen", "127.0.0.1:0"]
        self.process = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                        stderr=subprocess.STDOUT)
        self.url = None
        self.metrics_url = None
        self._wants_metrics = metrics
        # The address lines come first; a thread then copies the rest of
        # the output to the log, so the pipe never fills.
        found = threading.Event()
        self.copier = threading.Thread(target=self._copy_output, args=(found,), daemon=True)
        self.copier.start()
        if not found.wait(30) or not self._ready():
            self.stop()
            raise BenchError("cairn-server printed no listening address in 30 s; its output:" +
                             tail(log_path))

    def _ready(self):
        return self.url is not None and (self.metrics_url is not None or not self._wants_metrics)

    def _copy_output(self, found):
        with open(self.log_path, "ab") as log:
            for line in self.process.stdout:
                log.write(line)
                log.flush()
                text = line.decode(errors="replace").strip()
                if self.url is None and text.startswith("cairn-server: listening on "):
                    self.url = text.split(" on ", 1)[1]
                elif text.startswith("cairn-server: metrics on "):
                    self.metrics_url = text.split(" on ", 1)[1]
                if self._ready():
                    found.set()
        found.set()  # the server exited: Server() stops waiting

    def requests(self):
        """{(method, code): count} of cairn_server_requests_total (metrics=True)."""
        with urllib.request.urlopen(self.metrics_url, timeout=10) as answer:
            text = answer.read().decode()
        counts = {}
        for line in text.splitlines():
            match = METRIC_LINE.match(line)
            if match:
                counts[(match.group(1), match.group(2))] = int(match.group(3))
        return counts

    def log_offset(self):
        return os.path.getsize(self.log_path)

    def calls_since(self, offset):
        """{method: [ms, ...]} of the requests the server logged past `offset`."""
        with open(self.log_path, errors="replace") as log:
            log.seek(offset)
            text = log.read()
        calls = {}
        for match in REQUEST_LINE.finditer(text):
            calls.setdefault(match.group(1), []).append(float(match.group(2)))
        return calls

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


def timed_turns(runs, *sides):
    """Runs each side `runs` times in turns, the order reversed every
    other round (A B C, C B A, ...); returns each side's times. A side is
    a function of the run's index returning seconds; whatever it prepares
    before its timed process is not counted."""
    times = [[] for _ in sides]
    for index in range(runs):
        order = range(len(sides)) if index % 2 == 0 else reversed(range(len(sides)))
        for side in order:
            times[side].append(sides[side](index))
    return times


def timed_row(what, measured_times, baseline_times, baseline_name, target):
    """A row of the median of each side and the median of the run-by-run
    ratios, against `target` (None: a row of context)."""
    ratio = statistics.median(m / b for m, b in zip(measured_times, baseline_times))
    row(what, f"{statistics.median(measured_times) * 1e3:.1f} ms",
        f"{baseline_name} {statistics.median(baseline_times) * 1e3:.1f} ms", f"{ratio:.2f}",
        "-" if target is None else f"<= {target}x", None if target is None else ratio <= target)


def run_bench(name, settings, why_root, body):
    """The frame of a benchmark's main(): as root only (`why_root` says
    why), in a fresh directory under settings.dir, body(work, servers)
    registering every Server it starts in `servers`; then the table. On an
    error: the error and the end of each server's log, exit status 1. The
    servers are stopped and the directory removed (unless settings.keep)
    whatever happened. Returns the exit status."""
    if os.geteuid() != 0:
        print(f"{name}: run as root: {why_root}", file=sys.stderr)
        return 1
    work = tempfile.mkdtemp(prefix=f"cairn-{name.replace('_', '-')}-", dir=settings.dir)
    servers = []
    exit_code = 0
    try:
        body(work, servers)
        print()
        print_table()
    except (BenchError, OSError, subprocess.SubprocessError) as error:
        print(f"{name}: {error}", file=sys.stderr)
        for server in servers:
            print(f"the end of the log of the server at {server.url}:" + tail(server.log_path),
                  file=sys.stderr)
        exit_code = 1
    finally:
        for server in servers:
            status = server.stop()
            if status != 0:
                print(f"  (the server at {server.url} exited with status {status} on SIGTERM)")
        if settings.keep:
            print(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    return exit_code
