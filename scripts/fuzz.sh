#!/usr/bin/env bash
# Runs every libFuzzer target for SECONDS each, starting from a copy of its
# checked-in corpus (new inputs stay in build/fuzz/corpus, not in git).
# Usage: scripts/fuzz.sh BUILD_DIR SECONDS
set -eu
build=$1 secs=$2
mkdir -p "$build/corpus"
status=0
for src in tests/fuzz/fuzz_*.c; do
    name=$(basename "$src" .c); name=${name#fuzz_}
    bin="$build/fuzz_$name"
    extra=""
    # the witness's parsers live in its own modules
    [ "$name" = witness ] && extra="witness/addck.c witness/logs.c witness/peers.c"
    # shellcheck disable=SC2086
    clang -O1 -g -fsanitize=fuzzer,address,undefined -std=c11 -D_DEFAULT_SOURCE \
        -D_POSIX_C_SOURCE=200809L -Iinclude -Ilib -Itests/fuzz "$src" $extra \
        "$build/libglasslog.a" -lcrypto -o "$bin"
    mkdir -p "$build/corpus/$name"
    cp -n tests/fuzz/corpus/"$name"/* "$build/corpus/$name/" 2>/dev/null || true
    echo "fuzz $name: ${secs}s"
    if ! "$bin" -max_total_time="$secs" -max_len=70000 -print_final_stats=1 \
        "$build/corpus/$name" > "$build/fuzz_$name.log" 2>&1; then
        echo "fuzz $name: FINDING, see $build/fuzz_$name.log"; status=1
    else
        grep -E 'stat::number_of_executed_units' "$build/fuzz_$name.log" || true
    fi
done
exit $status
