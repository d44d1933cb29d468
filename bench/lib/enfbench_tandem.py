# bench/lib/enfbench_tandem.py: the Tandem side of bench/enforcer-bench.
#
# One tandemd on loopback (a one-node cluster: no peers), a private
# SoftHSM2 token, conf.xml with <Cluster>, and tandem-enforcer as the
# client (`tandem-enforcer -c conf.xml WORDS`, ods-enforcer grammar).  One
# run per policy, each in its own directory (own data dir, own token):
#
#   shared: policy import, zonelist import of N zones with policy "shared",
#           until every signconf exists, one `enforce` over all zones,
#           A single `zone add` calls (ms per call, ms until its signconf),
#           state.db bytes per zone;
#   own:    the same with policy "own" after filling the key pool
#           (`pool fill`, or `key generate ...` through fill zones with
#           --pool-cmd; timed apart; `pool list` must show at least
#           one key per zone and role before the import).
#
# The tandemd started here is stopped (SIGTERM, then SIGKILL by its pid)
# in stop(); its log stays in the run directory.

import json
import os
import random
import signal
import socket
import subprocess
import time
import urllib.request

from enfbench_common import (ADD_FMT, ZONE_FMT, BenchError, FILL_FMT, count_signconfs, dir_bytes, file_bytes, make_token,
			     proc_cpu_seconds, first_seen, quarter_rates, run_timed, softhsm_module, stats_ms,
			     wait_file, wait_signconfs, write_kasp, write_zonelist, zone_paths)


def find_bin(build, name):
	for sub in ("", "src/cli", "bin", "sbin"):
		p = os.path.join(build, sub, name)
		if os.path.isfile(p) and os.access(p, os.X_OK):
			return p
	raise BenchError("%s not built in %s (give --build DIR)" % (name, build))


def _free_ports(n):
	out = []
	while len(out) < n:
		p = random.randrange(20000, 60000)
		if p in out:
			continue
		s = socket.socket()
		try:
			s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
			s.bind(("127.0.0.1", p))
			out.append(p)
		except OSError:
			pass
		finally:
			s.close()
	return out


class Tandem:
	def __init__(self, build, d, own, own_policy, progress, log):
		self.tandemd = find_bin(build, "tandemd")
		self.enforcer = find_bin(build, "tandem-enforcer")
		self.d = d
		self.own = own
		self.own_policy = own_policy
		self.progress = progress
		self.log = log
		self.proc = None
		self.conf = os.path.join(d, "conf.xml")
		self.data = os.path.join(d, "data")
		self.env = None
		self.http = None

	def ctl(self, *words, timeout=None):
		return run_timed([self.enforcer, "-c", self.conf] + list(words), env=self.env,
				 timeout=timeout, log=self.log)

	def ctl_ok(self, what, *words, timeout=None):
		rc, out, err, dt = self.ctl(*words, timeout=timeout)
		if rc != 0:
			msg = (err or out).strip()
			if "unknown command" in msg:
				msg += " (tandemd does not have this command yet)"
			raise BenchError("tandem-enforcer %s: exit %s: %s" % (" ".join(words[:3]), rc, msg[-400:]))
		return out, dt

	def setup(self):
		d = self.d
		for sub in ("signconf", "unsigned", "signed"):
			os.makedirs(os.path.join(d, sub), exist_ok=True)
		self.env = dict(os.environ, SOFTHSM2_CONF=make_token(d, "node1"))
		self._write_conf()
		write_kasp(os.path.join(d, "kasp.xml"), "SoftHSM", own=self.own)
		with open(os.path.join(d, "zonelist.xml"), "w") as f:
			f.write('<?xml version="1.0" encoding="UTF-8"?>\n<ZoneList>\n</ZoneList>\n')

	def _write_conf(self):
		d = self.d
		raft, self.http = _free_ports(2)
		with open(self.conf, "w") as f:
			f.write("""<?xml version="1.0" encoding="UTF-8"?>
<Configuration>
	<RepositoryList><Repository name="SoftHSM"><Module>%(module)s</Module><TokenLabel>node1</TokenLabel><PIN>1234</PIN></Repository></RepositoryList>
	<Common>
		<Logging><Verbosity>2</Verbosity></Logging>
		<PolicyFile>%(d)s/kasp.xml</PolicyFile>
		<ZoneListFile>%(d)s/zonelist.xml</ZoneListFile>
	</Common>
	<Enforcer>
		<Datastore><SQLite>%(d)s/kasp.db</SQLite></Datastore>
%(manual)s	</Enforcer>
	<Cluster>
		<NodeId>1</NodeId>
		<DataDirectory>%(d)s/data</DataDirectory>
		<Listen>127.0.0.1:%(raft)d</Listen>
		<ControlSocket>%(d)s/control.sock</ControlSocket>
		<Http>127.0.0.1:%(http)d</Http>
		<ElectionTimeout>PT0.500S</ElectionTimeout>
		<Heartbeat>PT0.050S</Heartbeat>
	</Cluster>
</Configuration>
""" % {"module": softhsm_module(), "d": d, "raft": raft, "http": self.http,
		       "manual": "\t\t<ManualKeyGeneration/>\n" if self.own_policy else ""})

	def _health(self):
		try:
			with urllib.request.urlopen("http://127.0.0.1:%d/health" % self.http, timeout=2) as r:
				return json.loads(r.read().decode())
		except Exception:
			return None

	def start(self):
		"""Start tandemd and wait for a ready leader; a start that fails
		(a port taken between the check and the bind) is retried twice
		with other ports."""
		for attempt in range(3):
			try:
				return self._start()
			except BenchError as e:
				if attempt == 2 or self.proc is None or self.proc.poll() is None:
					raise
				self.progress.step("tandemd did not start (%s); again with other ports" % e)
				self._write_conf()

	def _start(self):
		self.proc = subprocess.Popen([self.tandemd, "-c", self.conf, "--no-syslog"], env=self.env,
					     stdout=open(os.path.join(self.d, "tandemd.log"), "a"),
					     stderr=subprocess.STDOUT, start_new_session=True)
		end = time.monotonic() + 30
		while time.monotonic() < end:
			if self.proc.poll() is not None:
				tail = open(os.path.join(self.d, "tandemd.log")).read().strip().splitlines()[-1:]
				raise BenchError("tandemd exited at start (status %s): %s"
						 % (self.proc.returncode, tail[0] if tail else "see tandemd.log"))
			h = self._health()
			try:
				if h and h["node"]["role"] == "leader" and h["node"]["leader_ready"]:
					return
			except (KeyError, TypeError):
				pass
			time.sleep(0.05)
		raise BenchError("tandemd did not become a ready leader within 30 s (see %s/tandemd.log)" % self.d)

	def alive(self):
		return self.proc is not None and self.proc.poll() is None

	def cpu(self):
		return proc_cpu_seconds(self.proc.pid) if self.alive() else None

	def stop(self):
		if self.proc is None:
			return
		if self.proc.poll() is None:
			self.proc.send_signal(signal.SIGTERM)
			try:
				self.proc.wait(timeout=60)
			except subprocess.TimeoutExpired:
				self.proc.kill()
				self.proc.wait()
		self.proc = None


def _pool_count(out):
	"""Keys in `pool list --json`: the sum of every "count" (or "keys"
	number) in the document, whatever its nesting."""
	try:
		o = json.loads(out)
	except ValueError:
		return None
	total = 0
	def walk(x):
		nonlocal total
		if isinstance(x, dict):
			for k, v in x.items():
				if k in ("count", "keys", "free", "available") and isinstance(v, int):
					total += v
				else:
					walk(v)
		elif isinstance(x, list):
			for v in x:
				walk(v)
	walk(o)
	return total


def _needed(out):
	"""Keys the policy's zones ask for in `--json key generate` (sum of "needed")."""
	try:
		o = json.loads(out)
	except ValueError:
		return None
	if isinstance(o, dict):
		o = [o]
	return sum(sl.get("needed", 0) for x in o if isinstance(x, dict) for sl in x.get("slots", []))


def _generated(out):
	"""Keys made according to `--json key generate` (sum of "generated")."""
	try:
		o = json.loads(out)
	except ValueError:
		return None
	if isinstance(o, dict):
		o = [o]
	return sum(x.get("generated", 0) for x in o if isinstance(x, dict))


def _zone_count(out):
	try:
		o = json.loads(out)
	except ValueError:
		return None
	if isinstance(o, list):
		return len(o)
	if isinstance(o, dict):
		for k in ("zones", "zone"):
			if isinstance(o.get(k), list):
				return len(o[k])
		if isinstance(o.get("count"), int):
			return o["count"]
	return None


def _fill_pool_direct(t, res, own_kind, zones, adds, deadline, progress):
	"""Fill the key pool for the "own" zones with `pool fill` (Tandem's
	addition: exactly the keys the bulk zones and the single adds take, all
	ECDSA P-256).  <ManualKeyGeneration/> keeps tandemd from generating on
	its own, so every key a zone takes was made here."""
	per_zone = 1 if own_kind == "csk" else 2
	need = per_zone * (zones + adds)
	res["pool_needed"] = need
	progress.step("Tandem/own: filling the key pool with %d keys (pool fill -g 13 -n %d)" % (need, need))
	cpu0 = t.cpu()
	_, dt = t.ctl_ok("pool fill", "pool", "fill", "-g", "13", "-n", str(need),
			 timeout=max(1, deadline.left()))
	cpu1 = t.cpu()
	res["fill_zones"] = 0
	res["pool_generated"] = need
	res["pool_generate_s"] = round(dt, 3)
	res["pool_generate_ms_per_key"] = round(dt * 1000 / need, 2) if need else None
	if cpu0 is not None and cpu1 is not None:
		res["pool_generate_cpu_s"] = round(cpu1 - cpu0, 2)
	out, _ = t.ctl_ok("pool list", "--json", "pool", "list")
	res["pool_keys"] = _pool_count(out)
	if res["pool_keys"] is None or res["pool_keys"] < need:
		raise BenchError("pool list shows %s free keys after filling; %d needed (one per zone and role)"
				 % (res["pool_keys"], need))


def _fill_pool(t, d, res, own_kind, zones, adds, pool_cmd, deadline, progress):
	"""Fill the key pool for the "own" zones before they exist.

	`key generate -d DUR -p own` generates what the policy's *existing*
	zones need for DUR (ods-enforcer's meaning), and the pool is per
	(repository, algorithm, bits), so KSK and ZSK draw from one pool.  So:
	one "fill" zone of policy own, `key generate` to learn how many keys one
	zone asks for DUR; then enough fill zones that the keys left over after
	they took theirs cover every bulk zone and every single add; `key
	generate` again.  <ManualKeyGeneration/> keeps tandemd from generating
	on its own.  The fill zones stay (enforce runs over them too)."""
	per_zone = 1 if own_kind == "csk" else 2
	need = per_zone * (zones + adds)
	res["pool_needed"] = need
	fill = [FILL_FMT % 0]
	zl = os.path.join(d, "zonelist-fill.xml")
	write_zonelist(zl, d, fill, "own")
	t.ctl_ok("zonelist import", "zonelist", "import", "-f", zl)
	out, dt0 = t.ctl_ok("key generate", "--json", *pool_cmd, timeout=max(1, deadline.left()))
	per_fill = _needed(out)
	if not per_fill or per_fill <= per_zone:
		raise BenchError("`%s` asks for %s keys per zone; cannot fill a pool with it (%s)"
				 % (" ".join(pool_cmd), per_fill, out.strip()[:300]))
	n_fill = max(1, -(-need // (per_fill - per_zone)))
	fill = [FILL_FMT % i for i in range(n_fill)]
	write_zonelist(zl, d, fill, "own")
	t.ctl_ok("zonelist import", "zonelist", "import", "-f", zl, timeout=max(1, deadline.left()))
	progress.step("Tandem/own: filling the key pool: %d fill zones x %d keys (%s)" % (n_fill, per_fill, " ".join(pool_cmd)))
	cpu0 = t.cpu()
	out, dt = t.ctl_ok("key generate", "--json", *pool_cmd, timeout=max(1, deadline.left()))
	cpu1 = t.cpu()
	made = (_generated(out) or 0) + per_fill
	res["fill_zones"] = n_fill
	res["pool_generated"] = made
	res["pool_generate_s"] = round(dt + dt0, 3)
	res["pool_generate_ms_per_key"] = round((dt + dt0) * 1000 / made, 2) if made else None
	if cpu0 is not None and cpu1 is not None:
		res["pool_generate_cpu_s"] = round(cpu1 - cpu0, 2)
	# the fill zones take their keys from the pool: wait for their signconfs
	n, _, _ = wait_signconfs(d, n_fill, time.monotonic(), deadline, progress, "Tandem/own fill zones")
	if n < n_fill:
		raise BenchError("%d of %d fill zones got no signconf" % (n_fill - n, n_fill))
	out, _ = t.ctl_ok("pool list", "--json", "pool", "list")
	res["pool_keys"] = _pool_count(out)
	if res["pool_keys"] is None or res["pool_keys"] < need:
		raise BenchError("pool list shows %s free keys after filling; %d needed (one per zone and role)"
				 % (res["pool_keys"], need))


def run(build, d, policy, own_kind, zones, adds, pool_cmd, deadline, progress, log):
	"""One Tandem run with `policy` ("shared" or "own"); returns a result
	dict, with "error" set when a step failed or a zone was lost."""
	res = {"policy": policy, "zones": zones, "adds": adds}
	if policy == "own":
		res["own_keys"] = "CSK" if own_kind == "csk" else "KSK+ZSK"
	t = Tandem(build, d, own_kind, policy == "own", progress, log)
	try:
		t.setup()
		t.start()
		_, dt = t.ctl_ok("policy import", "policy", "import")
		res["policy_import_s"] = round(dt, 3)

		if policy == "own":
			if pool_cmd[:2] == ["pool", "fill"]:
				_fill_pool_direct(t, res, own_kind, zones, adds, deadline, progress)
			else:
				_fill_pool(t, d, res, own_kind, zones, adds, pool_cmd, deadline, progress)

		# 3. bulk import, until every signconf exists
		zl = os.path.join(d, "zonelist-bulk.xml")
		res["zonelist_bytes"] = write_zonelist(zl, d, [ZONE_FMT % i for i in range(zones)], policy)
		base = count_signconfs(d)
		progress.step("Tandem/%s: zonelist import of %d zones" % (policy, zones))
		cpu0 = t.cpu()
		t0 = time.monotonic()
		_, dt = t.ctl_ok("zonelist import", "zonelist", "import", "-f", zl, timeout=max(1, deadline.left()))
		res["import_returned_s"] = round(dt, 3)
		n, tt, timeline = wait_signconfs(d, base + zones, t0, deadline, progress, "Tandem/%s import" % policy)
		n -= base
		timeline = [(x, c - base) for x, c in timeline]
		res["import_signconfs"] = n
		res["import_enforced_s"] = round(tt, 3)
		res["import_zones_per_s"] = round(n / tt, 1) if tt > 0 else None
		res["import_rate_first_last_quarter"] = quarter_rates(timeline, zones) if n >= zones else None
		res["import_first_signconf_s"] = first_seen(timeline)
		cpu1 = t.cpu()
		if cpu0 is not None and cpu1 is not None:
			res["import_cpu_s"] = round(cpu1 - cpu0, 2)
		if n < zones:
			raise BenchError("%d of %d zones have no signconf %.0f s after zonelist import (zones lost)"
					 % (zones - n, zones, tt))

		# 4. one enforcer run over every zone
		progress.step("Tandem/%s: enforce over %d zones" % (policy, zones))
		_, dt = t.ctl_ok("enforce", "enforce", timeout=max(1, deadline.left()))
		res["enforce_s"] = round(dt, 3)
		cpu2 = t.cpu()
		if cpu1 is not None and cpu2 is not None:
			res["enforce_cpu_s"] = round(cpu2 - cpu1, 2)

		# baseline: a command that does no work (process start, conf.xml, socket)
		res["noop_call"] = stats_ms([t.ctl_ok("running", "running")[1] for _ in range(20)])

		# 6. single zone adds on the full system
		progress.step("Tandem/%s: %d zone add calls on top of %d zones" % (policy, adds, zones))
		calls, enforced, missing = [], [], []
		for i in range(adds):
			z = ADD_FMT % i
			sc, inp, outp = zone_paths(d, z)
			t0 = time.monotonic()
			_, dt = t.ctl_ok("zone add", "zone", "add", "-z", z, "-p", policy, "-s", sc, "-i", inp, "-o", outp,
					 timeout=60)
			calls.append(dt)
			w = wait_file(sc, t0, 30)
			if w is None:
				missing.append(z)
			else:
				enforced.append(w)
			progress.update("Tandem/%s zone add %d/%d: %.1f ms" % (policy, i + 1, adds, dt * 1000))
		progress.end_live()
		res["add_call"] = stats_ms(calls)
		res["add_enforced"] = stats_ms(enforced)
		res["add_missing"] = missing

		# every zone must end with a signconf, and the daemon must list it
		total = zones + adds + res.get("fill_zones", 0)
		res["zones_total"] = total
		res["signconfs_final"] = sum(1 for e in os.scandir(os.path.join(d, "signconf")))
		rc, out, err, _ = t.ctl("--json", "zone", "list", timeout=120)
		res["zone_list_count"] = _zone_count(out) if rc == 0 else None
		res["cpu_total_s"] = t.cpu()

		# 7. state.db bytes per zone: after a clean stop (closing checkpoints the WAL)
		t.stop()
		db = os.path.join(t.data, "state.db")
		res["state_db_bytes"] = file_bytes(db, db + "-wal")
		res["state_db_bytes_per_zone"] = round(res["state_db_bytes"] / total)
		res["raft_dir_bytes"] = dir_bytes(os.path.join(t.data, "raft"))
		res["data_dir_bytes_per_zone"] = round(dir_bytes(t.data) / total)
		if missing or res["signconfs_final"] < total:
			raise BenchError("zones lost: %d of %d added zones never got a signconf (%s); %d signconfs for %d zones"
					 % (len(missing), adds, " ".join(missing[:5]), res["signconfs_final"], total))
		if res["zone_list_count"] is not None and res["zone_list_count"] != total:
			raise BenchError("zone list --json shows %d zones, %d were added" % (res["zone_list_count"], total))
	except BenchError as e:
		res["error"] = str(e)
	finally:
		t.stop()
		res["tandemd_log"] = os.path.join(d, "tandemd.log")
	return res
