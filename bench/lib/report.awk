# report.awk: turn sign-bench's results into a table (json=0) or JSON (json=1).
#
# Input (tab-separated, one line per run; see record() in bench/sign-bench):
#   size label kind status wall user sys rss_kib rrsigs made reused tree_kib procs
# (tree_kib: sampled peak PSS summed over the command's processes, 0 when not
# sampled; procs: most processes seen.  The memory used for B/name and the
# Tandem ratio is max(rss_kib, tree_kib).)
# kind: sign | resign0 (nothing changed) | resign1 (one A record changed)
# Variables: json, date, machine, versions, seed, sizes_file (size<TAB>records),
# ceil_file (keys<TAB>mode<TAB>status<TAB>rate<TAB>tool; keys token|session,
# mode 1t|2t|2p, tool tandem-hsmutil|p11speed).
#
# Ratios for Tandem (label tandem-signzone) per size:
#   wall_vs[peer]   Tandem full-sign wall / peer wall (below 1: Tandem faster)
#   cpu_vs[peer]    the same for CPU seconds (user+sys, all processes)
#   pct_ceiling     Tandem RRSIGs/s as % of the PKCS#11 ceiling: the best rate
#                   measured in any mode (normally session keys, 2 processes)
#   threads_mode    wall of tandem-signzone --threads / default mode
#   rss_per_name    Tandem peak RSS in bytes / names (target 1024)
#   resign*_pct     re-sign wall as % of the full-sign wall
BEGIN {
	FS = "\t"
	nsizes = 0
	while ((getline line < sizes_file) > 0) {
		split(line, a, "\t")
		sizes[++nsizes] = a[1]; records[a[1]] = a[2]
	}
	nceil = 0
	while ((getline line < ceil_file) > 0) {
		split(line, a, "\t")
		if (a[3] == "ok") ceil[a[1] "," a[2]] = a[4] + 0
		ceil_tool = a[5]
		nceil++
	}
	# The ceiling: the best rate measured in any mode (keys x threads/processes).
	ceiling = ""; ceiling_what = ""
	for (k in ceil) {
		if (ceiling == "" || ceil[k] > ceiling) {
			ceiling = ceil[k]; split(k, a, ",")
			ceiling_what = a[1] " keys, " (a[2] == "1t" ? "1 thread" : (a[2] == "2t" ? "2 threads" : "2 processes"))
		}
	}
	nruns = 0
}
{
	nruns++
	r_size[nruns] = $1; r_label[nruns] = $2; r_kind[nruns] = $3; r_status[nruns] = $4
	r_wall[nruns] = $5 + 0; r_cpu[nruns] = $6 + $7; r_user[nruns] = $6 + 0; r_sys[nruns] = $7 + 0
	r_rss[nruns] = ($12 + 0 > $8 + 0) ? $12 + 0 : $8 + 0; r_maxrss[nruns] = $8 + 0
	r_tree[nruns] = $12 + 0; r_procs[nruns] = $13 + 0; r_sigs[nruns] = $9 + 0; r_made[nruns] = $10; r_reused[nruns] = $11
	rate = ""
	if ($4 == "ok" && $5 + 0 > 0) {
		if ($3 != "sign" && $10 ~ /^[0-9]+$/) rate = $10 / $5
		else rate = $9 / $5
	}
	r_rate[nruns] = rate
	if ($4 == "ok") { okwall[$1 "," $2 "," $3] = $5 + 0; okcpu[$1 "," $2 "," $3] = $6 + $7; okrun[$1 "," $2 "," $3] = nruns }
}
function num(x, fmt) { return (x == "" || x == "-") ? "null" : sprintf(fmt, x) }
function q(s) { gsub(/\\/, "\\\\", s); gsub(/"/, "\\\"", s); return "\"" s "\"" }
function kindname(k) { return k == "sign" ? "full sign" : (k == "resign0" ? "re-sign, nothing changed" : "re-sign, one A changed") }
function tw(size) { return okwall[size ",tandem-signzone,sign"] }
END {
	if (json) {
		printf "{\n  \"date\": %s,\n  \"machine\": %s,\n  \"versions\": %s,\n  \"seed\": %d,\n", q(date), q(machine), q(versions), seed
		printf "  \"zone\": \"ECDSAP256SHA256 KSK+ZSK, NSEC3 1 0 0 - (0 iterations, no salt)\",\n"
		printf "  \"ceiling\": {"
		sep = ""
		split("token session", ks, " "); split("1t 2t 2p", ms, " ")
		for (i = 1; i <= 2; i++) {
			printf "%s\n    %s: {", sep, q(ks[i]); sep2 = ""
			for (j = 1; j <= 3; j++) {
				key = ks[i] "," ms[j]
				printf "%s%s: %s", sep2, q(ms[j] == "1t" ? "threads_1" : (ms[j] == "2t" ? "threads_2" : "processes_2")), (key in ceil) ? sprintf("%.0f", ceil[key]) : "null"
				sep2 = ", "
			}
			printf "}"; sep = ","
		}
		printf "\n  },\n  \"ceiling_tool\": %s,\n", nceil ? q(ceil_tool) : "null"
		printf "  \"ceiling_reference_mode\": %s,\n", ceiling == "" ? "null" : q(ceiling_what)
		printf "  \"ceiling_reference\": %s,\n", ceiling == "" ? "null" : sprintf("%.0f", ceiling)
		printf "  \"sizes\": ["
		for (s = 1; s <= nsizes; s++) {
			size = sizes[s]
			printf "%s\n    {\n      \"names\": %d,\n      \"records\": %d,\n      \"runs\": [", (s > 1) ? "," : "", size, records[size]
			sep = ""
			for (i = 1; i <= nruns; i++) {
				if (r_size[i] != size) continue
				printf "%s\n        {\"signer\": %s, \"kind\": %s, \"status\": %s, \"wall_s\": %.2f, \"cpu_s\": %.2f, \"user_s\": %.2f, \"sys_s\": %.2f, \"rrsigs\": %d, \"rrsigs_per_s\": %s, \"signatures_made\": %s, \"signatures_reused\": %s, \"peak_rss_kib\": %d, \"tree_pss_kib\": %s, \"processes\": %s, \"rss_bytes_per_name\": %s}", \
					sep, q(r_label[i]), q(r_kind[i]), q(r_status[i]), r_wall[i], r_cpu[i], r_user[i], r_sys[i], r_sigs[i], num(r_rate[i], "%.0f"), \
					num(r_made[i], "%d"), num(r_reused[i], "%d"), r_maxrss[i], r_tree[i] ? r_tree[i] : "null", r_procs[i] ? r_procs[i] : "null", r_status[i] == "ok" ? sprintf("%.0f", r_rss[i] * 1024 / size) : "null"
				sep = ","
			}
			printf "\n      ],\n      \"tandem_ratios\": {"
			t = tw(size)
			ti = okrun[size ",tandem-signzone,sign"]
			printf "\n        \"wall_vs_peer\": {"; sep = ""
			for (k in okwall) {
				split(k, p, ",")
				if (p[1] != size || p[3] != "sign" || p[2] ~ /^tandem-signzone/) continue
				printf "%s%s: %s", sep, q(p[2]), (t != "" && okwall[k] > 0) ? sprintf("%.3f", t / okwall[k]) : "null"; sep = ", "
			}
			printf "},\n"
			tc = okcpu[size ",tandem-signzone,sign"]
			printf "        \"cpu_vs_peer\": {"; sep = ""
			for (k in okcpu) {
				split(k, p, ",")
				if (p[1] != size || p[3] != "sign" || p[2] ~ /^tandem-signzone/) continue
				printf "%s%s: %s", sep, q(p[2]), (tc != "" && okcpu[k] > 0) ? sprintf("%.3f", tc / okcpu[k]) : "null"; sep = ", "
			}
			printf "},\n"
			printf "        \"rrsigs_per_s_pct_of_ceiling\": %s,\n", (ti != "" && ceiling != "" && r_rate[ti] != "") ? sprintf("%.1f", 100 * r_rate[ti] / ceiling) : "null"
			printf "        \"rss_bytes_per_name\": %s,\n        \"rss_target_bytes_per_name\": 1024,\n", ti != "" ? sprintf("%.0f", r_rss[ti] * 1024 / size) : "null"
			th = okwall[size ",tandem-signzone-threads,sign"]
			printf "        \"threads_mode_wall_vs_default\": %s,\n", (t != "" && t + 0 > 0 && th != "") ? sprintf("%.3f", th / t) : "null"
			r0 = okwall[size ",tandem-signzone,resign0"]; r1 = okwall[size ",tandem-signzone,resign1"]
			printf "        \"resign_unchanged_pct_of_sign\": %s,\n", (t != "" && t + 0 > 0 && r0 != "") ? sprintf("%.1f", 100 * r0 / t) : "null"
			printf "        \"resign_one_change_pct_of_sign\": %s\n      }\n    }", (t != "" && t > 0 && r1 != "") ? sprintf("%.1f", 100 * r1 / t) : "null"
		}
		printf "\n  ]\n}\n"
		exit 0
	}

	printf "Tandem signing benchmark, %s\n", date
	printf "machine: %s\n", machine
	printf "tools: %s\n", versions
	printf "zones: ECDSAP256SHA256 KSK+ZSK, NSEC3 0 iterations, no salt; generator seed %d\n", seed
	if (nceil > 0) {
		printf "\nPKCS#11 ceiling (SoftHSM2, P-256 C_Sign, measured with %s), signatures/s:\n", ceil_tool == "p11speed" ? "bench/lib/p11speed.c" : "tandem-hsmutil speed"
		printf "  %-8s %10s %10s %12s\n", "keys", "1 thread", "2 threads", "2 processes"
		split("token session", ks, " "); split("1t 2t 2p", ms, " ")
		for (i = 1; i <= 2; i++) {
			printf "  %-8s", ks[i]
			for (j = 1; j <= 3; j++) {
				key = ks[i] "," ms[j]
				v = (key in ceil) ? sprintf("%.0f", ceil[key]) : "-"
				if (j == 3) printf " %12s", v; else printf " %10s", v
			}
			printf "\n"
		}
	}
	for (s = 1; s <= nsizes; s++) {
		size = sizes[s]
		printf "\n%d names, %d records\n", size, records[size]
		printf "  %-24s %-26s %7s %7s %8s %9s %8s %8s %9s %8s\n", "signer", "run", "wall s", "CPU s", "RRSIGs", "RRSIGs/s", "made", "reused", "mem MiB", "B/name"
		for (i = 1; i <= nruns; i++) {
			if (r_size[i] != size) continue
			if (r_status[i] != "ok") {
				printf "  %-24s %-26s %s\n", r_label[i], kindname(r_kind[i]), "FAILED (see the progress output)"
				continue
			}
			printf "  %-24s %-26s %7.2f %7.2f %8d %9s %8s %8s %9.0f %8.0f\n", r_label[i], kindname(r_kind[i]), r_wall[i], r_cpu[i], r_sigs[i], \
				r_rate[i] == "" ? "-" : sprintf("%.0f", r_rate[i]), r_made[i], r_reused[i], r_rss[i] / 1024, r_rss[i] * 1024 / size
			if (r_procs[i] > 1) printf "  %-24s %-26s (%d processes: mem = their summed peak PSS; largest one alone %.0f MiB)\n", "", "", r_procs[i], r_maxrss[i] / 1024
		}
		printf "  (mem: peak RSS from GNU time; B/name: mem in bytes per owner name)\n"
		t = tw(size)
		if (t == "") { printf "  (no Tandem full sign: no ratios)\n"; continue }
		ti = okrun[size ",tandem-signzone,sign"]
		printf "  Tandem ratios:\n"
		for (i = 1; i <= nruns; i++) {
			if (r_size[i] != size || r_kind[i] != "sign" || r_label[i] ~ /^tandem-signzone/ || r_status[i] != "ok" || r_wall[i] <= 0) continue
			printf "    wall time vs %-20s %6.2f  (%s)", r_label[i] ":", t / r_wall[i], t < r_wall[i] ? sprintf("Tandem %.2fx faster", r_wall[i] / t) : sprintf("Tandem %.2fx slower", t / r_wall[i])
			if (r_cpu[i] > 0) printf "; CPU time %.2f of the peer's", r_cpu[ti] / r_cpu[i]
			printf "\n"
		}
		th = okwall[size ",tandem-signzone-threads,sign"]
		if (th != "")
			printf "    threads mode (--threads):      %5.2f of the default mode's wall time\n", th / t
		if (ceiling != "" && r_rate[ti] != "")
			printf "    RRSIGs/s vs PKCS#11 ceiling:   %5.1f %%  (%.0f of %.0f/s, %s)\n", 100 * r_rate[ti] / ceiling, r_rate[ti], ceiling, ceiling_what
		else
			printf "    RRSIGs/s vs PKCS#11 ceiling:   not measured\n"
		printf "    peak memory per name:          %5.0f bytes (target 1024)\n", r_rss[ti] * 1024 / size
		r0 = okwall[size ",tandem-signzone,resign0"]; r1 = okwall[size ",tandem-signzone,resign1"]
		if (r0 != "") printf "    re-sign, nothing changed:      %5.1f %% of the full sign\n", 100 * r0 / t
		if (r1 != "") printf "    re-sign, one A changed:        %5.1f %% of the full sign\n", 100 * r1 / t
	}
}
