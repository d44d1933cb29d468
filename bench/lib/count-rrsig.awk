# count-rrsig.awk: count RRSIG records in a master file, whatever the layout.
# Handles: omitted owners (line starts with blank), optional TTL and class in
# either order, multi-line records in ( ) (continuation lines are skipped, so
# an NSEC/NSEC3 type bitmap mentioning RRSIG is never counted), comments, and
# $-directives.  Quoted strings are skipped when tracking parentheses.
# Prints: <RRSIG count> <total record count>
BEGIN { depth = 0; sigs = 0; recs = 0 }
{
	line = $0
	if (depth == 0) {
		# strip a comment outside quotes (cheap path: no quote on the line)
		if (index(line, "\"") == 0) { sub(/;.*/, "", line) }
		if (line ~ /^[ \t]*$/ || line ~ /^\$/) { next }
		n = split(line, f, /[ \t]+/)
		# f[1] is the owner, or "" when the line starts with a blank
		# (owner omitted): either way the next field is f[2]
		i = 2
		# skip TTL and class in either order
		for (k = 0; k < 2 && i <= n; k++) {
			if (f[i] ~ /^[0-9]+[smhdwSMHDW0-9]*$/ || f[i] == "IN" || f[i] == "CH" || f[i] == "HS" || f[i] == "in")
				i++
		}
		if (i <= n && f[i] != "") {
			recs++
			if (f[i] == "RRSIG" || f[i] == "rrsig") sigs++
		}
	}
	# paren tracking outside quoted strings
	s = line
	if (index(s, "\"") > 0) gsub(/"([^"\\]|\\.)*"/, "", s)
	if (index(s, ";") > 0) sub(/;.*/, "", s)
	o = gsub(/\(/, "(", s); c = gsub(/\)/, ")", s)
	depth += o - c
	if (depth < 0) depth = 0
}
END { print sigs, recs }
