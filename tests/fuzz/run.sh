#!/usr/bin/env bash
# Run each libFuzzer target for FUZZ_SECONDS (default 60) under ASan+UBSan, seeded
# with the captured fixtures and the committed corpora, then replay every kept
# crash input (tests/fuzz/regress/<target>/) as a regression test.
# Prints "fuzz: N passed, N failed".
set -u
cd "$(dirname "$0")/../.."
bin=${FUZZ_BUILD:-build/fuzz}
secs=${FUZZ_SECONDS:-60}
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
pass=0; fail=0

# seeds: each fixture record becomes [u16 len][payload]; a whole fixture is one stream
mkdir -p "$work/pgoutput" "$work/value" "$work/config" "$work/copytext"
for f in tests/fixtures/*.bin; do
  python3 - "$f" "$work/pgoutput/$(basename "$f" .bin)" <<'PY' 2>/dev/null || \
    perl -e 'open(F,"<:raw",$ARGV[0]);local $/;$d=<F>;$o="";$p=0;while($p+12<=length($d)){($l)=unpack("N",substr($d,$p+8,4));$o.=pack("n",$l>65535?65535:$l).substr($d,$p+12,$l>65535?65535:$l);$p+=12+$l;}open(O,">:raw",$ARGV[1]);print O $o;' "$f" "$work/pgoutput/$(basename "$f" .bin)"
import sys, struct
d = open(sys.argv[1], 'rb').read(); o = b''; p = 0
while p + 12 <= len(d):
    n = struct.unpack('>I', d[p+8:p+12])[0]; m = min(n, 65535)
    o += struct.pack('>H', m) + d[p+12:p+12+m]; p += 12 + n
open(sys.argv[2], 'wb').write(o)
PY
done
cp agent.conf.example "$work/config/example"
printf '1\tabc\t\\N\n' >"$work/copytext/a"
printf '\003a\\tb\t\\x41\\101\t\\N' >"$work/copytext/b"
printf '\026{1,2,NULL}' >"$work/value/arr"
printf '\0142026-11-22 10:00:00.5+05:30' >"$work/value/ts"
for t in pgoutput value config copytext; do
  [ -d "tests/fuzz/corpus/$t" ] && cp tests/fuzz/corpus/$t/* "$work/$t/" 2>/dev/null
  mkdir -p "$work/crash-$t"
  echo "fuzz: $t for ${secs}s"
  if "$bin/fuzz_$t" -max_total_time="$secs" -max_len=65536 -timeout=10 -rss_limit_mb=2048 \
       -artifact_prefix="$work/crash-$t/" -print_final_stats=1 "$work/$t" >"$work/$t.log" 2>&1; then
    pass=$((pass + 1)); tail -n 12 "$work/$t.log" | grep -E "stat::number_of_executed_units|stat::peak_rss" | sed "s/^/  $t: /"
  else
    fail=$((fail + 1)); echo "fuzz: $t FOUND A CRASH:"; tail -n 40 "$work/$t.log"
    mkdir -p "tests/fuzz/regress/$t"; cp "$work/crash-$t/"* "tests/fuzz/regress/$t/" 2>/dev/null
  fi
  if [ -d "tests/fuzz/regress/$t" ] && ls "tests/fuzz/regress/$t/"* >/dev/null 2>&1; then
    if "$bin/fuzz_$t" "tests/fuzz/regress/$t/"* >"$work/$t.regress.log" 2>&1; then
      pass=$((pass + 1))
    else
      fail=$((fail + 1)); echo "fuzz: $t regression input crashes:"; tail -n 30 "$work/$t.regress.log"
    fi
  fi
done
echo "fuzz: $pass passed, $fail failed"
[ $fail -eq 0 ]
