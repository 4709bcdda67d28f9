# Goal: the CLI's keygen and note commands interoperate with Go's
# sumdb/note formats: the Go known-answer note is reproduced byte for byte,
# Go-signed notes verify, generated keys have the exact file formats and
# modes (written whole through a temporary file, none left), and every
# misuse exits non-zero with a reason (a private key given as a verifier
# key is not echoed).
. "$(dirname "$0")/lib.sh"
G="$GL_BIN/glasslog"
V="$GL_VECTORS/notes"

for b in glasslog glasslogd glasslog-witness; do
    expect_rc 0 "$GL_BIN/$b" --help
    grep -q usage "$T/out" || fail "$b --help prints no usage"
    expect_rc 0 "$GL_BIN/$b" --version
    grep -q "^$b [0-9]" "$T/out" || fail "$b --version"
done

# Numeric options are parsed strictly in all three programs: a number
# with trailing junk, a sign or out of range is refused with the option's
# name, before anything else is done (no key, file or port is touched).
for v in 10x -5 0 86401 ""; do
    expect_rc 3 "$G" append --log http://127.0.0.1:9 --key "$T/none.key" --kind build \
        --subject s --version 1 --sha256 "$(printf '%064d' 0)" --timeout "$v"
    expect_err "^glasslog: --timeout takes a number from 1 to 86400, not '$v'"
done
for o in lookup get; do
    expect_rc 3 "$G" "$o" --log http://127.0.0.1:9 --policy "$T/none" --timeout 10x
    expect_err "--timeout takes a number from 1 to 86400, not '10x'"
done
expect_rc 3 "$G" monitor --log http://127.0.0.1:9 --policy "$T/none" --state "$T/st" --threads 2x
expect_err "--threads takes a number from 1 to 64, not '2x'"
for v in 10x -1 " 5" 10001; do
    expect_rc 2 "$GL_BIN/glasslogd" --store mem: --key "$T/none.key" --submitters "$T/none" \
        --batch-ms "$v"
    expect_err "^glasslogd: batch-ms must be a whole number from 0 to 10000, not \"$v\""
done
for v in 10x 0 86401; do
    expect_rc 2 "$GL_BIN/glasslog-witness" --data "$T/w" --key "$T/none.key" --logs "$T/none" \
        --poll-interval "$v"
    expect_err "^glasslog-witness: poll-interval must be a whole number from 1 to 86400, not \"$v\""
done
# A listen address is checked with the options, before anything is opened
# (a --create start made the store, then failed to bind, and every start
# after refused the --create).
expect_rc 2 "$GL_BIN/glasslogd" --data "$T/d" --key "$T/none.key" --submitters "$T/none" \
    --listen nonsense --create
expect_err "^glasslogd: listen takes ADDR:PORT or \\[ADDR\\]:PORT, not \"nonsense\""
[ ! -e "$T/d" ] || fail "glasslogd made its data directory despite a bad listen address"
for o in listen mirror-listen; do
    expect_rc 2 "$GL_BIN/glasslog-witness" --data "$T/w" --key "$T/none.key" --logs "$T/none" \
        --$o 1.2.3:80
    expect_err "^glasslog-witness: $o takes ADDR:PORT or \\[ADDR\\]:PORT, not \"1.2.3:80\""
done
[ ! -e "$T/w" ] || fail "the witness touched its data directory despite a bad option"
# The same table reads a config file: line numbers in errors; flags win.
printf '# settings\nbatch-ms 7x\n' > "$T/log.conf"
expect_rc 2 "$GL_BIN/glasslogd" --config "$T/log.conf" --store mem: --key "$T/none.key" \
    --submitters "$T/none"
expect_err "batch-ms must be a whole number from 0 to 10000, not \"7x\""
expect_err "$T/log.conf:2: batch-ms must be a whole number"
printf 'poll-interval 5\nno-such-setting 1\n' > "$T/w.conf"
expect_rc 2 "$GL_BIN/glasslog-witness" --config "$T/w.conf" --data "$T/w" --key "$T/none.key" \
    --logs "$T/none"
expect_err "$T/w.conf:2: unknown setting \"no-such-setting\""
# "#" starts a comment at the start of a line only: one after a value is
# refused (it would become part of the value).
printf 'listen 127.0.0.1:0 # the port\n' > "$T/log.conf"
expect_rc 2 "$GL_BIN/glasslogd" --config "$T/log.conf" --store mem: --key "$T/none.key" \
    --submitters "$T/none"
expect_err "$T/log.conf:1: listen: a \"#\" after the value: a comment takes a line of its own"

# Known answer: Go's peter note.
expect_rc 0 "$G" note sign --key "$V/peter.key" "$V/peter.text"
cmp -s "$T/out" "$V/peter.note" || fail "note sign differs from Go's peter.note"
expect_rc 0 "$G" note sign --key "$V/log.key" < "$V/checkpoint.text"
cmp -s "$T/out" "$V/checkpoint.note" || fail "checkpoint signature differs"

# Verify: inline key, @FILE, two keys, unknown key, tampering.
expect_rc 0 "$G" note verify --vkey "$(cat "$V/peter.vkey")" "$V/peter.note"
cmp -s "$T/out" "$V/peter.text" || fail "verify must print exactly the text"
expect_rc 0 "$G" note verify --vkey "@$V/enoch.vkey" "$V/two-signatures.note"
expect_rc 0 "$G" note verify --vkey "@$V/enoch.vkey" --vkey "@$V/peter.vkey" < "$V/two-signatures.note"
expect_rc 1 "$G" note verify --vkey "@$V/enoch.vkey" "$V/peter.note"
expect_err "no signature by any"
sed 's/cryptography/cryptoGraphy/' "$V/peter.note" > "$T/tampered"
expect_rc 1 "$G" note verify --vkey "@$V/peter.vkey" "$T/tampered"
expect_err "bad signature by PeterNeumann"
[ ! -s "$T/out" ] || fail "nothing on stdout when not verified"
printf 'garbage\n' > "$T/garbage"
expect_rc 1 "$G" note verify --vkey "@$V/peter.vkey" "$T/garbage"
expect_err "garbage: not a valid signed note: no blank line between the text and the signatures"
expect_rc 1 "$G" note verify --vkey "not-a-key" "$V/peter.note"
expect_err "not-a-key: not a valid verifier key: not a key: want <name>+<id>+<base64>"
# a key file named without its "@": the message says how to give a file
expect_rc 1 "$G" note verify --vkey "$V/peter.vkey" "$V/peter.note"
expect_err "not a valid verifier key (a file: give @FILE for the key in it)"
expect_rc 1 "$G" note verify "$V/peter.note"

# Cosignatures in a note are ignored by note verify (unknown to it).
expect_rc 0 "$G" note verify --vkey "@$V/log.vkey" "$V/checkpoint-cosigned.note"

# keygen: formats, modes, no overwrite.
expect_rc 0 "$G" keygen --name example.com/test --out "$T/k"
[ "$(stat -c %a "$T/k")" = 600 ] || fail "private key mode is not 0600"
[ "$(wc -l < "$T/k")" = 1 ] && [ "$(wc -l < "$T/k.pub")" = 1 ] || fail "one line each"
grep -Eq '^PRIVATE\+KEY\+example\.com/test\+[0-9a-f]{8}\+[A-Za-z0-9+/]{44}$' "$T/k" || fail "signer format"
grep -Eq '^example\.com/test\+[0-9a-f]{8}\+[A-Za-z0-9+/]{44}$' "$T/k.pub" || fail "verifier format"
cmp -s "$T/out" "$T/k.pub" || fail "keygen prints the verifier key"
# The type byte is 0x01 for note keys: base64 of 0x01 || ... starts with "A".
[ "$(cut -d+ -f3- "$T/k.pub" | cut -c1)" = "A" ] || fail "note key type byte"
expect_rc 3 "$G" keygen --name example.com/test --out "$T/k"
expect_err "refusing to overwrite"
# A private key given where a verifier key belongs is not echoed.
expect_rc 3 "$G" evidence verify --log-vkey "$(cat "$T/k")" /dev/null
expect_err "a private key (not shown): not a valid verifier key"
! grep -qF "$(cut -d+ -f5 "$T/k")" "$T/err" || fail "a private key given as --log-vkey is echoed"
ls "$T" | grep -q '\.tmp-' && fail "keygen left a temporary file"
expect_rc 3 "$G" keygen --name "bad name" --out "$T/k2"
expect_err "invalid key name"
# A refused name is quoted without its control bytes (ESC, DEL, C1 CSI).
expect_rc 3 "$G" keygen --name "$(printf 'a\033[31mb\177c\302\233')" --out "$T/k2"
expect_err "invalid key name 'a?\[31mb?c??'"
! LC_ALL=C grep -q "$(printf '[\033\177\302]')" "$T/err" || fail "keygen echoes control bytes"
[ ! -e "$T/k2" ] || fail "no file on error"
expect_rc 3 "$G" keygen --out "$T/k3"

# A generated key signs, and its .pub verifies (@FILE form).
printf 'hello world\n' > "$T/text"
expect_rc 0 "$G" note sign --key "$T/k" "$T/text"
cp "$T/out" "$T/signed"
expect_rc 0 "$G" note verify --vkey "@$T/k.pub" "$T/signed"
cmp -s "$T/out" "$T/text" || fail "round trip text"

# Cosigner keys: 0x04 type, refused for notes.
expect_rc 0 "$G" keygen --name example.org/w --out "$T/w" --cosigner
[ "$(cut -d+ -f3- "$T/w.pub" | cut -c1)" = "B" ] || fail "cosig key type byte 0x04"
expect_rc 3 "$G" note sign --key "$T/w" "$T/text"
expect_err "cosigning key"
# Text rules: missing final newline, control characters.
printf 'no newline' > "$T/bad"
expect_rc 3 "$G" note sign --key "$T/k" "$T/bad"
expect_err "bad:1: not note text: the last line does not end with a newline"
printf 'a\nb\tc\n' > "$T/bad"
expect_rc 3 "$G" note sign --key "$T/k" "$T/bad"
expect_err "bad:2: not note text: control character 0x09"
expect_rc 3 "$G" note sign --key "$T/missing" "$T/text"
expect_err "cannot read"
expect_rc 3 "$G" frobnicate
expect_err "unknown command"
# Output that cannot be written is an error (exit 3), not a success
# with nothing printed: a script would record an empty result.
"$G" note sign --key "$T/k" "$T/text" > /dev/full 2> "$T/err" && fail "note sign to a full disk exited 0"
for cmd in "keygen --name full.example --out $T/full" "policy check $T/missing" "--version"; do
    # shellcheck disable=SC2086 # the words of the command
    "$G" $cmd > /dev/full 2> "$T/err"
    rc=$?
    [ "$rc" -eq 3 ] || fail "'glasslog $cmd > /dev/full' exited $rc, want 3"
    case $cmd in policy*) expect_err "cannot read" ;; *) expect_err "cannot write standard output" ;; esac
done
# A private key others can read is used, with a warning.
cp "$T/k" "$T/k.open" && chmod 644 "$T/k.open"
expect_rc 0 "$G" note sign --key "$T/k.open" "$T/text"
expect_err "warning: the private key $T/k.open can be read by other users"
expect_rc 0 "$G" note sign --key "$T/k" "$T/text"
[ -s "$T/err" ] && fail "a warning for a private key of mode 0600: $(cat "$T/err")"
# An append to a URL that can never work fails at once, not after
# retrying until --timeout.
start=$(date +%s)
expect_rc 3 "$G" append --log ftp://127.0.0.1:1 --key "$T/k" --kind build --subject s --version 1 \
    --sha256 "$(printf '%064x' 1)" --timeout 20
expect_err "bad URL.*: not retried"
[ $(($(date +%s) - start)) -lt 5 ] || fail "a bad URL was retried for $(($(date +%s) - start)) s"
echo "01-keys-notes: ok"
