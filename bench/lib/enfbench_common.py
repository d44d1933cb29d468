# bench/lib/enfbench_common.py: the parts of bench/enforcer-bench that both
# sides use: progress output, deadlines, timed commands, statistics, a
# private SoftHSM2 token, the kasp.xml and zonelist.xml the two enforcers
# read, and waiting for signconf files.
#
# Contract: nothing here touches anything outside the work directory it is
# given; every wait has a deadline; every timing is wall-clock time from
# time.monotonic() around the whole client process (fork and exec included,
# the same for Tandem and OpenDNSSEC).

import os
import shutil
import statistics
import subprocess
import sys
import time

ZONE_FMT = "z%06d.bench.example"
ADD_FMT = "add%04d.bench.example"
FILL_FMT = "fill%05d.bench.example"


class BenchError(Exception):
	"""A step that failed: the message names the step and what went wrong."""


class Progress:
	"""Step lines on stderr; live counters only when stderr is a terminal."""

	def __init__(self, quiet=False):
		self.tty = sys.stderr.isatty()
		self.quiet = quiet
		self.live = False

	def step(self, msg):
		self.end_live()
		if not self.quiet:
			print("[enforcer-bench %s] %s" % (time.strftime("%H:%M:%S"), msg),
			      file=sys.stderr, flush=True)

	def update(self, msg):
		if self.tty and not self.quiet:
			sys.stderr.write("\r\033[K  " + msg)
			sys.stderr.flush()
			self.live = True

	def end_live(self):
		if self.live:
			sys.stderr.write("\r\033[K")
			sys.stderr.flush()
			self.live = False


class Deadline:
	"""A hard time limit for one side of the benchmark."""

	def __init__(self, seconds, what):
		self.end = time.monotonic() + seconds
		self.seconds = seconds
		self.what = what

	def left(self):
		return self.end - time.monotonic()

	def expired(self):
		return self.left() <= 0


def run_timed(argv, env=None, timeout=None, log=None, input_text=None):
	"""Run argv; return (exit status, stdout, stderr, wall seconds).
	A timeout gives status None (the process is killed)."""
	t0 = time.monotonic()
	try:
		p = subprocess.run(argv, env=env, timeout=timeout, capture_output=True,
				   text=True, input=input_text)
		rc, out, err = p.returncode, p.stdout, p.stderr
	except subprocess.TimeoutExpired as e:
		rc = None
		out = e.stdout.decode() if isinstance(e.stdout, bytes) else (e.stdout or "")
		err = e.stderr.decode() if isinstance(e.stderr, bytes) else (e.stderr or "")
	dt = time.monotonic() - t0
	if log is not None:
		with open(log, "a") as f:
			f.write("$ %s\n# exit %s, %.3f s\n%s%s\n" % (" ".join(argv), rc, dt, out, err))
	return rc, out, err, dt


def stats_ms(samples_s):
	"""Median, p99 (nearest rank), worst, best and mean of seconds, in ms."""
	v = sorted(x * 1000.0 for x in samples_s)
	if not v:
		return None
	p99 = v[min(len(v) - 1, max(0, int(-(-0.99 * len(v) // 1)) - 1))]
	return {"n": len(v), "median_ms": round(statistics.median(v), 2), "p99_ms": round(p99, 2),
		"worst_ms": round(v[-1], 2), "best_ms": round(v[0], 2),
		"mean_ms": round(statistics.mean(v), 2)}


def proc_cpu_seconds(pid):
	"""user + system CPU seconds of a live process (and its reaped children)."""
	try:
		with open("/proc/%d/stat" % pid) as f:
			fields = f.read().rsplit(")", 1)[1].split()
		tck = os.sysconf("SC_CLK_TCK")
		# fields[0] is state (field 3); utime is field 14, stime 15, cutime 16, cstime 17
		return sum(int(fields[i]) for i in (11, 12, 13, 14)) / tck
	except (OSError, IndexError, ValueError):
		return None


def file_bytes(*paths):
	return sum(os.path.getsize(p) for p in paths if os.path.exists(p))


def dir_bytes(path):
	total = 0
	for root, _, files in os.walk(path):
		for f in files:
			try:
				total += os.path.getsize(os.path.join(root, f))
			except OSError:
				pass
	return total


def softhsm_module():
	for l in ("/usr/lib/softhsm/libsofthsm2.so", "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so",
		  "/usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so", "/usr/local/lib/softhsm/libsofthsm2.so"):
		if os.path.exists(l):
			return l
	raise BenchError("libsofthsm2.so not found (Debian package softhsm2)")


def make_token(d, label, pin="1234"):
	"""A private SoftHSM2 token in d/softhsm (never the system one); returns
	the SOFTHSM2_CONF path."""
	tok = os.path.join(d, "softhsm", "tokens")
	os.makedirs(tok, exist_ok=True)
	conf = os.path.join(d, "softhsm", "softhsm2.conf")
	with open(conf, "w") as f:
		f.write("directories.tokendir = %s\nobjectstore.backend = file\n"
			"log.level = ERROR\nslots.removable = false\n" % tok)
	if not shutil.which("softhsm2-util"):
		raise BenchError("softhsm2-util missing (Debian package softhsm2)")
	env = dict(os.environ, SOFTHSM2_CONF=conf)
	rc, out, err, _ = run_timed(["softhsm2-util", "--init-token", "--free", "--label", label,
				     "--pin", pin, "--so-pin", "5678"], env=env)
	if rc != 0:
		raise BenchError("softhsm2-util --init-token: %s" % (err or out).strip())
	return conf


# The policies.  Both enforcers read the same kasp.xml: OpenDNSSEC uses
# "shared", Tandem both.  ECDSA P-256 (algorithm 13), NSEC3 without extra
# iterations or salt (RFC 9276).
_POLICY = """	<Policy name="%(name)s">
		<Description>enforcer-bench: %(desc)s</Description>
		<Signatures>
			<Resign>PT2H</Resign>
			<Refresh>P3D</Refresh>
			<Validity><Default>P14D</Default><Denial>P14D</Denial></Validity>
			<Jitter>PT12H</Jitter>
			<InceptionOffset>PT3600S</InceptionOffset>
			<MaxZoneTTL>P1D</MaxZoneTTL>
		</Signatures>
		<Denial>
			<NSEC3>
				<Resalt>P100D</Resalt>
				<Hash><Algorithm>1</Algorithm><Iterations>0</Iterations><Salt length="0"/></Hash>
			</NSEC3>
		</Denial>
		<Keys>
			<TTL>PT3600S</TTL>
			<RetireSafety>PT3600S</RetireSafety>
			<PublishSafety>PT3600S</PublishSafety>
%(share)s			<Purge>P14D</Purge>
%(keys)s		</Keys>
		<Zone>
			<PropagationDelay>PT3600S</PropagationDelay>
			<SOA><TTL>PT3600S</TTL><Minimum>PT3600S</Minimum><Serial>unixtime</Serial></SOA>
		</Zone>
		<Parent>
			<PropagationDelay>PT3600S</PropagationDelay>
			<DS><TTL>PT3600S</TTL></DS>
			<SOA><TTL>PT172800S</TTL><Minimum>PT10800S</Minimum></SOA>
		</Parent>
	</Policy>
"""
_KSK = "\t\t\t<KSK><Algorithm length=\"256\">13</Algorithm><Lifetime>P365D</Lifetime><Repository>%s</Repository></KSK>\n"
_ZSK = "\t\t\t<ZSK><Algorithm length=\"256\">13</Algorithm><Lifetime>P90D</Lifetime><Repository>%s</Repository></ZSK>\n"
_CSK = "\t\t\t<CSK><Algorithm length=\"256\">13</Algorithm><Lifetime>P365D</Lifetime><Repository>%s</Repository></CSK>\n"


def write_kasp(path, repo, own=None):
	"""kasp.xml with policy "shared" (ShareKeys, KSK+ZSK) and, when own is
	"kskzsk" or "csk", policy "own" (one key set per zone)."""
	parts = ['<?xml version="1.0" encoding="UTF-8"?>\n<KASP>\n']
	parts.append(_POLICY % {"name": "shared", "desc": "ECDSA P-256 KSK+ZSK shared by every zone",
				"share": "\t\t\t<ShareKeys/>\n", "keys": _KSK % repo + _ZSK % repo})
	if own == "kskzsk":
		parts.append(_POLICY % {"name": "own", "desc": "ECDSA P-256 KSK+ZSK per zone",
					"share": "", "keys": _KSK % repo + _ZSK % repo})
	elif own == "csk":
		parts.append(_POLICY % {"name": "own", "desc": "ECDSA P-256 CSK per zone",
					"share": "", "keys": _CSK % repo})
	parts.append("</KASP>\n")
	with open(path, "w") as f:
		f.write("".join(parts))


def zone_paths(d, zone):
	return (os.path.join(d, "signconf", zone + ".xml"), os.path.join(d, "unsigned", zone),
		os.path.join(d, "signed", zone))


def write_zonelist(path, d, zones, policy):
	"""zonelist.xml of the given zone names, every one with its own signconf,
	input and output file under d.  Returns the number of bytes written."""
	out = ['<?xml version="1.0" encoding="UTF-8"?>\n<ZoneList>\n']
	for z in zones:
		sc, inp, outp = zone_paths(d, z)
		out.append('\t<Zone name="%s">\n\t\t<Policy>%s</Policy>\n'
			   '\t\t<SignerConfiguration>%s</SignerConfiguration>\n'
			   '\t\t<Adapters>\n\t\t\t<Input><Adapter type="File">%s</Adapter></Input>\n'
			   '\t\t\t<Output><Adapter type="File">%s</Adapter></Output>\n'
			   '\t\t</Adapters>\n\t</Zone>\n' % (z, policy, sc, inp, outp))
	out.append("</ZoneList>\n")
	data = "".join(out)
	with open(path, "w") as f:
		f.write(data)
	return len(data)


def count_signconfs(d):
	n = 0
	with os.scandir(os.path.join(d, "signconf")) as it:
		for e in it:
			if e.name.endswith(".xml"):
				n += 1
	return n


def wait_signconfs(d, want, t0, deadline, progress, what, poll=0.1):
	"""Poll d/signconf until it holds `want` files or the deadline passes.
	Returns (count, seconds since t0 when the count was reached or last
	seen, timeline [(seconds, count)])."""
	timeline = []
	last = -1
	while True:
		n = count_signconfs(d)
		now = time.monotonic() - t0
		if n != last:
			timeline.append((round(now, 3), n))
			last = n
		progress.update("%s: %d/%d signconfs after %.1f s" % (what, n, want, now))
		if n >= want or deadline.expired():
			progress.end_live()
			return n, now, timeline
		time.sleep(poll)


def wait_file(path, t0, limit_s):
	"""Seconds from t0 until path exists, or None after limit_s."""
	end = t0 + limit_s
	while True:
		if os.path.exists(path):
			return time.monotonic() - t0
		if time.monotonic() > end:
			return None
		time.sleep(0.001)


def first_seen(timeline):
	"""Seconds until the first signconf appeared."""
	for t, n in timeline:
		if n > 0:
			return t
	return None


def linear_fit(points, x):
	"""Value at x of the straight line through the first and last of
	points [(x, y)] (None with fewer than two distinct x)."""
	pts = sorted(p for p in points if p[1] is not None)
	if len(pts) < 2 or pts[-1][0] == pts[0][0]:
		return None
	(x0, y0), (x1, y1) = pts[0], pts[-1]
	return y0 + (y1 - y0) * (x - x0) / (x1 - x0)


def quarter_rates(timeline, want):
	"""Zones per second over the first and the last quarter of the signconfs
	(shows whether the rate falls as the database fills)."""
	def t_at(count):
		for t, n in timeline:
			if n >= count:
				return t
		return None
	q1, q3, q4 = t_at(want // 4), t_at(3 * want // 4), t_at(want)
	first = (want // 4) / q1 if q1 else None
	last = (want - 3 * want // 4) / (q4 - q3) if q3 is not None and q4 and q4 > q3 else None
	return (round(first, 1) if first else None, round(last, 1) if last else None)
