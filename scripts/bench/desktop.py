#!/usr/bin/env python3
"""Benchmarks of the real Ferry desktop app (stdlib only).

Called by scripts/bench-desktop.sh inside `dbus-run-session` with
scripts/with-keyring.sh (a real, unlocked Secret Service), after the app is
built. It starts its own Xvfb, and per launch of the app its own
tauri-driver (on free ports, so a parallel E2E run on 4444 is not touched)
with a fresh data folder, and drives the window over plain WebDriver HTTP.

Figures:
  1. launch to data: from just before the WebDriver session is created
     (which starts the app process) until the Overview's "orders posted"
     total is above 0 and connection cards are in the DOM; 3 runs + median.
  2. resources over a window of N seconds (default 60) of the app process
     and every process below it (WebKitWebProcess, WebKitNetworkProcess…):
     CPU % of one core from /proc/<pid>/stat utime+stime deltas, RSS
     (VmRSS) and PSS (smaps_rollup), total and per process name. Once idle
     (no polls, no demo activity), once at the demo's default schedule.
  3. the machine and the build profile.
"""

import argparse
import json
import os
import shutil
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

CLK_TCK = os.sysconf("SC_CLK_TCK")
# Processes outside the app whose CPU is shown beside it: {name: pid}.
OUTSIDE = {}
PAGE_JS = r"""
const q = (s) => document.querySelector(s);
const txt = (s) => { const e = q(s); return e ? e.textContent.trim() : null; };
const btn = q('[data-testid="sync-all"]');
return {
  ready: document.readyState,
  cards: document.querySelectorAll('[data-testid^="card-"]').length,
  posted: txt('[data-testid="posted-total"]'),
  pending: txt('[data-testid="pending-total"]'),
  syncing: btn ? btn.disabled : null,
  page: txt('[aria-current="page"]'),
};
"""


def log(msg):
    print(f"bench-desktop: {msg}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------- WebDriver


class WebDriverError(Exception):
    pass


class WebDriver:
    def __init__(self, port):
        self.base = f"http://127.0.0.1:{port}"
        self.sid = None

    def _req(self, method, path, body=None, timeout=120):
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(
            self.base + path, data=data, method=method, headers={"Content-Type": "application/json"}
        )
        try:
            with urllib.request.urlopen(req, timeout=timeout) as resp:
                return json.load(resp).get("value")
        except urllib.error.HTTPError as e:
            raise WebDriverError(f"{method} {path}: HTTP {e.code}: {e.read()[:500]!r}") from None
        except (urllib.error.URLError, OSError) as e:
            raise WebDriverError(f"{method} {path}: {e}") from None

    def new_session(self, app):
        caps = {"capabilities": {"alwaysMatch": {"browserName": "wry", "tauri:options": {"application": app}}}}
        value = self._req("POST", "/session", caps, timeout=180)
        self.sid = value["sessionId"]

    def execute(self, script):
        return self._req("POST", f"/session/{self.sid}/execute/sync", {"script": script, "args": []}, timeout=30)

    def page(self):
        return self.execute(PAGE_JS)

    def delete(self):
        if self.sid:
            try:
                self._req("DELETE", f"/session/{self.sid}", timeout=30)
            except WebDriverError as e:
                log(f"delete session: {e}")
            self.sid = None


# ---------------------------------------------------------------- /proc


def read(path):
    try:
        with open(path) as f:
            return f.read()
    except OSError:
        return None


def stat_of(pid):
    """(ppid, utime+stime ticks) or None."""
    s = read(f"/proc/{pid}/stat")
    if s is None:
        return None
    fields = s[s.rfind(")") + 2 :].split()
    return int(fields[1]), int(fields[11]) + int(fields[12])


def children_map():
    m = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            st = stat_of(d)
            if st:
                m.setdefault(st[0], []).append(int(d))
    return m


def descendants(root, cmap=None):
    cmap = cmap if cmap is not None else children_map()
    out, todo = [], [root]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(cmap.get(p, []))
    return out


def name_of(pid):
    try:
        exe = os.readlink(f"/proc/{pid}/exe")
        return os.path.basename(exe.replace(" (deleted)", ""))
    except OSError:
        return (read(f"/proc/{pid}/comm") or "?").strip()


def kb_field(text, key):
    if not text:
        return None
    for line in text.splitlines():
        if line.startswith(key):
            return int(line.split()[1])
    return None


def sample_tree(root):
    """{pid: (name, ticks, rss_kb, pss_kb|None)} for root and all below it."""
    out = {}
    for pid in descendants(root):
        st = stat_of(pid)
        if st is None:
            continue
        rss = kb_field(read(f"/proc/{pid}/status"), "VmRSS:")
        pss = kb_field(read(f"/proc/{pid}/smaps_rollup"), "Pss:")
        out[pid] = (name_of(pid), st[1], rss or 0, pss)
    return out


def system_busy_ticks():
    """(busy, total) jiffies of the whole machine, from /proc/stat."""
    v = [int(x) for x in read("/proc/stat").splitlines()[0].split()[1:]]
    idle = v[3] + (v[4] if len(v) > 4 else 0)
    return sum(v) - idle, sum(v)


def find_app_pid(driver_pid, app_path, timeout=30):
    real = os.path.realpath(app_path)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for pid in descendants(driver_pid):
            try:
                exe = os.readlink(f"/proc/{pid}/exe").replace(" (deleted)", "")
            except OSError:
                continue
            if exe == real:
                return pid
        time.sleep(0.1)
    raise RuntimeError(f"no {real} process below tauri-driver (pid {driver_pid})")


# ---------------------------------------------------------------- processes


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"nothing listens on port {port}")


def start_xvfb(work):
    r, w = os.pipe()
    p = subprocess.Popen(
        ["Xvfb", "-displayfd", str(w), "-screen", "0", "1280x800x24", "-nolisten", "tcp"],
        pass_fds=(w,),
        stderr=open(os.path.join(work, "xvfb.log"), "w"),
    )
    os.close(w)
    num = b""
    while not num.endswith(b"\n"):
        chunk = os.read(r, 16)
        if not chunk:
            break
        num += chunk
    os.close(r)
    if not num.strip():
        raise RuntimeError("Xvfb did not start")
    return p, f":{num.decode().strip()}"


class Launch:
    """One start of the app through its own tauri-driver and WebDriver session."""

    def __init__(self, app, work, tag, env_extra):
        self.app = app
        self.dir = os.path.join(work, tag)
        os.makedirs(self.dir)
        self.data = os.path.join(self.dir, "data")
        port, native = free_port(), free_port()
        env = dict(os.environ, FERRY_DEMO="1", FERRY_DATA_DIR=self.data, **env_extra)
        self.driver_log = os.path.join(self.dir, "driver.log")
        self.driver = subprocess.Popen(
            ["tauri-driver", "--port", str(port), "--native-port", str(native)],
            env=env,
            stdout=open(self.driver_log, "w"),
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, ended by id below
        )
        try:
            wait_port(port)
            wait_port(native)  # WebKitWebDriver, which tauri-driver starts: it may listen a moment later
        except RuntimeError:
            os.killpg(self.driver.pid, 15)
            self.driver.wait()
            raise
        self.wd = WebDriver(port)
        self.pid = None

    def start(self):
        """Creates the session (starts the app); returns the monotonic start time."""
        t0 = time.monotonic()
        self.wd.new_session(self.app)
        self.t_session = time.monotonic() - t0
        self.pid = find_app_pid(self.driver.pid, self.app)
        return t0

    def wait_for(self, cond, timeout, interval=0.05):
        """Polls the page until cond(page) holds; returns (page, monotonic time)."""
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            try:
                last = self.wd.page()
                if last and cond(last):
                    return last, time.monotonic()
            except WebDriverError:
                pass  # the page is still loading
            time.sleep(interval)
        raise RuntimeError(f"timed out; last page state {last}")

    def journal_runs(self):
        """(all runs, runs still going) in the demo journal."""
        path = os.path.join(self.data, "demo", "journal.sqlite")
        try:
            con = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)
            try:
                n, going = con.execute("SELECT count(*), count(*) - count(finished_at) FROM runs").fetchone()
            finally:
                con.close()
            return n, going
        except sqlite3.Error as e:
            log(f"cannot read {path}: {e}")
            return None, None

    def close(self):
        self.wd.delete()
        if self.pid:
            deadline = time.monotonic() + 15
            while time.monotonic() < deadline and stat_of(self.pid):
                time.sleep(0.1)
        try:
            os.killpg(self.driver.pid, 15)
        except ProcessLookupError:
            pass
        try:
            self.driver.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(self.driver.pid, 9)
            self.driver.wait()


def posted(p):
    try:
        return int(p.get("posted") or "")
    except ValueError:
        return 0


# ---------------------------------------------------------------- measures


def launch_to_data(app, work, n, timeout):
    runs = []
    for i in range(1, n + 1):
        L = Launch(app, work, f"launch{i}", {})
        try:
            load = os.getloadavg()[0]
            t0 = L.start()
            _, t_cards = L.wait_for(lambda p: p["cards"] > 0, timeout)
            page, t_data = L.wait_for(lambda p: p["cards"] > 0 and posted(p) > 0, timeout)
            r = {
                "session": L.t_session,
                "cards": t_cards - t0,
                "data": t_data - t0,
                "posted": posted(page),
                "load": load,
            }
            runs.append(r)
            log(f"launch {i}: session {r['session']:.2f} s, cards {r['cards']:.2f} s, data {r['data']:.2f} s "
                f"({r['posted']} posted; load avg {load:.2f})")
        finally:
            L.close()
    return runs


def measure_window(pid, secs, interval=1.0):
    """Samples the tree under `pid` for `secs` seconds."""
    first = {}  # pid -> ticks at first sight (0 for processes born during the window)
    last = {}
    names = {}
    per_second = []
    samples = []
    sys0 = system_busy_ticks()
    out0 = {nm: (stat_of(p) or (0, 0))[1] for nm, p in OUTSIDE.items()}
    me0 = os.times()
    t0 = time.monotonic()
    s = sample_tree(pid)
    for p, (nm, ticks, _, _) in s.items():
        first[p], last[p], names[p] = ticks, ticks, nm
    samples.append(s)
    prev_total = sum(last.values())
    k = 1
    while True:
        target = t0 + k * interval
        now = time.monotonic()
        if target > t0 + secs + 1e-6:
            break
        if target > now:
            time.sleep(target - now)
        s = sample_tree(pid)
        for p, (nm, ticks, _, _) in s.items():
            if p not in first:
                first[p] = 0
            last[p], names[p] = ticks, nm
        samples.append(s)
        total = sum(last[p] - first[p] for p in last)
        per_second.append((total - prev_total) / CLK_TCK / interval * 100)
        prev_total = total
        k += 1
    elapsed = time.monotonic() - t0
    sys1 = system_busy_ticks()
    me1 = os.times()
    outside = {nm: ((stat_of(p) or (0, 0))[1] - out0[nm]) / CLK_TCK / elapsed * 100 for nm, p in OUTSIDE.items()}
    outside["this sampler"] = (me1.user + me1.system - me0.user - me0.system) / elapsed * 100
    cpu_by_name = {}
    for p in last:
        cpu_by_name[names[p]] = cpu_by_name.get(names[p], 0) + (last[p] - first[p])
    app_ticks = sum(cpu_by_name.values())

    def agg(sample):
        by = {}
        for _, (nm, _, rss, pss) in sample.items():
            b = by.setdefault(nm, {"n": 0, "rss": 0, "pss": 0, "pss_ok": True})
            b["n"] += 1
            b["rss"] += rss
            if pss is None:
                b["pss_ok"] = False
            else:
                b["pss"] += pss
        return by

    aggs = [agg(s) for s in samples]
    tot = [(sum(b["rss"] for b in a.values()), sum(b["pss"] for b in a.values())) for a in aggs]
    procs = {}
    for a in aggs:
        for nm, b in a.items():
            r = procs.setdefault(nm, {"n": 0, "rss_peak": 0, "pss_peak": 0})
            r["n"] = max(r["n"], b["n"])
            r["rss_peak"] = max(r["rss_peak"], b["rss"])
            r["pss_peak"] = max(r["pss_peak"], b["pss"])
    for nm, r in procs.items():
        f = aggs[-1].get(nm)
        r["rss_final"] = f["rss"] if f else 0
        r["pss_final"] = f["pss"] if f else 0
        r["cpu"] = cpu_by_name.get(nm, 0) / CLK_TCK / elapsed * 100
    pss_ok = all(b["pss_ok"] for a in aggs for b in a.values())
    busy = (sys1[0] - sys0[0]) / max(1, sys1[1] - sys0[1]) * os.cpu_count() * 100  # % of one core, all cores
    return {
        "secs": elapsed,
        "cpu": app_ticks / CLK_TCK / elapsed * 100,
        "cpu_secs": app_ticks / CLK_TCK,
        "cpu_max_1s": max(per_second) if per_second else 0.0,
        "busy_seconds": sum(1 for c in per_second if c > 0),
        "samples": len(samples),
        "rss_peak": max(t[0] for t in tot),
        "rss_final": tot[-1][0],
        "pss_peak": max(t[1] for t in tot) if pss_ok else None,
        "pss_final": tot[-1][1] if pss_ok else None,
        "procs": procs,
        "outside": outside,
        "others": max(0.0, busy - app_ticks / CLK_TCK / elapsed * 100 - sum(outside.values())),
    }


def settle_until_quiet(L, quiet, timeout):
    """Waits until the journal has no run going and the page's totals have not changed for `quiet` s."""
    deadline = time.monotonic() + timeout
    key, since = None, time.monotonic()
    while time.monotonic() < deadline:
        page = L.wd.page()
        _, going = L.journal_runs()
        k = (page.get("posted"), page.get("pending"), going)
        if k != key or going:
            key, since = k, time.monotonic()
        elif time.monotonic() - since >= quiet:
            return page
        time.sleep(0.5)
    raise RuntimeError("the app did not settle")


def window(L, what, secs, before):
    """Samples the app's processes for `secs`, with the journal's runs and the page's totals before and after."""
    runs_before, _ = L.journal_runs()
    load = os.getloadavg()[0]
    log(f"{what}: measuring {secs} s (posted {before['posted']}, runs so far {runs_before})")
    m = measure_window(L.pid, secs)
    runs_after, _ = L.journal_runs()
    after = L.wd.page()
    m.update(
        load=load,
        runs_in_window=(runs_after - runs_before) if runs_before is not None and runs_after is not None else None,
        posted_before=before["posted"],
        posted_after=after["posted"],
        page=after.get("page"),
    )
    return m


def idle_window(app, work, secs, settle):
    """Manual schedule (no polls, and the demo's shop does not run), one Sync now, then quiet."""
    L = Launch(app, work, "idle", {"FERRY_SCHEDULE": "manual"})
    try:
        L.start()
        L.wait_for(lambda p: p["cards"] > 0 and p["syncing"] is False, 60)
        L.wd.execute('document.querySelector(\'[data-testid="sync-all"]\').click(); return true;')
        L.wait_for(lambda p: posted(p) > 0, 120, interval=0.25)
        before_page = settle_until_quiet(L, 5, 180)
        time.sleep(settle)  # no WebDriver traffic from here to the end of the window
        return window(L, "idle", secs, before_page)
    finally:
        L.close()


def polling_window(app, work, secs, settle, interval):
    """The demo as a user sees it: default schedule (demo 5 s unless FERRY_SYNC_INTERVAL_SECS), shop ticking."""
    env = {}
    if interval:
        env["FERRY_SYNC_INTERVAL_SECS"] = str(interval)
    L = Launch(app, work, "polling", env)
    try:
        L.start()
        L.wait_for(lambda p: p["cards"] > 0 and posted(p) > 0, 120)
        time.sleep(settle)
        return window(L, "polling", secs, L.wd.page())
    finally:
        L.close()


# ---------------------------------------------------------------- machine


def machine():
    cpuinfo = read("/proc/cpuinfo") or ""
    model = next((l.split(":", 1)[1].strip() for l in cpuinfo.splitlines() if l.startswith("model name")), "?")
    mem = kb_field(read("/proc/meminfo"), "MemTotal:") or 0
    osrel = read("/etc/os-release") or ""
    pretty = next((l.split("=", 1)[1].strip('"') for l in osrel.splitlines() if l.startswith("PRETTY_NAME=")), "?")

    def cmd(*a):
        try:
            return subprocess.run(a, capture_output=True, text=True, timeout=10).stdout.strip()
        except OSError:
            return "?"

    return {
        "cpu": model,
        "cores": os.cpu_count(),
        "ram_gb": mem / 1024 / 1024,
        "kernel": cmd("uname", "-r"),
        "os": pretty,
        "webkit": cmd("pkg-config", "--modversion", "webkit2gtk-4.1"),
    }


# ---------------------------------------------------------------- report


def mb(kb):
    return "n/a" if kb is None else f"{kb / 1024:.1f}"


def window_md(title, m, meaning):
    out = [f"### {title}", "", meaning, ""]
    out.append(
        f"- CPU: **{m['cpu']:.2f} %** of one core averaged over {m['secs']:.0f} s "
        f"({m['cpu_secs']:.2f} CPU-seconds; busiest second {m['cpu_max_1s']:.1f} %; "
        f"{m['busy_seconds']} of {m['samples'] - 1} one-second samples used any CPU)"
    )
    out.append(
        f"- Memory, all processes: RSS peak **{mb(m['rss_peak'])} MB**, final {mb(m['rss_final'])} MB; "
        f"PSS peak **{mb(m['pss_peak'])} MB**, final {mb(m['pss_final'])} MB"
    )
    rw = m.get("runs_in_window")
    out.append(
        f"- Sync runs during the window (rows added to the journal's `runs` table, one per flow job and run): "
        f"{rw if rw is not None else 'n/a'}; "
        f"orders-posted total {m['posted_before']} → {m['posted_after']}; page shown: {m.get('page')}"
    )
    out.append(
        "- Not counted, for context: "
        + ", ".join(f"{nm} {v:.2f} %" for nm, v in m["outside"].items())
        + " of one core (Xvfb draws the window in software: a real desktop's X server or compositor does this work)"
    )
    out.append(
        f"- Other load on the machine meanwhile: {m['others']:.0f} % of one core used by other processes "
        f"(1-min load average {m['load']:.2f} at the start)"
    )
    out += ["", "| process | count | CPU % | RSS peak MB | RSS final MB | PSS peak MB | PSS final MB |",
            "|---|---:|---:|---:|---:|---:|---:|"]
    for nm, r in sorted(m["procs"].items(), key=lambda kv: -kv[1]["rss_peak"]):
        pss_peak = mb(r["pss_peak"]) if m["pss_peak"] is not None else "n/a"
        pss_final = mb(r["pss_final"]) if m["pss_peak"] is not None else "n/a"
        out.append(
            f"| {nm} | {r['n']} | {r['cpu']:.2f} | {mb(r['rss_peak'])} | {mb(r['rss_final'])} | {pss_peak} | {pss_final} |"
        )
    out.append("")
    return out


def report(args, mach, launches, idle, polls):
    L = []
    L.append("## Desktop app benchmarks (real window)")
    L.append("")
    L.append(f"Measured {time.strftime('%Y-%m-%d %H:%M %Z')} by `scripts/bench-desktop.sh`.")
    L.append("")
    L.append("### Machine and build")
    L.append("")
    L.append(f"- CPU: {mach['cpu']}, {mach['cores']} cores; RAM {mach['ram_gb']:.1f} GB")
    L.append(f"- OS: {mach['os']}, kernel {mach['kernel']}; WebKitGTK {mach['webkit']}")
    L.append(f"- Build: **{args.profile}** profile (`{args.app}`){args.build_note}")
    L.append("- Display: Xvfb 1280x800x24 (software rendering, no GPU); a fresh D-Bus session with an unlocked "
             "gnome-keyring Secret Service and dunst as the notification server; the app started by tauri-driver → WebKitWebDriver, as the E2E tests do")
    L.append("")
    if launches:
        L.append("### Launch to data")
        L.append("")
        L.append(
            "From just before the WebDriver `POST /session` (which makes WebKitWebDriver start the app process) "
            "until the Overview shows data: connection cards in the DOM and the *orders posted* total above 0, "
            "polled every 50 ms with a WebDriver script. Demo mode (`FERRY_DEMO=1`), a fresh data folder every "
            "run, the demo's default schedule (the first sync starts as the app opens). Warm start: the binary "
            "and WebKit's libraries are in the page cache (a first start after boot is slower). *Session "
            "created*: WebKitWebDriver has the app's webview under automation; *cards shown*: the first "
            "Overview snapshot is in the DOM."
        )
        L.append("")
        L.append("| run | session created s | cards shown s | data shown s | orders posted | load avg |")
        L.append("|---:|---:|---:|---:|---:|---:|")
        for i, r in enumerate(launches, 1):
            L.append(f"| {i} | {r['session']:.2f} | {r['cards']:.2f} | {r['data']:.2f} | {r['posted']} | {r['load']:.2f} |")
        med = lambda k: statistics.median(r[k] for r in launches)  # noqa: E731
        L.append(f"| **median** | {med('session'):.2f} | {med('cards'):.2f} | **{med('data'):.2f}** | | |")
        L.append("")
    if idle:
        L += window_md(
            f"Idle, {args.window} s",
            idle,
            "*Idle* here: the Overview shown with its data, and nothing to do. The app runs with "
            "`FERRY_SCHEDULE=manual`, so the scheduler never polls on its own, and the demo shop's life "
            "(new orders every 8 s, shipments, parcel moves: `demo_life` in src-tauri/src/startup.rs) is not "
            "started (it only runs with a timed schedule). The benchmark pressed *Sync now* once, waited until the "
            f"journal had no run going and the totals had not changed for 5 s, waited {args.settle} s more, then "
            "sampled once a second with no WebDriver traffic. The engine's watchdog (every 300 s after start) "
            "falls outside the window. Counted: the app process and every process below it; not counted: "
            "tauri-driver, WebKitWebDriver, Xvfb, D-Bus, the keyring and this sampler.",
        )
    if polls:
        iv = args.poll_interval or 5
        L += window_md(
            f"With polling at the demo's default schedule, {args.window} s",
            polls,
            f"The demo as `ferry-app --demo` runs it: the scheduler polls every {iv} s (±10 % jitter; "
            "`FERRY_SYNC_INTERVAL_SECS`, demo default 5 s) against the built-in emulated systems, and the demo "
            "shop gets a new order every 8 s and ships / moves parcels every 4 s. Measured from "
            f"{args.settle} s after the Overview first showed data; same processes counted as above.",
        )
    return "\n".join(L) + "\n"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--app", required=True)
    ap.add_argument("--profile", required=True)
    ap.add_argument("--build-note", default="")
    ap.add_argument("--out", required=True)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--window", type=int, default=60)
    ap.add_argument("--settle", type=int, default=10)
    ap.add_argument("--poll-interval", type=int, default=0, help="FERRY_SYNC_INTERVAL_SECS for the polling window")
    ap.add_argument("--only", choices=["all", "launch", "idle", "polling"], default="all")
    args = ap.parse_args()

    work = tempfile.mkdtemp(prefix="ferry-bench-")
    xvfb, display = start_xvfb(work)
    OUTSIDE["Xvfb"] = xvfb.pid
    os.environ["DISPLAY"] = display
    # A notification server, as a desktop has (the demo raises alerts for its
    # conflicts); else D-Bus starts dunst without a display and it crashes.
    dunst = None
    if shutil.which("dunst"):
        dunst = subprocess.Popen(["dunst"], stdout=subprocess.DEVNULL, stderr=open(os.path.join(work, "dunst.log"), "w"))
        OUTSIDE["dunst"] = dunst.pid
    # Not inherited from the caller: the app must run as a user's would.
    for k in ("FERRY_SCHEDULE", "FERRY_SYNC_INTERVAL_SECS", "FERRY_DEMO_ORDERS", "FERRY_NO_TRAY", "FERRY_LOG"):
        os.environ.pop(k, None)
    try:
        mach = machine()
        launches = idle = polls = None
        if args.only in ("all", "launch"):
            launches = launch_to_data(args.app, work, args.runs, 120)
        if args.only in ("all", "idle"):
            idle = idle_window(args.app, work, args.window, args.settle)
        if args.only in ("all", "polling"):
            polls = polling_window(args.app, work, args.window, args.settle, args.poll_interval)
    finally:
        for p in (dunst, xvfb):
            if p:
                p.terminate()
                p.wait()
    md = report(args, mach, launches, idle, polls)
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out, "w") as f:
        f.write(md)
    print(md)
    log(f"written to {args.out}; logs in {work}")


if __name__ == "__main__":
    main()
