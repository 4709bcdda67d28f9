# Goal: the split-view scenario. For each of two origins, two glasslogd
# share one key but hold different entries (two data dirs made with
# --create from the same key file): a same-size fork (3 and 3 entries) and
# a fork with different sizes where the smaller size is a power of two (2
# and 5 entries). Witness A pulls one side of each, witness B the other;
# A and B gossip. Both must hold evidence for both origins within three
# pull-and-gossip rounds (1 s apart); every file passes `glasslog evidence verify` with
# the log key alone (and fails with another key); the --on-evidence hook
# runs; both witnesses refuse to cosign either origin again; a client with
# a 2-of-3 policy cannot verify a bundle from the forked side. A witness
# restarted with its evidence copies gone writes them again and runs the
# hook again, but never for a copy it could not write; a hanging hook is
# stopped at --on-evidence-timeout with the child it started.
. "$(dirname "$0")/lib.sh"
G="$GL_BIN/glasslog"
W="$GL_BIN/glasslog-witness"
make_keys
"$G" keygen --name two.example/log --out "$T/log2.key" > /dev/null || fail keygen

# start_glasslogd NAME KEY: a new log in $T/NAME; sets URL_NAME.
start_glasslogd() {
    local name=$1 key=$2 out="$T/$1.log" port="" i
    "$GL_BIN/glasslogd" --data "$T/$name" --create --key "$key" --submitters "$T/submitters" \
        --listen 127.0.0.1:0 --batch-ms 2 > "$out" 2>&1 &
    PIDS="$PIDS $!"
    eval "PID_$name=$!"
    for i in $(seq 200); do
        port=$(sed -n 's/.*(port \([0-9]*\)).*/\1/p' "$out" 2>/dev/null)
        [ -n "$port" ] && break
        sleep 0.05
    done
    [ -n "$port" ] || fail "glasslogd $name did not start: $(cat "$out")"
    eval "URL_$name=http://127.0.0.1:$port"
}
# add NAME N: appends N statements unique to NAME, one by one.
add() {
    local url i
    url=$(eval echo \$URL_$1)
    for i in $(seq "$2"); do
        "$G" append --log "$url" --key "$T/sub.key" --kind build --subject "$1-$i" --version 1 \
            --sha256 "$(printf '%s %s' "$1" "$i" | sha256sum | cut -c1-64)" --out "$T/$1.bundle.$i" \
            > /dev/null || fail "append to $1"
    done
}
start_glasslogd one_a "$T/log.key"
start_glasslogd one_b "$T/log.key"
start_glasslogd two_a "$T/log2.key"
start_glasslogd two_b "$T/log2.key"
add one_a 3
add one_b 3
add two_a 2
add two_b 5

PA=$(free_port)
PB=$(free_port)
for n in A B C; do "$G" keygen --name "w$n.example" --cosigner --out "$T/w$n.key" > /dev/null || fail keygen; done
logs() { printf 'logs/v0\nvkey %s\nurl %s\nvkey %s\nurl %s\n' "$(cat "$T/log.key.pub")" "$1" \
    "$(cat "$T/log2.key.pub")" "$2"; }
logs "$URL_one_a" "$URL_two_a" > "$T/logsA"
logs "$URL_one_b" "$URL_two_b" > "$T/logsB"
echo "witness B $(cat "$T/wB.key.pub") http://127.0.0.1:$PB" > "$T/peersA"
echo "witness A $(cat "$T/wA.key.pub") http://127.0.0.1:$PA" > "$T/peersB"
mkdir -p "$T/hooks"
# start_witness N PORT [HOOK [OPTION...]]: HOOK replaces the recording hook.
start_witness() {
    local n=$1 port=$2
    local hook="cp \"\$1\" '$T/hooks/'; echo \"$n \$GLASSLOG_ORIGIN \$GLASSLOG_EVIDENCE_ID\" >> '$T/hooks.txt'"
    shift 2
    [ $# -gt 0 ] && { hook=$1; shift; }
    spawn "witness$n" "$W" --listen "127.0.0.1:$port" --data "$T/wd$n" $(create_flag "$T/wd$n") \
        --key "$T/w$n.key" --logs "$T/logs$n" --peers "$T/peers$n" --poll-interval 1 \
        --on-evidence "$hook" "$@" || fail "witness $n did not start: $(cat "$SPAWN_OUT")"
    eval "WPID$n=$SPAWN_PID; WOUT$n=$SPAWN_OUT"
}
# rounds PORT: the witness's finished pull-and-gossip rounds.
rounds() { curl -s "http://127.0.0.1:$1/metrics" | awk '$1 == "glasslog_witness_poll_rounds_total" { print $2 }'; }
start_witness A "$PA"
start_witness B "$PB"
rA0=$(rounds "$PA") # A's rounds before B could answer its gossip
t0=$(date +%s.%N)
# evidence_count PORT: number of evidence entries listed.
# (grep, not python: the poll must stay cheaper than a round on a busy machine)
evidence_count() { curl -s "http://127.0.0.1:$1/evidence" | grep -o '"id":' | wc -l; }
for i in $(seq 300); do
    [ "$(evidence_count "$PA")" -ge 2 ] && [ "$(evidence_count "$PB")" -ge 2 ] && break
    sleep 0.1
done
t1=$(date +%s.%N)
rA=$(rounds "$PA") rB=$(rounds "$PB")
took=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')
[ "$(evidence_count "$PA")" -ge 2 ] && [ "$(evidence_count "$PB")" -ge 2 ] ||
    fail "no evidence after ${took}s: A: $(tail -5 "$WOUTA") B: $(tail -5 "$WOUTB")"
# Found within three pull-and-gossip rounds of each witness (counted by
# the witnesses themselves, so a slow machine does not matter), plus the
# round in progress when the evidence appeared.
rA=$((${rA:-99} - ${rA0:-0}))
[ "$rA" -le 4 ] && [ "${rB:-99}" -le 4 ] ||
    fail "evidence took $rA rounds of A (after B started) and ${rB:-?} of B (> 3), ${took}s"
echo "evidence in ${took}s: rounds A $rA, B $rB"

# Every file proves the split with the log key alone; not with another key.
for p in "$PA" "$PB"; do
    curl -s "http://127.0.0.1:$p/evidence" | python3 -c '
import json, sys
for e in json.load(sys.stdin): print(e["id"], e["origin"], e["kind"])' > "$T/ev.$p"
    grep -q " example.com/log same-size$" "$T/ev.$p" || fail "no same-size evidence at $p: $(cat "$T/ev.$p")"
    grep -q " two.example/log not-prefix$" "$T/ev.$p" || fail "no not-prefix evidence at $p: $(cat "$T/ev.$p")"
    while read -r id origin kind; do
        curl -sf "http://127.0.0.1:$p/evidence/$id" > "$T/e.$id" || fail "GET evidence $id"
        key="$T/log.key.pub"; other="$T/log2.key.pub"
        [ "$origin" = two.example/log ] && { key="$T/log2.key.pub"; other="$T/log.key.pub"; }
        expect_rc 0 "$G" evidence verify --log-vkey "@$key" "$T/e.$id"
        expect_rc 2 "$G" evidence verify --log-vkey "@$other" "$T/e.$id"
    done < "$T/ev.$p"
done
# Both witnesses agree on the same-size file byte for byte (canonical form).
[ "$(grep same-size "$T/ev.$PA" | cut -d' ' -f1)" = "$(grep same-size "$T/ev.$PB" | cut -d' ' -f1)" ] ||
    fail "the two witnesses wrote different same-size evidence"
for i in $(seq 50); do [ "$(grep -c . "$T/hooks.txt" 2>/dev/null)" -ge 4 ] && break; sleep 0.1; done
grep -q "^A example.com/log " "$T/hooks.txt" && grep -q "^B two.example/log " "$T/hooks.txt" ||
    fail "the --on-evidence hook did not run: $(cat "$T/hooks.txt" 2>/dev/null)"
[ "$(ls "$T/hooks" | wc -l)" -ge 2 ] || fail "the hook got no file path"
grep -q ALARM "$WOUTA" && grep -q ALARM "$WOUTB" || fail "no alarm line"

# Neither witness cosigns either origin again, whatever it is sent.
curl -sf "$URL_one_a/checkpoint" > "$T/ck1a"
{ printf 'old 3\n\n'; cat "$T/ck1a"; } > "$T/req"
[ "$(curl -s -o "$T/body" -w '%{http_code}' --data-binary @"$T/req" "http://127.0.0.1:$PA/add-checkpoint")" = 422 ] ||
    fail "A still cosigns example.com/log: $(cat "$T/body")"
for p in "$PA" "$PB"; do
    curl -s "http://127.0.0.1:$p/metrics" | grep -q '^glasslog_witness_split_view_origins 2$' ||
        fail "split metric at $p"
done

# A 2-of-3 client cannot verify a bundle from the forked side (B's view):
# at most B cosigned it.
HEX=$(printf %s example.com/log | sha256sum | cut -c1-64)
curl -sf "http://127.0.0.1:$PB/$HEX/checkpoint" > "$T/monB" || fail "B monitoring"
{
    echo "log $(cat "$T/log.key.pub")"
    for n in A B C; do echo "witness w$n $(cat "$T/w$n.key.pub")"; done
    echo "group g 2 wA wB wC"
    echo "quorum g"
    echo "submitter $(cat "$T/submitters")"
} > "$T/policy"
{ sed '/^$/q' "$T/one_b.bundle.3"; cat "$T/monB"; } > "$T/forked-bundle"
expect_rc 2 "$G" verify --policy "$T/policy" --bundle "$T/forked-bundle"

# Stored evidence whose file copy is gone is announced again at start, and
# never with a path that is not there: A restarted with its evidence
# directory replaced by a plain file (no copy can be written) logs the
# failure and runs no hook; restarted with the directory back, it writes
# both copies and runs the hook for each.
hooksA() { grep -c "^A " "$T/hooks.txt"; }
copy_failures() { [ "$(grep -c 'file copy .* cannot be written' "$WOUTA")" -ge 2 ]; }
hooks_again() { [ "$(hooksA)" -ge $((nA + 2)) ]; }
kill -TERM "$WPIDA"
wait "$WPIDA" || fail "witness A exit status"
nA=$(hooksA)
rm -r "$T/wdA/evidence"
echo x > "$T/wdA/evidence"
start_witness A "$PA"
wait_until 10 copy_failures || fail "no copy failure logged: $(tail -5 "$WOUTA")"
sleep 0.5 # a hook run by mistake would have written its line by now
[ "$(hooksA)" = "$nA" ] || fail "the hook ran without a file copy: $(cat "$T/hooks.txt")"
grep -q ALARM "$WOUTA" && fail "alarm without a file copy: $(grep ALARM "$WOUTA")"
kill -TERM "$WPIDA"
wait "$WPIDA" || fail "witness A exit status"
rm "$T/wdA/evidence"
start_witness A "$PA"
wait_until 10 hooks_again || fail "no hook run after the copies came back: $(cat "$T/hooks.txt")"
while read -r id origin kind; do
    cmp -s "$T/wdA/evidence/$id" "$T/e.$id" || fail "file copy $id not written again"
    grep -q "^A $origin $id\$" "$T/hooks.txt" || fail "no hook run for $id ($kind)"
done < "$T/ev.$PA"

# A hanging --on-evidence command (announced again: copies deleted) is
# stopped after --on-evidence-timeout 1 with the background child it
# started; each records "<shell pid> <child pid>".
kill -TERM "$WPIDA"
wait "$WPIDA" || fail "witness A exit status"
rm -f "$T/wdA/evidence/"*
start_witness A "$PA" "sleep 30 & echo \"\$\$ \$!\" >> '$T/hang.pids'; sleep 30" \
    --on-evidence-timeout 1
timeouts() { [ "$(grep -c -- '--on-evidence command for .* timed out after 1 s' "$WOUTA")" -ge 2 ]; }
wait_until 30 timeouts || fail "no hook timeout logged: $(tail -5 "$WOUTA")"
[ "$(wc -l < "$T/hang.pids")" = 2 ] || fail "hang hooks: $(cat "$T/hang.pids")"
# gone: no such process, or a zombie that init has not collected yet.
gone() { ! kill -0 "$1" 2>/dev/null || [ "$(awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null)" = Z ]; }
all_gone() { for p in $(cat "$T/hang.pids"); do gone "$p" || return 1; done; }
wait_until 10 all_gone || fail "hook processes left after the timeout: $(cat "$T/hang.pids")"

for n in A B; do
    pid=$(eval echo \$WPID$n)
    kill -TERM "$pid"
    wait "$pid" || fail "witness $n exit status"
done
for n in one_a one_b two_a two_b; do
    pid=$(eval echo \$PID_$n)
    kill -TERM "$pid"
    wait "$pid" || fail "glasslogd $n exit status"
done
echo "13-witness-split: evidence at both witnesses after ${took}s: ok"
