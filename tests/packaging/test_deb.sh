#!/usr/bin/env bash
#
# test_deb.sh — the Debian package end to end (SPEC §8): build it with `make deb`, lintian,
# contents and modes, the man page, systemd-analyze verify on both units, install it with
# apt-get, run the installed binary as the pgcdc user with the installed configuration
# against a throwaway PostgreSQL and the stdout sink, reinstall over a locally edited
# configuration, upgrade to a newer build of the same tree, remove, purge, and check what
# is left.
#
# Needs root (apt-get, runuser, purge): CI runs it as root on a fresh Debian 12 machine,
# without systemd running (systemctl is never used; systemd-analyze works offline).
# Installs what it needs when missing. Purges an installed pgcdc first, and again at exit
# (KEEP_PKG=1 keeps it installed); SKIP_BUILD=1 reuses build/pgcdc_*.deb.
# Closes with "N passed, N failed"; exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/../.."
# shellcheck source-path=SCRIPTDIR source=../integration/lib.sh
. tests/integration/lib.sh

((EUID == 0)) || die "needs root: it installs, runs and purges the package (run it as root, or in CI)"
export DEBIAN_FRONTEND=noninteractive
SRC=$PWD
VERSION=$(sed -n 's/^VERSION *:= *//p' Makefile)
DEB_VERSION=$(dpkg-parsechangelog -l packaging/debian/changelog -S Version 2>/dev/null ||
	sed -n '1s/^pgcdc (\([^)]*\)).*/\1/p' packaging/debian/changelog)
ARCH=$(dpkg --print-architecture)
DEB=$SRC/build/pgcdc_${DEB_VERSION}_${ARCH}.deb
WORK=$(mktemp -d "${TMPDIR:-/tmp}/pgcdc-deb.XXXXXX")
AGENT=

section() { printf '\n== %s\n' "$*"; }
installed() { dpkg-query -W -f='${Status}' pgcdc 2>/dev/null | grep -q 'install ok installed'; }
known() { dpkg-query -W -f='${Status}' pgcdc 2>/dev/null | grep -qv 'not-installed'; }
purge_pkg() {
	if known; then
		apt-get purge -y -q pgcdc >"$WORK/purge.log" 2>&1 || dpkg --purge pgcdc >>"$WORK/purge.log" 2>&1
	fi
}
# stat_of PATH: "mode owner group"
stat_of() { stat -c '%a %U %G' "$1" 2>/dev/null || echo missing; }
# child_of PID: the first child process of PID (runuser forks the agent)
child_of() {
	local f pid ppid
	for f in /proc/[0-9]*/stat; do
		read -r pid _ _ ppid _ <"$f" 2>/dev/null || continue
		[[ $ppid == "$1" ]] && { echo "$pid"; return 0; }
	done
	return 1
}
# stop_agent: kill the agent started below (the agent itself first: killing runuser
# would orphan it)
stop_agent() {
	[[ -n $AGENT ]] || return 0
	local c
	c=$(child_of "$AGENT") && kill -9 "$c" 2>/dev/null
	kill -9 "$AGENT" 2>/dev/null
	wait "$AGENT" 2>/dev/null
	AGENT=
}
# at exit, in this order: the agent, the package (unless KEEP_PKG=1), the scratch directory
at_exit stop_agent
[[ ${KEEP_PKG-} == 1 ]] || at_exit purge_pkg
at_exit "rm -rf '$WORK'"

# --- tools and build dependencies -----------------------------------------------------------
section "tools"
pkgs=(dpkg-dev debhelper lintian fakeroot systemd man-db binutils postgresql-15 jq)
# Build-Depends of packaging/debian/control, without versions or build profiles
mapfile -t bdeps < <(awk '/^Build-Depends:/{on=1; sub(/^Build-Depends:/,"")} on && /^[A-Z]/ && !/^Build-Depends:/{on=0}
	on{print}' packaging/debian/control | tr ',' '\n' |
	sed -e 's/([^)]*)//g' -e 's/<[^>]*>//g' -e 's/[[:space:]]//g' | grep -v '^$' |
	sed 's/^debhelper-compat$/debhelper/')
pkgs+=("${bdeps[@]}")
missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]} > 0)); then
	echo "installing ${missing[*]}"
	apt-get update -q >"$WORK/apt.log" 2>&1 || { cat "$WORK/apt.log"; die "apt-get update failed"; }
	apt-get install -y -q --no-install-recommends "${missing[@]}" >>"$WORK/apt.log" 2>&1 ||
		{ tail -n 30 "$WORK/apt.log"; die "apt-get install ${missing[*]} failed"; }
fi
echo "build dependencies: ${bdeps[*]}"
# Build-Depends is complete: the package owning every pkg-config module of the Makefile
# (PKGS, TEST_PKGS) and the protobuf-c compiler is listed
unlisted=()
read -ra mods <<<"$(sed -n 's/^\(TEST_\)\{0,1\}PKGS *:= *//p' Makefile | tr '\n' ' ')"
for mod in "${mods[@]}"; do
	pc="$(pkg-config --variable=pcfiledir "$mod" 2>/dev/null)/$mod.pc"
	owner=$(dpkg -S "$pc" 2>/dev/null | awk -F: 'NR == 1 { print $1 }') || true
	[[ -n $owner && " ${bdeps[*]} " == *" $owner "* ]] || unlisted+=("$mod:${owner:-?}")
done
owner=$(dpkg -S "$(readlink -f "$(command -v protoc-c)")" 2>/dev/null | head -n 1 | cut -d: -f1) || true
[[ -n $owner && " ${bdeps[*]} " == *" $owner "* ]] || unlisted+=("protoc-c:${owner:-?}")
t_eq "Build-Depends lists every pkg-config module and protoc-c" "" "${unlisted[*]-}"

# leftovers of an earlier run
purge_pkg

# --- build -----------------------------------------------------------------------------------
section "make deb"
if [[ ${SKIP_BUILD-} != 1 ]]; then
	rm -f build/pgcdc_*.deb
	if make deb >"$WORK/build.log" 2>&1; then
		t_ok "make deb"
	else
		tail -n 40 "$WORK/build.log"
		t_fail "make deb" "failed (log above)"
	fi
	# dh_auto_test ran the unit tests inside the build
	unit_line=$(grep -E '^unit: [0-9]+ passed, [0-9]+ failed' "$WORK/build.log" | tail -n 1 || true)
	if [[ $unit_line =~ ^unit:\ ([0-9]+)\ passed,\ 0\ failed ]] && ((BASH_REMATCH[1] > 0)); then
		t_ok "dh_auto_test ran the unit tests ($unit_line)"
	else
		t_fail "dh_auto_test ran the unit tests" "no passing 'unit:' line in the build log: '${unit_line}'"
	fi
	# nothing generated in the tree itself
	if [[ ! -e debian ]] && [[ -z $(find packaging -newer "$WORK" -type f -name '*.debhelper*' 2>/dev/null) ]]; then
		t_ok "the build left the tree alone (no debian/, no generated files under packaging/)"
	else
		t_fail "the build left the tree alone" "debian/ or generated files found"
	fi
fi
if [[ ! -f $DEB ]]; then
	t_fail "package file" "$DEB not built"
	t_summary
	exit 1
fi
t_ok "built $(basename "$DEB")"

# --- lintian ---------------------------------------------------------------------------------
section "lintian"
set +e
lintian --fail-on error,warning --display-info "$DEB" >"$WORK/lintian.log" 2>&1
lrc=$?
set -e
grep -v 'running with root privileges' "$WORK/lintian.log" || true
if ((lrc == 0)); then
	t_ok "lintian: no errors or warnings (remaining ones overridden with a reason)"
else
	t_fail "lintian" "exit $lrc: errors or unjustified warnings (above)"
fi

# --- contents --------------------------------------------------------------------------------
section "contents"
dpkg -c "$DEB" >"$WORK/contents"
# deb_entry PATH: "perms owner" of ./PATH in the package, or "missing"
deb_entry() {
	awk -v p="./$1" '$6 == p { print $1, $2; found=1 } END { if (!found) print "missing" }' "$WORK/contents"
}
t_eq "binary /usr/bin/pgcdc 0755 root" "-rwxr-xr-x root/root" "$(deb_entry usr/bin/pgcdc)"
t_eq "conffile /etc/pgcdc/agent.conf 0644 in the .deb" "-rw-r--r-- root/root" "$(deb_entry etc/pgcdc/agent.conf)"
t_eq "/etc/default/pgcdc" "-rw-r--r-- root/root" "$(deb_entry etc/default/pgcdc)"
for u in pgcdc.service pgcdc@.service; do
	unitdir=lib/systemd/system
	[[ $(deb_entry "$unitdir/$u") != missing ]] || unitdir=usr/lib/systemd/system
	t_eq "unit $u" "-rw-r--r-- root/root" "$(deb_entry "$unitdir/$u")"
done
t_eq "man page pgcdc(1)" "-rw-r--r-- root/root" "$(deb_entry usr/share/man/man1/pgcdc.1.gz)"
t_eq "copyright" "-rw-r--r-- root/root" "$(deb_entry usr/share/doc/pgcdc/copyright)"
t_eq "example configuration" "-rw-r--r-- root/root" "$(deb_entry usr/share/doc/pgcdc/examples/agent.conf.example)"
if [[ -f decoder/pgcdc.proto ]]; then
	t_eq "protobuf schema /usr/share/pgcdc/pgcdc.proto" "-rw-r--r-- root/root" "$(deb_entry usr/share/pgcdc/pgcdc.proto)"
else
	echo "(decoder/pgcdc.proto does not exist yet: not expected in the package)"
fi
for f in docs/examples/hooks/* docs/examples/prometheus-rules.yml; do
	[[ -f $f ]] || continue
	rel=${f#docs/}
	if [[ $(deb_entry "usr/share/doc/pgcdc/$rel") == -rw* ]]; then
		t_ok "example $rel"
	else
		t_fail "example $rel" "usr/share/doc/pgcdc/$rel not in the package"
	fi
done
if grep -q -E '\./(var/lib/pgcdc|home|tmp)' "$WORK/contents"; then
	t_fail "no state shipped" "the package ships files under /var/lib/pgcdc, /home or /tmp"
else
	t_ok "no state shipped (/var/lib/pgcdc is made by the postinst)"
fi
dpkg-deb -e "$DEB" "$WORK/control"
if grep -qx /etc/pgcdc/agent.conf "$WORK/control/conffiles" && grep -qx /etc/default/pgcdc "$WORK/control/conffiles"; then
	t_ok "conffiles: /etc/pgcdc/agent.conf, /etc/default/pgcdc"
else
	t_fail "conffiles" "$(tr '\n' ' ' <"$WORK/control/conffiles")"
fi

# Depends: every library the binary links is covered; no -dev packages; adduser for the postinst
depends=$(dpkg-deb -f "$DEB" Depends)
echo "Depends: $depends"
dpkg-deb -x "$DEB" "$WORK/root"
dep_ok=1
while read -r soname; do
	# awk reads all of ldconfig's output: an early exit would SIGPIPE it (pipefail)
	path=$(ldconfig -p | awk -v s="$soname" '$1 == s && !found { print $NF; found = 1 }')
	owner=
	for cand in "$path" "$(readlink -f "$path")" "${path/#\/lib/\/usr\/lib}" "${path/#\/usr\/lib/\/lib}"; do
		[[ -n $cand ]] || continue
		owner=$(dpkg -S "$cand" 2>/dev/null | awk -F: 'NR == 1 { print $1 }') && [[ -n $owner ]] && break
	done
	if [[ -z $owner ]]; then
		dep_ok=0
		echo "  $soname: owning package not found"
	elif ! grep -qE "(^|, )$owner( |,|$)" <<<"$depends"; then
		dep_ok=0
		echo "  $soname ($owner) is not in Depends"
	fi
done < <(readelf -d "$WORK/root/usr/bin/pgcdc" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p')
if ((dep_ok)); then
	t_ok "Depends covers every NEEDED library of /usr/bin/pgcdc"
else
	t_fail "Depends covers every NEEDED library" "see above"
fi
if grep -qE '(^|, )adduser(,|$| )' <<<"$depends" && ! grep -q -- '-dev' <<<"$depends"; then
	t_ok "Depends has adduser and no -dev package"
else
	t_fail "Depends has adduser and no -dev package" "$depends"
fi

# --- man page --------------------------------------------------------------------------------
section "man page"
warn=$(MANWIDTH=80 man --warnings -l packaging/man/pgcdc.1 2>&1 >/dev/null || echo "man exited $?")
t_eq "man --warnings -l packaging/man/pgcdc.1: no warnings" "" "$warn"
# every key of agent.conf.example, in its section, with the same default
awk '/^\[/{sec=$1; gsub(/[][]/,"",sec); next}
	/^[a-z_]+[ \t]*=/{k=$1; sub(/=.*/,"",k); v=$0; sub(/[ \t]+#.*$/,"",v); sub(/^[^=]*=[ \t]*/,"",v); print sec"."k" = "v}
	/^# kafka\.<property>/{print sec".kafka.<property>"}' agent.conf.example | sort >"$WORK/keys.example"
awk '/^\.SH/{sec=""} /^\.SS \[/{sec=$2; gsub(/[][]/,"",sec); next}
	sec!="" && /^\.B [a-z_]+ =/{v=$0; sub(/^\.B [a-z_]+ =[ ]*/,"",v); gsub(/\\\(dq/,"\"",v); print sec"."$2" = "v}
	sec!="" && /^\.BI kafka\. property/{print sec".kafka.<property>"}' packaging/man/pgcdc.1 | sort >"$WORK/keys.man"
if diff "$WORK/keys.example" "$WORK/keys.man" >"$WORK/keys.diff"; then
	t_ok "man page documents every key of agent.conf.example ($(wc -l <"$WORK/keys.example")) with its default"
else
	cat "$WORK/keys.diff"
	t_fail "man page documents every key of agent.conf.example with its default" "diff above (< example, > man)"
fi
# every command and option of `pgcdc --help`
MANWIDTH=200 man -l packaging/man/pgcdc.1 2>/dev/null | sed 's/\xe2\x80\x90/-/g' >"$WORK/man.txt"
undoc=()
for w in $("$WORK/root/usr/bin/pgcdc" --help | grep -oE '(^|[ [|,])--?[a-zA-Z][a-zA-Z-]*' | tr -d ' [|,' | sort -u) \
	run check status snapshot drop-slot; do
	grep -qF -- "$w" "$WORK/man.txt" || undoc+=("$w")
done
t_eq "man page covers every command and option of pgcdc --help" "" "${undoc[*]-}"

# --- install ---------------------------------------------------------------------------------
section "apt-get install"
if apt-get install -y -q "$DEB" >"$WORK/install.log" 2>&1 && installed; then
	t_ok "apt-get install $(basename "$DEB")"
else
	tail -n 30 "$WORK/install.log"
	t_fail "apt-get install" "failed (log above)"
	t_summary
	exit 1
fi
t_eq "pgcdc --version" "pgcdc $VERSION" "$(pgcdc --version 2>&1)"
t_eq "/usr/bin/pgcdc on PATH" "/usr/bin/pgcdc" "$(command -v pgcdc)"
IFS=: read -r _ _ uid _ _ home shell <<<"$(getent passwd pgcdc || echo 'x:x:99999:x:x:x:x')"
if ((uid < 1000)) && [[ $home == /var/lib/pgcdc && $shell == /usr/sbin/nologin ]] && getent group pgcdc >/dev/null; then
	t_ok "system user and group pgcdc (uid $uid, home /var/lib/pgcdc, no login shell)"
else
	t_fail "system user pgcdc" "$(getent passwd pgcdc || echo none)"
fi
t_eq "/etc/pgcdc/agent.conf after install" "640 root pgcdc" "$(stat_of /etc/pgcdc/agent.conf)"
t_eq "/etc/pgcdc" "750 root pgcdc" "$(stat_of /etc/pgcdc)"
t_eq "/etc/default/pgcdc" "600 root root" "$(stat_of /etc/default/pgcdc)"
t_eq "/var/lib/pgcdc" "750 pgcdc pgcdc" "$(stat_of /var/lib/pgcdc)"
if cmp -s /etc/pgcdc/agent.conf agent.conf.example; then
	t_ok "/etc/pgcdc/agent.conf is agent.conf.example"
else
	t_fail "/etc/pgcdc/agent.conf is agent.conf.example" "differs"
fi
unitdir=/lib/systemd/system
[[ -f $unitdir/pgcdc.service ]] || unitdir=/usr/lib/systemd/system
if [[ -z $(find /etc/systemd/system -name 'pgcdc*' 2>/dev/null) ]]; then
	t_ok "units installed, not enabled"
else
	t_fail "units not enabled" "$(find /etc/systemd/system -name 'pgcdc*')"
fi

section "systemd units"
for u in pgcdc.service pgcdc@.service; do
	if out=$(cd / && systemd-analyze verify --man=no "$unitdir/$u" 2>&1) && ! grep -q pgcdc <<<"$out"; then
		t_ok "systemd-analyze verify $u"
	else
		printf '%s\n' "$out"
		t_fail "systemd-analyze verify $u" "complaints above"
	fi
	level=$(cd / && systemd-analyze security --offline=true --no-pager "$unitdir/$u" 2>/dev/null |
		sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\) \([A-Z]*\).*/\1 \2/p')
	if [[ $level == *" OK" ]]; then
		t_ok "systemd-analyze security $u: exposure $level"
	else
		t_fail "systemd-analyze security $u" "exposure '${level}', expected OK"
	fi
	# shellcheck disable=SC2016 # $MAINPID is literal unit text
	for d in 'User=pgcdc' 'Group=pgcdc' 'ProtectSystem=strict' 'NoNewPrivileges=yes' 'PrivateTmp=yes' \
		'ProtectHome=yes' 'RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6' 'Restart=on-failure' \
		'ExecReload=/bin/kill -HUP $MAINPID' 'EnvironmentFile=-/etc/default/pgcdc' 'CapabilityBoundingSet='; do
		grep -qxF "$d" "$unitdir/$u" || t_fail "$u has $d" "missing"
	done
done
if grep -qxF 'ExecStart=/usr/bin/pgcdc -c /etc/pgcdc/agent.conf run' "$unitdir/pgcdc.service" &&
	grep -qxF 'StateDirectory=pgcdc' "$unitdir/pgcdc.service"; then
	t_ok "pgcdc.service runs /etc/pgcdc/agent.conf, state in /var/lib/pgcdc"
else
	t_fail "pgcdc.service ExecStart/StateDirectory" "unexpected"
fi
if grep -qxF 'ExecStart=/usr/bin/pgcdc -c /etc/pgcdc/%i.conf run' "$unitdir/pgcdc@.service" &&
	grep -qxF 'StateDirectory=pgcdc/%i' "$unitdir/pgcdc@.service" &&
	grep -qxF 'EnvironmentFile=-/etc/pgcdc/%i.env' "$unitdir/pgcdc@.service"; then
	t_ok "pgcdc@.service runs /etc/pgcdc/%i.conf, state in /var/lib/pgcdc/%i"
else
	t_fail "pgcdc@.service ExecStart/StateDirectory/EnvironmentFile" "unexpected"
fi

# --- run the installed agent as pgcdc --------------------------------------------------------
section "run as the pgcdc user"
pg_start "max_slot_wal_keep_size = 1GB"
psql_q - <<-'SQL'
	CREATE TABLE public.pkg_items (id int PRIMARY KEY, name text, qty int);
	CREATE PUBLICATION pgcdc FOR ALL TABLES;
SQL
# the installed configuration, pointed at the test server; everything else as shipped
# (state_dir /var/lib/pgcdc, stdout sink on, Kafka and Parquet off)
run_args=(-c /etc/pgcdc/agent.conf --set "source.conninfo=$PG_CONNINFO" --set source.snapshot=never
	--set source.status_interval=1s --set monitor.metrics_listen=)
as_pgcdc() { (cd / && runuser -u pgcdc -- /usr/bin/pgcdc "$@"); }

set +e
as_pgcdc "${run_args[@]}" check >"$WORK/check.out" 2>"$WORK/check.err"
crc=$?
set -e
if ((crc == 0)); then
	t_ok "pgcdc check as pgcdc with /etc/pgcdc/agent.conf"
else
	cat "$WORK/check.out" "$WORK/check.err"
	t_fail "pgcdc check as pgcdc" "exit $crc"
fi

(cd / && exec runuser -u pgcdc -- /usr/bin/pgcdc "${run_args[@]}" run) >"$WORK/run.out" 2>"$WORK/run.err" &
AGENT=$!
slot_active() { [[ $(psql_q "SELECT count(*) FROM pg_replication_slots WHERE slot_name = 'pgcdc' AND active") == 1 ]]; }
if wait_for 30 slot_active; then
	t_ok "agent streaming (slot pgcdc active)"
else
	tail -n 20 "$WORK/run.err"
	t_fail "agent streaming" "slot never became active"
fi
psql_q - <<-'SQL'
	INSERT INTO pkg_items VALUES (1, 'apple', 3), (2, 'pear', 5), (3, 'plum', 7);
	UPDATE pkg_items SET qty = 4 WHERE id = 1;
	DELETE FROM pkg_items WHERE id = 2;
SQL
five_records() { (($(jq -c 'select(.source.table == "pkg_items")' "$WORK/run.out" 2>/dev/null | wc -l) >= 5)); }
wait_for 30 five_records || true
got=$(jq -r 'select(.source.table == "pkg_items") | "\(.op):\((.after // .before).id)"' "$WORK/run.out" 2>/dev/null | tr '\n' ' ')
t_eq "changes flow: insert x3, update, delete" "c:1 c:2 c:3 u:1 d:2 " "$got"
t_eq "update record carries the new row" '{"id":1,"name":"apple","qty":4}' \
	"$(jq -c 'select(.op == "u") | .after' "$WORK/run.out" 2>/dev/null | head -n 1)"
set +e
as_pgcdc "${run_args[@]}" status --json >"$WORK/status.json" 2>"$WORK/status.err"
set -e
t_eq "pgcdc status --json as pgcdc: slot" "pgcdc" "$(jq -r .slot "$WORK/status.json" 2>/dev/null)"
# SIGTERM to the agent itself (runuser passes its exit status on)
if pid=$(child_of "$AGENT"); then
	kill -TERM "$pid" 2>/dev/null || true
else
	kill -TERM "$AGENT" 2>/dev/null || true
fi
set +e
wait "$AGENT"
arc=$?
set -e
AGENT=
t_eq "SIGTERM: agent exits 0" 0 "$arc"
if [[ -f /var/lib/pgcdc/pgcdc.lsn ]] && [[ $(stat -c %U /var/lib/pgcdc/pgcdc.lsn) == pgcdc ]]; then
	t_ok "state written by pgcdc to /var/lib/pgcdc/pgcdc.lsn"
else
	ls -la /var/lib/pgcdc
	t_fail "state in /var/lib/pgcdc" "no pgcdc.lsn owned by pgcdc"
fi
if grep -q ' ERROR ' "$WORK/run.err"; then
	grep ' ERROR ' "$WORK/run.err" | sed -n '1,5p'
	t_fail "agent log has no errors" "see above"
else
	t_ok "agent log has no errors"
fi

# --- reinstall over a local edit -------------------------------------------------------------
section "reinstall (upgrade path) keeps local configuration"
echo '# local edit by test_deb.sh' >>/etc/pgcdc/agent.conf
if dpkg -i "$DEB" </dev/null >"$WORK/reinstall.log" 2>&1; then
	t_ok "dpkg -i over the installed package"
else
	tail -n 20 "$WORK/reinstall.log"
	t_fail "dpkg -i over the installed package" "failed"
fi
if tail -n 1 /etc/pgcdc/agent.conf | grep -q 'local edit by test_deb.sh'; then
	t_ok "edited conffile kept"
else
	t_fail "edited conffile kept" "local edit lost"
fi
t_eq "/etc/pgcdc/agent.conf after reinstall" "640 root pgcdc" "$(stat_of /etc/pgcdc/agent.conf)"
if [[ -f /var/lib/pgcdc/pgcdc.lsn ]]; then
	t_ok "state kept across reinstall"
else
	t_fail "state kept across reinstall" "gone"
fi

# --- upgrade to a newer version ---------------------------------------------------------------
# The same tree packaged as a later version (unit tests skipped: they ran in the first
# build): dpkg runs the maintainer scripts in their upgrade mode over the installed one.
section "upgrade to a newer version"
UPV=${DEB_VERSION%-*}+upgradetest1
mkdir -p "$WORK/newer"
(cd "$SRC" && tar -cf - --exclude=./build --exclude=./.git --exclude=./node_modules --exclude=./tmp .) |
	tar -xf - -C "$WORK/newer"
sed -i "s/^VERSION *:= .*/VERSION   := $UPV/" "$WORK/newer/Makefile"
{
	printf 'pgcdc (%s-1) unstable; urgency=medium\n\n  * Upgrade test build.\n\n' "$UPV"
	printf ' -- pgcdc developers <pgcdc@example.org>  %s\n\n' "$(date -R)"
	cat "$SRC/packaging/debian/changelog"
} >"$WORK/newer/packaging/debian/changelog"
NEWDEB=$WORK/newer/build/pgcdc_${UPV}-1_${ARCH}.deb
if (cd "$WORK/newer" && DEB_BUILD_OPTIONS=nocheck make deb) >"$WORK/build-newer.log" 2>&1 && [[ -f $NEWDEB ]]; then
	t_ok "built $(basename "$NEWDEB")"
	uid_before=$(id -u pgcdc)
	if dpkg -i "$NEWDEB" </dev/null >"$WORK/upgrade.log" 2>&1; then
		t_ok "dpkg -i upgrades $DEB_VERSION to $UPV-1"
	else
		tail -n 20 "$WORK/upgrade.log"
		t_fail "dpkg -i of the newer package" "failed"
	fi
	t_eq "installed version after upgrade" "$UPV-1" "$(dpkg-query -W -f='${Version}' pgcdc 2>/dev/null)"
	t_eq "pgcdc --version after upgrade" "pgcdc $UPV" "$(/usr/bin/pgcdc --version 2>&1 | head -n 1)"
	if tail -n 1 /etc/pgcdc/agent.conf | grep -q 'local edit by test_deb.sh'; then
		t_ok "upgrade keeps the edited conffile"
	else
		t_fail "upgrade keeps the edited conffile" "local edit lost"
	fi
	t_eq "/etc/pgcdc/agent.conf after upgrade" "640 root pgcdc" "$(stat_of /etc/pgcdc/agent.conf)"
	t_eq "the pgcdc user keeps its uid" "$uid_before" "$(id -u pgcdc)"
	if [[ -f /var/lib/pgcdc/pgcdc.lsn ]] && [[ $(stat -c %U /var/lib/pgcdc/pgcdc.lsn) == pgcdc ]]; then
		t_ok "upgrade keeps the state in /var/lib/pgcdc"
	else
		t_fail "upgrade keeps the state" "pgcdc.lsn gone or not pgcdc's"
	fi
	set +e
	as_pgcdc "${run_args[@]}" check >"$WORK/check2.out" 2>"$WORK/check2.err"
	crc=$?
	set -e
	t_eq "the upgraded agent passes check as pgcdc" 0 "$crc"
else
	tail -n 30 "$WORK/build-newer.log"
	t_fail "build the newer package" "failed (log above)"
fi

# --- remove, then purge ----------------------------------------------------------------------
section "remove and purge"
apt-get remove -y -q pgcdc >"$WORK/remove.log" 2>&1 || { tail -n 20 "$WORK/remove.log"; t_fail "apt-get remove" "failed"; }
if [[ ! -e /usr/bin/pgcdc && -f /etc/pgcdc/agent.conf && -d /var/lib/pgcdc ]]; then
	t_ok "remove: binary gone, configuration and /var/lib/pgcdc kept"
else
	t_fail "remove" "binary: $(stat_of /usr/bin/pgcdc); conf: $(stat_of /etc/pgcdc/agent.conf); state: $(stat_of /var/lib/pgcdc)"
fi
apt-get purge -y -q pgcdc >"$WORK/purge.log" 2>&1 || { tail -n 20 "$WORK/purge.log"; t_fail "apt-get purge" "failed"; }
if known; then
	t_fail "purge" "dpkg still knows pgcdc: $(dpkg-query -W -f='${Status}' pgcdc)"
else
	t_ok "purge: dpkg no longer knows pgcdc"
fi
left=()
for p in /usr/bin/pgcdc /etc/pgcdc /etc/default/pgcdc /var/lib/pgcdc /usr/share/pgcdc /usr/share/doc/pgcdc \
	/usr/share/man/man1/pgcdc.1.gz /lib/systemd/system/pgcdc.service /lib/systemd/system/pgcdc@.service \
	/usr/lib/systemd/system/pgcdc.service /usr/lib/systemd/system/pgcdc@.service; do
	[[ ! -e $p ]] || left+=("$p")
done
t_eq "purge removed binary, configuration, state, units, docs" "" "${left[*]-}"
owned=$(find /etc /var /usr /opt /srv /run -xdev -user pgcdc 2>/dev/null | sed -n '1,5p')
t_eq "no file owned by pgcdc left" "" "$owned"
# kept on purge, as Debian usually does (see packaging/debian/pgcdc.postrm)
if getent passwd pgcdc >/dev/null; then
	t_ok "system user pgcdc kept after purge (Debian practice; deluser --system pgcdc removes it)"
else
	t_fail "system user pgcdc kept" "removed, though the postrm documents that it is kept"
fi

t_summary
