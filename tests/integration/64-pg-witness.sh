# Goal: witness cosigning is the same on every front-end of a shared
# PostgreSQL log. Two glasslogd share one database, one witness, quorum
# of that witness, block mode. The sequencer (A) gets the checkpoints
# cosigned and stores the served note; the follower (B) serves that note:
# its /checkpoint and its appends' proofs carry the witness cosignature
# and verify with the policy. With the witness down, the state grows but
# B keeps serving the last cosigned checkpoint (never one without quorum),
# and refuses a stored note its own tree does not prove. A database
# marked as a copy (a restore) signs nothing until the witness answered:
# refused without witnesses, with the witness down, and when it holds a
# larger tree; with it up and consistent it starts, the mark removed.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/pg.sh"
G="$GL_BIN/glasslog"
make_keys
one_witness
printf 'log %s\nsubmitter %s\nwitness w1 %s\nquorum w1\n' "$(cat "$T/log.key.pub")" \
    "$(sed -n 1p "$T/submitters")" "$(cat "$T/w1.key.pub")" > "$T/policy"
pg_log_db

front() { # front NAME [ARGS...]: sets PID_<NAME>, URL_<NAME>, OUT_<NAME>
    local n=$1
    shift
    spawn "glasslogd-$n" "$GL_BIN/glasslogd" --store "$DB" --key "$T/log.key" \
        --submitters "$T/submitters" --listen 127.0.0.1:0 --lease-ms 2000 --batch-ms 2 \
        --witnesses "$T/witnesses" --witness-mode block "$@" ||
        fail "front-end $n did not start: $(cat "$SPAWN_OUT")"
    eval "PID_$n=$SPAWN_PID; URL_$n=$SPAWN_URL; OUT_$n=$SPAWN_OUT"
}
leads() { grep -q "took the lease (epoch" "$1"; }
cosigs() { grep -c '^— witness1.example ' "$1"; }
served() { curl -s -o "$T/ck.$1" -w '%{http_code}' "$2/checkpoint"; }
front A --create
wait_until 10 leads "$OUT_A" || fail "A did not take the lease: $(cat "$OUT_A")"
front B
sleep 0.5
leads "$OUT_B" && fail "B took the lease while A held it"

# B serves the cosigned size-0 checkpoint the sequencer stored
ok0() { [ "$(served B "$URL_B")" = 200 ]; }
wait_until 10 ok0 || fail "B serves no checkpoint: $(cat "$T/ck.B") $(tail -5 "$OUT_B")"
[ "$(cosigs "$T/ck.B")" = 1 ] || fail "B's checkpoint lacks the cosignature: $(cat "$T/ck.B")"
[ "$(PG_DB=log pg_sql a "SELECT count(*) FROM glasslog_meta WHERE k = 'served'")" = 1 ] ||
    fail "no served checkpoint in the database"

# an append through the follower: its proof's checkpoint is cosigned
LOG_URL=$URL_B append_one app 1.0 --out "$T/b1" > "$T/one" || fail "append through B"
[ "$(cosigs "$T/b1")" = 1 ] || fail "B's proof lacks the cosignature: $(cat "$T/b1")"
grows() { served B "$URL_B" > /dev/null && [ "$(sed -n 2p "$T/ck.B")" -ge 1 ]; }
wait_until 10 grows || fail "B's checkpoint did not grow: $(cat "$T/ck.B")"
[ "$(cosigs "$T/ck.B")" = 1 ] || fail "B serves a checkpoint without cosignature"
expect_rc 0 "$G" get checkpoint --log "$URL_B" --policy "$T/policy"
[ "$(sed -n 2p "$T/out")" -ge 1 ] || fail "get checkpoint from B"
# the same note from both front-ends
served A "$URL_A" > /dev/null
cmp -s "$T/ck.A" "$T/ck.B" || fail "A and B serve different notes: $(cat "$T/ck.A" "$T/ck.B")"
# B asked no witness itself: it serves what the sequencer stored
curl -s "$URL_B/metrics" > "$T/m.B"
grep -q '^glasslog_witness_cosignatures_total{witness="w1"} 0$' "$T/m.B" ||
    fail "B pushed to the witness itself: $(grep cosignatures_total "$T/m.B")"
curl -s "$URL_A/metrics" > "$T/m.A"
grep -q '^glasslog_witness_cosignatures_total{witness="w1"} [1-9]' "$T/m.A" ||
    fail "A got no cosignature: $(grep cosignatures_total "$T/m.A")"
# and a policy naming another witness refuses it (the check is real)
"$G" keygen --name witness9.example --cosigner --out "$T/w9.key" > /dev/null
printf 'log %s\nwitness w9 %s\nquorum w9\n' "$(cat "$T/log.key.pub")" "$(cat "$T/w9.key.pub")" \
    > "$T/policy9"
expect_rc 2 "$G" get checkpoint --log "$URL_B" --policy "$T/policy9"
expect_err "not cosigned by w9"

# witness down: the tree grows, B serves no checkpoint without quorum
before=$(sed -n 2p "$T/ck.B")
# (a dump of the database as it is now, restored below behind the log)
pg_dump -Fc -h 127.0.0.1 -p "$PG_PORT_a" -U postgres -d log -f "$T/log.dump" ||
    fail "pg_dump"
stop_witness 1
LOG_URL=$URL_A append_one app 2.0 --timeout 3 > /dev/null 2>&1 &
PIDS="$PIDS $!"
size() { PG_DB=log pg_sql a "SELECT size FROM glasslog_state"; }
bigger() { [ "$(size)" -gt "$before" ]; }
wait_until 10 bigger || fail "the tree did not grow"
sleep 1
served B "$URL_B" > /dev/null
[ "$(sed -n 2p "$T/ck.B")" = "$before" ] ||
    fail "B serves size $(sed -n 2p "$T/ck.B") without quorum (cosigned: $before)"
[ "$(cosigs "$T/ck.B")" = 1 ] || fail "B's checkpoint lost its cosignature"
# B serves only a stored note its own tree proves: one whose log signature
# does not verify, one whose size is not the size stored beside it, and
# one signed by the log key with another root are each refused with a
# reason, and B keeps serving the cosigned one.
ORIGIN=$(sed -n 1p "$T/ck.B")
cp "$T/ck.B" "$T/ck.good"
put_served() { # put_served SIZE NOTE_FILE: the served row as the sequencer writes it
    PG_DB=log pg_sql a "UPDATE glasslog_meta SET v = decode('$(printf '%016x' "$1")$(od -An -v -tx1 "$2" | tr -d ' \n')', 'hex') WHERE k = 'served'" ||
        fail "cannot write the served row"
}
refused() { # refused SIZE NOTE_FILE REASON
    put_served "$1" "$2"
    wait_until 10 grep -q "served checkpoint of size $1 is not served: .*$3" "$OUT_B" ||
        fail "B did not refuse a served note ($3): $(tail -3 "$OUT_B")"
    served B "$URL_B" > /dev/null
    cmp -s "$T/ck.B" "$T/ck.good" || fail "B serves a refused note ($3): $(cat "$T/ck.B")"
}
# (the 41st base64 digit of the log's signature changed: a signature byte)
awk -v o="$ORIGIN" '$2 == o { c = substr($3, 41, 1); $3 = substr($3, 1, 40) (c == "A" ? "B" : "A") substr($3, 42) } 1' \
    "$T/ck.good" > "$T/bad.sig"
cmp -s "$T/bad.sig" "$T/ck.good" && fail "the signature was not changed"
refused "$before" "$T/bad.sig" "does not verify"
printf '%s\n%s\n%s\n' "$ORIGIN" "$((before - 1))" "$(sed -n 3p "$T/ck.good")" |
    "$G" note sign --key "$T/log.key" > "$T/small.note" || fail "note sign"
refused "$before" "$T/small.note" "its size is not the one stored beside it"
printf '%s\n%s\n%s\n' "$ORIGIN" "$before" "$(printf 'not the root' | openssl dgst -sha256 -binary | base64)" |
    "$G" note sign --key "$T/log.key" > "$T/root.note" || fail "note sign"
refused "$before" "$T/root.note" "its root is not this front-end's tree's root at that size"
put_served "$before" "$T/ck.good"
# the witness back: B catches up with a cosigned checkpoint of the new size
start_witness 1 "$T/logs"
caught() { served B "$URL_B" > /dev/null && [ "$(sed -n 2p "$T/ck.B")" -gt "$before" ]; }
wait_until 30 caught || fail "B did not serve the new size once cosigned: $(cat "$T/ck.B")"
[ "$(cosigs "$T/ck.B")" = 1 ] || fail "B's new checkpoint lacks the cosignature"

# A restored database is a copy once the operator marks it so (README,
# "Backup"): the dump of size $before, restored while the witness holds
# more, starts neither without witnesses (nothing shows it current) nor
# with the witness (which holds a larger tree).
kill -TERM "$PID_A" "$PID_B"
wait "$PID_A" && wait "$PID_B" || fail "a front-end exited $? on SIGTERM"
MARK="INSERT INTO glasslog_meta (k, v) VALUES ('copy', '1') ON CONFLICT (k) DO NOTHING"
pg_sql a "CREATE DATABASE restored"
pg_restore -h 127.0.0.1 -p "$PG_PORT_a" -U postgres -d restored "$T/log.dump" ||
    fail "pg_restore"
PG_DB=restored pg_sql a "$MARK" || fail "marking the restored database"
copy_start() { # copy_start URL [ARGS...]: a start that must be refused
    local url=$1
    shift
    expect_rc 1 timeout 20 "$GL_BIN/glasslogd" --store "$url" --key "$T/log.key" \
        --submitters "$T/submitters" --listen 127.0.0.1:0 --lease-ms 2000 "$@"
}
copy_start "$PG_URL_a/restored"
expect_err "this store is a copy (backup or restore), which may be older"
copy_start "$PG_URL_a/restored" --witnesses "$T/witnesses"
expect_err "witness w1 has cosigned size .* but this log has only $before"
# The live database marked: with the witness down, refused (it did not
# answer); with it up (it holds this tree) a front-end starts, and the
# mark is gone (committed before anything is signed).
PG_DB=log pg_sql a "$MARK" || fail "marking the database"
stop_witness 1
copy_start "$DB" --witnesses "$T/witnesses"
expect_err "this store is a copy (backup or restore) and witness w1 did not answer"
start_witness 1 "$T/logs"
front C
grep -q "every witness answered without conflict" "$OUT_C" || fail "copy: $(cat "$OUT_C")"
[ "$(PG_DB=log pg_sql a "SELECT count(*) FROM glasslog_meta WHERE k = 'copy'")" = 0 ] ||
    fail "the copy mark is still there"
echo "64-pg-witness: ok"
