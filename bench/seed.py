"""How long `seed --synthetic` takes and how much memory it and the server hold, at a size.

    .venv/bin/python bench/seed.py [--interactions 100000] [--clients 20] [--engagements 100]
                                   [--storage DIR] [--batch-size 2000]

Starts an embedded server on a storage directory (a fresh temporary one unless
``--storage`` is given), creates the indexes, then runs ``manage.py seed --synthetic``
as its own process (its progress lines pass through), and prints the wall time, the rate,
the peak resident memory of the command and of the server, and the machine's load
average before and after (2 shared cores: read the load next to the rate). Then runs
``manage.py rebuild_rollups --check``: the daily counts the seed kept must equal the raw
aggregation. The target: 1,000,000 in under 15 minutes, with memory that does not grow
with the size.
"""

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from devtools.embedded import EmbeddedMongo, free_port

ROOT = Path(__file__).resolve().parent.parent


def peak_rss_mb(pid):
    """The peak resident memory of a running process (VmHWM), in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def manage(env, *arguments, check=True):
    """Run a manage.py command; return ``(seconds, its peak RSS in MB, return code)``."""
    started = time.monotonic()
    process = subprocess.Popen([sys.executable, "manage.py", *arguments], cwd=ROOT, env=env)
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    if check and process.returncode:
        raise SystemExit(f"manage.py {' '.join(arguments)} exited with {process.returncode}")
    return time.monotonic() - started, usage.ru_maxrss / 1024, process.returncode


def load():
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--interactions", type=int, default=100_000)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--engagements", type=int, default=100)
    parser.add_argument("--batch-size", type=int, default=None, help="Default: the command's.")
    parser.add_argument("--storage", help="The server's storage directory (default: a fresh temporary one).")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as scratch:
        storage = args.storage or f"{scratch}/mongo"
        with EmbeddedMongo(free_port(), storage=storage) as server:
            env = {
                **os.environ,
                "DJANGO_SETTINGS_MODULE": "topbox.settings",
                "MONGO_URI": f"{server.uri}bench",
                "TOPBOX_DATA_DIR": scratch,
                "DJANGO_DEBUG": "false",
                "DJANGO_LOG_LEVEL": "WARNING",
                # The check aggregates everything: no deadline, and a server busy for long is
                # waited for rather than given up on (heartbeats, sockets).
                "MONGO_QUERY_TIMEOUT_MS": "3600000",
                "MONGO_SOCKET_TIMEOUT_MS": "3600000",
                "MONGO_TIMEOUT_MS": "60000",
            }
            manage(env, "migrate", "--verbosity", "0")
            manage(env, "ensure_indexes", "--verbosity", "0")
            seed = ["seed", "--synthetic", "--interactions", str(args.interactions), "--clients", str(args.clients),
                    "--engagements", str(args.engagements), "--random-seed", "1"]  # fmt: skip
            if args.batch_size:
                seed += ["--batch-size", str(args.batch_size)]
            print(f"{' '.join(seed)} on {os.cpu_count()} cores, load average {load()}, storage {storage}", flush=True)
            seconds, command_mb, _ = manage(env, *seed)
            server_mb = peak_rss_mb(server.process.pid)
            after = load()
            check_seconds, _, mismatch = manage(env, "rebuild_rollups", "--check", check=False)

    rate = args.interactions / seconds
    print()
    print(f"{'interactions':>12} {'wall s':>8} {'rows/s':>8} {'command peak RSS':>17} {'server peak RSS':>16}")
    print(f"{args.interactions:>12,} {seconds:>8.1f} {rate:>8,.0f} {command_mb:>14.0f} MB {server_mb:>13.0f} MB")
    print(f"load average after: {after}")
    print(f"rebuild_rollups --check: {'MISMATCH' if mismatch else 'match'} ({check_seconds:.1f} s)")
    if mismatch:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
