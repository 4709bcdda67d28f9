# Goal: the transparency centre end to end. A log (glasslogd), two
# witnesses and two mirrors (each glasslog-witness process is witness N
# and, with a key of its own, mirror N; both list witnesses 1 and 2 for the
# log). glasslogd needs both witnesses' cosignatures and pushes its served
# checkpoint to both mirrors, so each mirror checkpoint carries the log's
# signature, both witness cosignatures (byte for byte the lines the log
# served: tlog-cosignature signs their timestamps) and the mirror's own,
# nothing else. A third centre that pulls the log gets the same witness
# cosignatures from the log's checkpoint (not its own, unlisted). With the
# log stopped, a customer reads through the mirrors alone under a policy
# requiring both witnesses and one mirror: checkpoint, monitor, lookup and
# the saved bundle offline; a policy requiring three witnesses fails
# (exit 2), offline too. The mirror checkpoint survives a restart byte for
# byte; the same checkpoint sent again with a forged witness1 line, a newer
# witness2 cosignature and an unlisted witness's takes only the newer
# witness2 line, persisted; with mirror 1 stopped, mirror 2 answers.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/tools/client-lib.sh"
need_py_crypto
PY="$(dirname "$0")/mirror.py"
make_keys
for k in w1:witness1 w2:witness2 w3:witness3 m1:mirror1 m2:mirror2 m3:mirror3; do
    "$G" keygen --name "${k#*:}.example" --cosigner --out "$T/${k%:*}.key" > /dev/null ||
        fail keygen
done
# six free ports in one interpreter (python starts slowly on a loaded machine)
read -r PORT1 PORT2 PORT3 MPORT1 MPORT2 MPORT3 <<< "$(free_port 6)"
LOGK=$(cat "$T/log.key.pub") SUBK=$(cat "$T/sub.key.pub")
HEX=$(printf %s example.com/log | sha256sum | cut -c1-64)
M1="http://127.0.0.1:$MPORT1/mirror/$HEX"
M2="http://127.0.0.1:$MPORT2/mirror/$HEX"
printf 'logs/v0\nvkey %s\nmirror\nwitness %s\nwitness %s\n' "$LOGK" \
    "$(cat "$T/w1.key.pub")" "$(cat "$T/w2.key.pub")" > "$T/logs"
sw() { # sw N: witness N, mirror N
    start_witness "$1" "$T/logs" --mirror-key "$T/m$1.key" \
        --mirror-listen "127.0.0.1:$(eval echo \$MPORT$1)"
}
sw 1
sw 2
{
    for n in 1 2; do echo "witness w$n $(cat "$T/w$n.key.pub") http://127.0.0.1:$(eval echo \$PORT$n)"; done
    echo "group both 2 w1 w2"
    echo "quorum both"
} > "$T/witnesses"
for m in 1 2; do
    echo "mirror mirror$m.example $(cat "$T/m$m.key.pub") http://127.0.0.1:$(eval echo \$MPORT$m)"
done > "$T/mirrors"
# no re-signing: the served cosignatures stay the ones compared below
start_log "$T/data" --create --batch-ms 2 --checkpoint-interval 0 --witnesses "$T/witnesses" \
    --mirrors "$T/mirrors"

echo 'release 5.0' > "$T/app.bin"
"$G" append --log "$LOG_URL" --key "$T/sub.key" --kind build --subject my-app --version 5.0 \
    --file "$T/app.bin" > /dev/null || fail "append"
for i in 1 2 3 4; do append_one filler "$i" > /dev/null || fail "append filler $i"; done
N=5
# every mirror checkpoint at N with both witness cosignatures and its own
full() { # full URL MIRRORNAME: the checkpoint at N has the three cosignatures
    curl -sf "$1/checkpoint" > "$T/full.tmp" && [ "$(sed -n 2p "$T/full.tmp")" = $N ] &&
        grep -q "^— witness1.example " "$T/full.tmp" &&
        grep -q "^— witness2.example " "$T/full.tmp" && grep -q "^— $2 " "$T/full.tmp"
}
for m in 1 2; do
    wait_until 30 full "$(eval echo \$M$m)" "mirror$m.example" ||
        fail "mirror $m never carried both witness cosignatures at $N: $(curl -s "$(eval echo \$M$m)/checkpoint"; grep -i mirror "$LOG_OUT" | tail -3)"
done
# a third centre pulls the log (url line): its mirror checkpoint takes the
# listed witnesses' cosignatures from the log's checkpoint; its own
# witness (w3) is not listed, so its cosignature is not served
printf 'logs/v0\nvkey %s\nurl %s\nmirror\nwitness %s\nwitness %s\n' "$LOGK" "$LOG_URL" \
    "$(cat "$T/w1.key.pub")" "$(cat "$T/w2.key.pub")" > "$T/logs3"
start_witness 3 "$T/logs3" --mirror-key "$T/m3.key" --mirror-listen "127.0.0.1:$MPORT3" \
    --poll-interval 1
M3="http://127.0.0.1:$MPORT3/mirror/$HEX"
wait_until 30 full "$M3" mirror3.example ||
    fail "the pulling mirror never carried both witness cosignatures at $N: $(curl -s "$M3/checkpoint"; grep -i mirror "$WOUT3" | tail -3)"
grep -q "^— witness3.example " "$T/full.tmp" && fail "the pulling mirror serves its unlisted witness's line"
[ "$(grep -c '^— ' "$T/full.tmp")" = 4 ] || fail "mirror 3: not 4 lines: $(cat "$T/full.tmp")"
stop_witness 3
curl -sf "$LOG_URL/checkpoint" > "$T/logck" || fail "log checkpoint"
[ "$(sed -n 2p "$T/logck")" = $N ] || fail "the log serves $(sed -n 2p "$T/logck"), not $N"
stop_log

# each mirror checkpoint: the log's note text and signature, the witnesses'
# lines exactly as the log served them, one mirror line that verifies, and
# nothing else
sed '/^$/q' "$T/logck" > "$T/text"
sed -n '1,/^$/p;/^— example.com\/log /p' "$T/logck" > "$T/text.note" # the log-signed note
for m in 1 2; do
    curl -sf "$(eval echo \$M$m)/checkpoint" > "$T/m$m.ck" || fail "mirror $m checkpoint"
    sed '/^$/q' "$T/m$m.ck" | cmp -s - "$T/text" || fail "mirror $m: another text"
    for who in example.com/log witness1.example witness2.example; do
        grep "^— $who " "$T/logck" > "$T/want" || fail "the log served no line of $who"
        grep "^— $who " "$T/m$m.ck" | cmp -s - "$T/want" ||
            fail "mirror $m: the line of $who differs from the log's: $(cat "$T/m$m.ck")"
    done
    [ "$(grep -c '^— ' "$T/m$m.ck")" = 4 ] || fail "mirror $m: not 4 lines: $(cat "$T/m$m.ck")"
done
# the mirror cosignature checked by an independent implementation
python3 "$PY" cosig-check "$T/m1.ck" "$T/m1.key.pub" mirror1.example || fail "mirror 1 cosignature"

W12="witness w1 $(cat "$T/w1.key.pub")
witness w2 $(cat "$T/w2.key.pub")"
M12="mirror m1 $(cat "$T/m1.key.pub")
mirror m2 $(cat "$T/m2.key.pub")"
policy "$T/policy" "log $LOGK" "submitter $SUBK" "$W12" "$M12" \
    "group ws all w1 w2" "group ms any m1 m2" "group need all ws ms" "quorum need"
policy "$T/policy3" "log $LOGK" "submitter $SUBK" "$W12" "witness w3 $(cat "$T/w3.key.pub")" \
    "$M12" "group ws all w1 w2 w3" "group ms any m1 m2" "group need all ws ms" "quorum need"
for m in 1 2; do # this mirror's own checkpoint meets both witnesses and itself
    policy "$T/policy.m$m" "log $LOGK" "submitter $SUBK" "$W12" "$M12" \
        "group ws all w1 w2" "group need all ws m$m" "quorum need"
    expect_rc 0 "$G" get checkpoint --log "$(eval echo \$M$m)" --policy "$T/policy.m$m" --timeout 5
done
expect_rc 0 "$G" policy check "$T/policy"
expect_rc 0 "$G" policy check "$T/policy3"
expect_rc 0 "$G" get checkpoint --log "$M1,$M2" --policy "$T/policy" --timeout 5
expect_err "verified: log example.com/log, tree size $N"
mon() { # mon STATE POLICY: one monitor pass through the mirrors
    "$G" monitor --log "$M1,$M2" --policy "$2" --state "$1" --once --no-progress --timeout 5
}
expect_rc 0 mon "$T/s1" "$T/policy"
expect_out "tree size $N, verified, no alarm"
# three witnesses required: only two cosigned
expect_rc 2 "$G" get checkpoint --log "$M1,$M2" --policy "$T/policy3" --timeout 5
expect_rc 2 mon "$T/s3" "$T/policy3"
ID=$(ls "$T/s1")
[ -e "$T/s3/$ID/checkpoint" ] && fail "a checkpoint without quorum was stored"
# the lookup through the mirrors alone (their JSON read API), the bundle
# it saves verified offline; three witnesses required: exit 2
expect_rc 0 "$G" lookup --log "$M1,$M2" --policy "$T/policy" --state "$T/ls" \
    --out "$T/bundles" --timeout 5 "$T/app.bin"
expect_out "in log example.com/log at tree size $N"
B="$T/bundles/0.tlog-proof"
[ -f "$B" ] || fail "no bundle saved"
for who in witness1.example witness2.example mirror1.example; do
    grep -q "^— $who " "$B" || fail "the bundle lacks the cosignature of $who"
done
expect_rc 0 "$G" verify --policy "$T/policy" --bundle "$B" --artifact "$T/app.bin"
expect_rc 2 "$G" verify --policy "$T/policy3" --bundle "$B" --artifact "$T/app.bin"
expect_rc 2 "$G" lookup --log "$M1,$M2" --policy "$T/policy3" --state "$T/ls3" \
    --timeout 5 "$T/app.bin"
expect_err "the cosignatures do not satisfy the policy's quorum"

# restarted, mirror 1 serves the same checkpoint, byte for byte
stop_witness 1
sw 1
curl -sf "$M1/checkpoint" | cmp -s - "$T/m1.ck" ||
    fail "mirror 1 checkpoint changed across a restart: $(curl -s "$M1/checkpoint")"
# the same checkpoint again with a forged witness1 line, a newer witness2
# cosignature (in place of the older: a witness's first line in a note is
# its line there) and one by witness 3 (not listed): only the newer
# witness2 line is taken (an empty upload at N then makes the mirror
# checkpoint); the forged and the unlisted lines are never served
cosign_tool
"$COSIGN" "$T/w2.key" $(($(date +%s) + 100)) < "$T/text.note" > "$T/w2new.note" 2> "$T/err" ||
    fail "cosign w2: $(cat "$T/err")"
"$COSIGN" "$T/w3.key" "$(date +%s)" < "$T/text.note" > "$T/w3.note" 2> "$T/err" ||
    fail "cosign w3: $(cat "$T/err")"
W2NEW=$(grep "^— witness2.example " "$T/w2new.note")
W3=$(grep "^— witness3.example " "$T/w3.note")
W1=$(grep "^— witness1.example " "$T/logck")
C=${W1: -6:1}
[ "$C" = A ] && C=B || C=A
FORGED="${W1:0:${#W1}-6}$C${W1: -5}" # one signature character changed
{
    printf 'old %s\n\n' "$N"
    grep -v -e "^— witness1.example " -e "^— witness2.example " "$T/logck"
    printf '%s\n%s\n%s\n' "$FORGED" "$W2NEW" "$W3"
} > "$T/forged"
# an empty upload at N: u16 origin length, origin, u64 start, u64 end, u16 ticket length
U64="\0\0\0\0\0\0\0\x$(printf %02x "$N")"
printf "\x00\x0fexample.com/log$U64$U64\0\0" > "$T/upload"
[ "$(wc -c < "$T/upload")" = 35 ] || fail "the upload header is $(wc -c < "$T/upload") bytes"
MW1="http://127.0.0.1:$MPORT1"
CODE=$(curl -s -o "$T/out" -w '%{http_code}' --data-binary "@$T/forged" "$MW1/add-checkpoint")
[ "$CODE" = 200 ] || fail "add-checkpoint of the same checkpoint: $CODE $(cat "$T/out")"
CODE=$(curl -s -o "$T/out" -w '%{http_code}' --data-binary "@$T/upload" "$MW1/add-entries")
[ "$CODE" = 200 ] || fail "empty upload at $N: $CODE $(cat "$T/out")"
curl -sf "$M1/checkpoint" > "$T/m1.ck2" || fail "mirror 1 checkpoint"
[ "$(grep -c "^— witness1.example " "$T/m1.ck2")" = 1 ] || fail "witness1 lines: $(cat "$T/m1.ck2")"
grep -qF -- "$FORGED" "$T/m1.ck2" && fail "the forged witness1 line is served"
[ "$(grep "^— witness2.example " "$T/m1.ck2")" = "$W2NEW" ] ||
    fail "the newer witness2 cosignature was not taken: $(cat "$T/m1.ck2")"
grep -q "^— witness3.example " "$T/m1.ck2" && fail "an unlisted witness's line is served"
[ "$(grep -c '^— ' "$T/m1.ck2")" = 4 ] || fail "mirror 1: not 4 lines: $(cat "$T/m1.ck2")"
# the witness1 and mirror1 lines served verify (mirror 1's own policy)
expect_rc 0 "$G" get checkpoint --log "$M1" --policy "$T/policy.m1" --timeout 5
stop_witness 1
sw 1
curl -sf "$M1/checkpoint" | cmp -s - "$T/m1.ck2" || fail "the merged checkpoint was not persisted"
stop_witness 1
expect_rc 0 "$G" get checkpoint --log "$M1,$M2" --policy "$T/policy" --timeout 5
expect_err "verified: log example.com/log, tree size $N"
stop_witness 2
echo "56-mirror-quorum: ok"
