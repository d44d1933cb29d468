# bench/lib/enfbench_ods.py: the OpenDNSSEC 2.1 side of bench/enforcer-bench.
#
# One private ods-enforcerd: its own conf.xml, kasp.xml, zonelist.xml,
# SQLite datastore, SoftHSM2 token, socket, pid file and working directory,
# all in the work directory; never /etc/opendnssec or /var/lib/opendnssec.
# ods-enforcer-db-setup has no -c option (it always reads
# /etc/opendnssec/conf.xml), so it runs in a private mount namespace where
# our conf.xml is bind-mounted over that path; the system file is not
# touched.  The signer is not started: the figures are the enforcer's
# (signconf written), the same step Tandem is measured on.
#
# Measures: bulk `zonelist import` of N zones (until the command returns and
# until every zone has a signconf), K `zone add` one by one (ms per call and
# until its signconf exists), kasp.db bytes per zone, enforcer CPU seconds.
# Every daemon started here is stopped (by its pid) in stop().

import os
import shutil
import signal
import subprocess
import time

from enfbench_common import (ADD_FMT, ZONE_FMT, BenchError, file_bytes, make_token, proc_cpu_seconds,
			     first_seen, quarter_rates, run_timed, softhsm_module, stats_ms, wait_file,
			     wait_signconfs, write_kasp, write_zonelist, zone_paths)

PACKAGES = ["opendnssec-enforcer-sqlite3", "opendnssec-signer", "opendnssec", "softhsm2"]
UNITS = ["opendnssec-enforcer", "opendnssec-signer"]


def _installed(pkg):
	p = subprocess.run(["dpkg-query", "-W", "-f=${Status}", pkg], capture_output=True, text=True)
	return p.returncode == 0 and p.stdout.strip() == "install ok installed"


def ensure_installed(progress, log):
	"""Install Debian's OpenDNSSEC with apt-get when it is missing (root
	only), keeping its daemons from starting and disabling its units
	afterwards, as scripts/setup.sh does for nsd/knot/bind."""
	missing = [p for p in PACKAGES if not _installed(p)]
	if not missing:
		return None
	if os.geteuid() != 0:
		return "not installed (%s) and not root: apt-get install %s" % (" ".join(missing), " ".join(missing))
	progress.step("installing %s with apt-get" % " ".join(missing))
	env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
	own_policy = False
	if not os.path.exists("/usr/sbin/policy-rc.d"):
		with open("/usr/sbin/policy-rc.d", "w") as f:
			f.write("#!/bin/sh\n# temporary, from tandem bench/enforcer-bench\nexit 101\n")
		os.chmod("/usr/sbin/policy-rc.d", 0o755)
		own_policy = True
	try:
		rc, _, err, _ = run_timed(["apt-get", "update", "-q"], env=env, log=log)
		rc, _, err, _ = run_timed(["apt-get", "install", "-y", "-q", "--no-install-recommends"] + missing,
					  env=env, log=log)
		if rc != 0:
			return "apt-get install %s failed: %s" % (" ".join(missing), err.strip()[-300:])
	finally:
		if own_policy:
			os.unlink("/usr/sbin/policy-rc.d")
	for u in UNITS:
		if os.path.isdir("/run/systemd/system"):
			run_timed(["systemctl", "disable", "--now", u], log=log)
		else:
			run_timed(["systemctl", "disable", u], log=log)
			run_timed(["update-rc.d", u, "disable"], log=log)
	return None


def _units_enabled():
	wants = "/etc/systemd/system/multi-user.target.wants"
	return [u for u in UNITS if os.path.exists(os.path.join(wants, u + ".service"))]


class Ods:
	def __init__(self, d, progress, log):
		self.d = d
		self.progress = progress
		self.log = log
		self.pid = None
		self.proc = None
		self.sock = os.path.join(d, "enforcer.sock")
		self.conf = os.path.join(d, "conf.xml")
		self.db = os.path.join(d, "kasp.db")
		self.env = None
		self.version = None

	def ctl(self, *args, timeout=600):
		return run_timed(["ods-enforcer", "-s", self.sock] + list(args), env=self.env,
				 timeout=timeout, log=self.log)

	def setup(self):
		d = self.d
		for sub in ("signconf", "unsigned", "signed", "enforcer", "signer"):
			os.makedirs(os.path.join(d, sub), exist_ok=True)
		self.env = dict(os.environ, SOFTHSM2_CONF=make_token(d, "ODS"))
		module = softhsm_module()
		with open(self.conf, "w") as f:
			f.write("""<?xml version="1.0" encoding="UTF-8"?>
<Configuration>
	<RepositoryList>
		<Repository name="SoftHSM">
			<Module>%(module)s</Module>
			<TokenLabel>ODS</TokenLabel>
			<PIN>1234</PIN>
			<SkipPublicKey/>
		</Repository>
	</RepositoryList>
	<Common>
		<Logging><Verbosity>2</Verbosity></Logging>
		<PolicyFile>%(d)s/kasp.xml</PolicyFile>
		<ZoneListFile>%(d)s/zonelist.xml</ZoneListFile>
	</Common>
	<Enforcer>
		<Datastore><SQLite>%(d)s/kasp.db</SQLite></Datastore>
		<AutomaticKeyGenerationPeriod>P1Y</AutomaticKeyGenerationPeriod>
		<PidFile>%(d)s/enforcerd.pid</PidFile>
		<SocketFile>%(d)s/enforcer.sock</SocketFile>
		<WorkingDirectory>%(d)s/enforcer</WorkingDirectory>
	</Enforcer>
	<Signer>
		<WorkingDirectory>%(d)s/signer</WorkingDirectory>
	</Signer>
</Configuration>
""" % {"module": module, "d": d})
		write_kasp(os.path.join(d, "kasp.xml"), "SoftHSM")
		with open(os.path.join(d, "zonelist.xml"), "w") as f:
			f.write('<?xml version="1.0" encoding="UTF-8"?>\n<ZoneList>\n</ZoneList>\n')
		# ods-enforcer-db-setup reads /etc/opendnssec/conf.xml only: give it
		# ours in a private mount namespace (unshare -r when not root).
		ns = ["unshare", "-m"] if os.geteuid() == 0 else ["unshare", "-m", "-r"]
		script = 'mount --bind "$1" /etc/opendnssec/conf.xml && exec ods-enforcer-db-setup -f'
		rc, out, err, _ = run_timed(ns + ["sh", "-c", script, "sh", self.conf], env=self.env, log=self.log)
		if rc != 0 or not os.path.exists(self.db):
			raise BenchError("ods-enforcer-db-setup in a private mount namespace failed: %s" % (out + err).strip())
		rc, out, err, _ = run_timed(["ods-kaspcheck", "-c", self.conf], env=self.env, log=self.log)
		bad = [l for l in (out + err).splitlines() if l.startswith("ERROR")]
		if rc != 0 or bad:
			raise BenchError("ods-kaspcheck refuses the configuration: %s" % "; ".join(bad or [(out + err).strip()]))
		p = subprocess.run(["ods-enforcerd", "-V"], capture_output=True, text=True)
		self.version = ((p.stdout + p.stderr).strip().splitlines() or ["?"])[0]

	def start(self):
		self.proc = subprocess.Popen(["ods-enforcerd", "-c", self.conf, "-d"], env=self.env,
					     stdout=open(os.path.join(self.d, "enforcerd.log"), "a"),
					     stderr=subprocess.STDOUT, start_new_session=True)
		self.pid = self.proc.pid
		end = time.monotonic() + 30
		while time.monotonic() < end:
			if self.proc.poll() is not None:
				raise BenchError("ods-enforcerd exited at start (status %s), see %s/enforcerd.log"
						 % (self.proc.returncode, self.d))
			if os.path.exists(self.sock):
				rc, out, _, _ = self.ctl("running", timeout=10)
				if rc == 0:
					return
			time.sleep(0.05)
		raise BenchError("ods-enforcerd did not answer on %s within 30 s" % self.sock)

	def stop(self):
		if self.proc is None:
			return
		# SIGTERM is ods-enforcerd's clean stop (`ods-enforcer stop` waits
		# on its socket for a further 20 s here).
		if self.proc.poll() is None:
			self.proc.send_signal(signal.SIGTERM)
			try:
				self.proc.wait(timeout=30)
			except subprocess.TimeoutExpired:
				self.proc.kill()
				self.proc.wait()
		self.proc = None

	def cpu(self):
		return proc_cpu_seconds(self.pid) if self.proc and self.proc.poll() is None else None


def run(d, zones, adds, deadline, progress, log):
	"""The OpenDNSSEC measurements; returns a result dict (partial results
	and a 'note' when the time limit cut a step short, 'error' when a step
	failed)."""
	res = {"zones": zones, "adds": adds, "policy": "shared (ShareKeys, ECDSA P-256 KSK+ZSK)",
	       "time_limit_s": deadline.seconds}
	ods = Ods(d, progress, log)
	try:
		ods.setup()
		res["version"] = ods.version
		enabled = _units_enabled()
		if enabled:
			res["warning"] = "Debian units still enabled: %s (systemctl disable them)" % " ".join(enabled)
		ods.start()
		rc, out, err, _ = ods.ctl("policy", "import")
		if rc != 0:
			raise BenchError("ods-enforcer policy import: %s" % (out + err).strip())

		# 1. bulk import
		zl = os.path.join(d, "zonelist-bulk.xml")
		names = [ZONE_FMT % i for i in range(zones)]
		write_zonelist(zl, d, names, "shared")
		progress.step("ODS: zonelist import of %d zones (limit %.0f s)" % (zones, deadline.left()))
		cpu0 = ods.cpu()
		t0 = time.monotonic()
		rc, out, err, dt = ods.ctl("zonelist", "import", "-f", zl, timeout=max(1, deadline.left()))
		res["import_returned_s"] = round(dt, 3)
		if rc is None:
			res["note"] = "zonelist import still running at the time limit"
			return res
		if rc != 0:
			raise BenchError("ods-enforcer zonelist import: exit %s: %s" % (rc, (err or out).strip()[-300:]))
		n, t, timeline = wait_signconfs(d, zones, t0, deadline, progress, "ODS import")
		res["import_signconfs"] = n
		res["import_enforced_s"] = round(t, 3)
		res["import_zones_per_s"] = round(n / t, 1) if t > 0 else None
		res["import_rate_first_last_quarter"] = quarter_rates(timeline, zones) if n >= zones else None
		res["import_first_signconf_s"] = first_seen(timeline)
		cpu1 = ods.cpu()
		if cpu0 is not None and cpu1 is not None:
			res["import_enforcer_cpu_s"] = round(cpu1 - cpu0, 2)
		if n < zones:
			res["note"] = "%d of %d zones had no signconf at the time limit" % (zones - n, zones)
			return res

		# baseline: a command that does no work (process start, socket)
		res["noop_call"] = stats_ms([ods.ctl("running", timeout=30)[3] for _ in range(20)])

		# 2. zone add one by one
		progress.step("ODS: %d zone add calls on top of %d zones" % (adds, zones))
		calls, enforced, missing = [], [], []
		for i in range(adds):
			if deadline.expired():
				res["note"] = "time limit after %d adds" % i
				break
			z = ADD_FMT % i
			sc, inp, outp = zone_paths(d, z)
			t0 = time.monotonic()
			rc, out, err, dt = ods.ctl("zone", "add", "-z", z, "-p", "shared", "-s", sc, "-i", inp, "-o", outp,
						   timeout=60)
			if rc != 0:
				raise BenchError("ods-enforcer zone add -z %s: exit %s: %s" % (z, rc, (err or out).strip()[-300:]))
			calls.append(dt)
			t = wait_file(sc, t0, min(60, max(1, deadline.left())))
			if t is None:
				missing.append(z)
			else:
				enforced.append(t)
			progress.update("ODS zone add %d/%d: %.1f ms" % (i + 1, adds, dt * 1000))
		progress.end_live()
		res["add_call"] = stats_ms(calls)
		res["add_enforced"] = stats_ms(enforced)
		res["add_missing"] = missing
		cpu2 = ods.cpu()
		if cpu1 is not None and cpu2 is not None:
			res["adds_enforcer_cpu_s"] = round(cpu2 - cpu1, 2)

		# 3. bytes per zone (SQLite, default rollback journal: the file is the database)
		total = zones + len(calls)
		res["db_bytes"] = file_bytes(ods.db, ods.db + "-wal", ods.db + "-journal")
		res["db_bytes_per_zone"] = round(res["db_bytes"] / total) if total else None
		res["signconfs_final"] = sum(1 for e in os.scandir(os.path.join(d, "signconf")))
		res["zones_total"] = total
	except BenchError as e:
		res["error"] = str(e)
	finally:
		ods.stop()
	return res
