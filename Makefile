# glasslog build: plain GNU make. `make` builds lib/libglasslog.a and bin/*;
# `make test` runs every test; `make check` runs them under ASan+UBSan.
# Targets install the missing Debian packages they need first
# (scripts/deps.sh): `make`, `make install` and `make run` only what the
# build and the programs need (`make build-deps`); the tests, benchmarks,
# lint and fuzzing everything (`make deps`: build-deps and test-deps).

CC      ?= cc
O       ?= build
BIN     ?= bin
LIBA    ?= lib/libglasslog.a
NETA    ?= lib/libglasslog-net.a
SAN     ?=
VERSION := 0.1.0

PKGS    := openssl libuv libh2o libcurl libcjson rocksdb cmocka libpq
WARN    := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
           -Wformat=2 -Wvla
# assert() is on in every build (no -DNDEBUG here or in `make check`):
# README, Conventions.
CFLAGS  ?= -O2 -g
# ALL_CFLAGS: what every compile uses; CFLAGS (optimisation, debug) may be
# overridden on the command line without losing these.
ALL_CFLAGS = $(CFLAGS) -std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -pthread $(WARN) \
           -Iinclude -Ilib -DGL_VERSION='"$(VERSION)"' -MMD -MP $(SAN)
ALL_LDFLAGS = $(LDFLAGS) -pthread $(SAN)
CRYPTO_LIBS := -lcrypto
NET_CFLAGS  := $(shell pkg-config --cflags libh2o libuv openssl libcurl 2>/dev/null)
NET_LIBS    := $(shell pkg-config --libs libh2o libuv openssl libcurl 2>/dev/null)
STORE_LIBS  = -lrocksdb $(PG_LIBS)
# The PostgreSQL backend (log/store_pg.c only): glasslogd and what links
# the log's modules.
PG_CFLAGS   := $(shell pkg-config --cflags libpq 2>/dev/null)
PG_LIBS     := $(shell pkg-config --libs libpq 2>/dev/null || echo -lpq)
JSON_LIBS   := -lcjson
CMOCKA_LIBS := -lcmocka

LIB_SRCS   := $(wildcard lib/*.c)
LIB_OBJS   := $(LIB_SRCS:%.c=$(O)/%.o)
NET_SRCS   := $(wildcard lib/net/*.c)
NET_OBJS   := $(NET_SRCS:%.c=$(O)/%.o)
CLIENT_SRCS := $(wildcard client/*.c)
LOG_SRCS   := $(wildcard log/*.c)
WIT_SRCS   := $(wildcard witness/*.c)
UNIT_SRCS  := $(wildcard tests/unit/test_*.c)
UNIT_BINS  := $(UNIT_SRCS:tests/unit/%.c=$(O)/tests/unit/%)
FUZZ_SRCS  := $(wildcard tests/fuzz/fuzz_*.c)
REPLAY_BINS := $(FUZZ_SRCS:tests/fuzz/fuzz_%.c=$(O)/tests/fuzz/replay_%)
BENCH_BINS := $(O)/tests/bench/bench_core $(O)/tests/bench/loadgen
PROGS      := $(BIN)/glasslog $(BIN)/glasslogd $(BIN)/glasslog-witness

.PHONY: all deps build-deps test-deps test check lint format bench bench-mirror bench-core bench-log bench-cosign bench-monitor fuzz run clean \
    test-build soak install
.DEFAULT_GOAL := all

# Builds run one job per core unless the command line says otherwise
# (make -jN): the suite's two trees are most of a cold CI's build time.
JOBS    ?= $(shell nproc 2>/dev/null || echo 1)
PAR      = $(if $(filter -j% --jobserver%,$(MAKEFLAGS)),,-j$(JOBS))

all: build-deps
	@$(MAKE) --no-print-directory $(PAR) build-all

.PHONY: build-all
build-all: $(LIBA) $(NETA) $(PROGS)

# deps: everything (build-deps and test-deps). test-deps alone installs
# the test tools (and npm ci in tests/browser) without the build's packages.
deps:
	@scripts/deps.sh build test

build-deps:
	@scripts/deps.sh build

test-deps:
	@scripts/deps.sh test

$(O)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(if $(filter lib/net/% log/% witness/% client/% tests/%,$<),$(NET_CFLAGS) -Ilib/net) $(if $(filter log/store_pg.c tests/unit/test_log_store.c,$<),$(PG_CFLAGS)) -c $< -o $@

$(LIBA): $(LIB_OBJS)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

# The network adapters (h2o server, libcurl client): a separate archive so
# the pure core links alone.
$(O)/lib/net/%.o: lib/net/%.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(NET_CFLAGS) -c $< -o $@

$(NETA): $(NET_OBJS)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

# Each program is its main.o plus an internal archive of its modules, so
# tests and tools link the modules they use (the linker takes only those)
# instead of compiling them again.
LOG_ARCH := $(O)/log/liblog.a
WIT_ARCH := $(O)/witness/libwitness.a
CLIENT_ARCH := $(O)/client/libclient.a
$(LOG_ARCH): $(filter-out $(O)/log/main.o,$(LOG_SRCS:%.c=$(O)/%.o))
$(WIT_ARCH): $(filter-out $(O)/witness/main.o,$(WIT_SRCS:%.c=$(O)/%.o))
$(CLIENT_ARCH): $(filter-out $(O)/client/main.o,$(CLIENT_SRCS:%.c=$(O)/%.o))
$(LOG_ARCH) $(WIT_ARCH) $(CLIENT_ARCH):
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

$(BIN)/glasslog: $(O)/client/main.o $(CLIENT_ARCH) $(NETA) $(LIBA)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(JSON_LIBS) $(NET_LIBS) $(CRYPTO_LIBS)

# glasslogd gzips its uploads to mirrors (zlib).
$(BIN)/glasslogd: $(O)/log/main.o $(LOG_ARCH) $(NETA) $(LIBA)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(STORE_LIBS) $(JSON_LIBS) $(NET_LIBS) $(CRYPTO_LIBS) -lz

# The witness's mirror role keeps its copies with the log's store and tree
# code (LOG_ARCH) and gunzips uploads (zlib).
$(BIN)/glasslog-witness: $(O)/witness/main.o $(WIT_ARCH) $(LOG_ARCH) $(NETA) $(LIBA)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(STORE_LIBS) $(JSON_LIBS) $(NET_LIBS) $(CRYPTO_LIBS) -lz

# Unit tests named test_log_*, test_witness_*, test_client_* link that
# program's modules.
$(O)/tests/unit/test_witness_%: $(O)/tests/unit/test_witness_%.o $(O)/tests/unit/testutil.o \
    $(WIT_ARCH) $(LOG_ARCH) $(NETA) $(LIBA)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(CMOCKA_LIBS) $(STORE_LIBS) $(JSON_LIBS) $(NET_LIBS) \
	    $(CRYPTO_LIBS) -lz

$(O)/tests/unit/test_log_%: $(O)/tests/unit/test_log_%.o $(O)/tests/unit/testutil.o \
    $(LOG_ARCH) $(NETA) $(LIBA)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(CMOCKA_LIBS) $(STORE_LIBS) $(JSON_LIBS) $(NET_LIBS) \
	    $(CRYPTO_LIBS) -lz

$(O)/tests/unit/test_client_%: $(O)/tests/unit/test_client_%.o $(O)/tests/unit/testutil.o \
    $(CLIENT_ARCH) $(NETA) $(LIBA)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(CMOCKA_LIBS) $(JSON_LIBS) $(NET_LIBS) $(CRYPTO_LIBS)

$(O)/tests/unit/%: $(O)/tests/unit/%.o $(O)/tests/unit/testutil.o $(NETA) $(LIBA)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(CMOCKA_LIBS) $(JSON_LIBS) $(NET_LIBS) $(CRYPTO_LIBS)

# Fuzz targets: replay_NAME (the corpus replayer, `make test`) and, in
# the libFuzzer tree of `make fuzz`, fuzz_NAME. A target of a program's
# own parsers links that program's modules (FUZZ_WITH_NAME).
FUZZ_NAMES := $(FUZZ_SRCS:tests/fuzz/fuzz_%.c=%)
FUZZ_WITH_witness := $(WIT_ARCH) $(LOG_ARCH)
FUZZ_WITH_config := $(LOG_ARCH)
FUZZ_WITH_expect := $(CLIENT_ARCH)
FUZZ_WITH_chainpending := $(CLIENT_ARCH)
FUZZ_WITH_mirrorpush := $(LOG_ARCH)
FUZZ_WITH_mirrorresp := $(LOG_ARCH)
FUZZ_LIBS := $(STORE_LIBS) $(JSON_LIBS) $(NET_LIBS) $(CRYPTO_LIBS) -lz
define fuzz_rules
$(O)/tests/fuzz/replay_$(1): $(O)/tests/fuzz/fuzz_$(1).o $(O)/tests/fuzz/replay.o \
    $(FUZZ_WITH_$(1)) $(NETA) $(LIBA)
	$$(CC) $$(ALL_LDFLAGS) -o $$@ $$^ $$(FUZZ_LIBS)
$(O)/tests/fuzz/fuzz_$(1): $(O)/tests/fuzz/fuzz_$(1).o $(FUZZ_WITH_$(1)) $(NETA) $(LIBA)
	$$(CC) $$(ALL_LDFLAGS) -fsanitize=fuzzer -o $$@ $$^ $$(FUZZ_LIBS)
endef
$(foreach t,$(FUZZ_NAMES),$(eval $(call fuzz_rules,$(t))))

$(O)/tests/bench/bench_core: $(O)/tests/bench/bench_core.o $(LIBA)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(CRYPTO_LIBS)

# The mirror's catch-up benchmark links the witness and log modules.
$(O)/tests/bench/bench_mirror: $(O)/tests/bench/bench_mirror.o $(WIT_ARCH) $(LOG_ARCH) \
    $(NETA) $(LIBA)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(STORE_LIBS) $(JSON_LIBS) $(NET_LIBS) $(CRYPTO_LIBS) -lz

# The log's load generator and end-to-end checker (make bench-log, and the
# integration tests).
$(O)/tests/bench/loadgen: $(O)/tests/bench/loadgen.o $(NETA) $(LIBA)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(JSON_LIBS) $(NET_LIBS) $(CRYPTO_LIBS) -lm

# Test-only tool: cosigns a checkpoint with a witness key (client tests).
$(O)/tests/integration/tools/cosign: $(O)/tests/integration/tools/cosign.o $(LIBA)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(CRYPTO_LIBS)

# Test-only fault shims (LD_PRELOAD, tests/fault/*.c): built without
# sanitizers even in the check tree; the tests preload the sanitizer
# runtime before it (tests/integration/lib.sh, fault_preload).
FAULT_SOS := $(O)/tests/fault/faultfs.so $(O)/tests/fault/nothreads.so \
    $(O)/tests/fault/timeshift.so
$(O)/tests/fault/%.so: tests/fault/%.c
	@mkdir -p $(dir $@)
	$(CC) $(filter-out $(SAN),$(ALL_CFLAGS)) -fPIC -shared -o $@ $< -ldl

# Test-only tool: reads and damages tiles of a stopped log's store.
$(O)/tests/integration/tools/tiletool: $(O)/tests/integration/tools/tiletool.o $(LOG_ARCH) \
    $(NETA) $(LIBA)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(STORE_LIBS) $(NET_LIBS) $(CRYPTO_LIBS) -lz

# The benchmarks are built too, so a change that breaks one fails the tests.
test-build: $(LIBA) $(NETA) $(PROGS) $(UNIT_BINS) $(REPLAY_BINS) $(BENCH_BINS) \
    $(O)/tests/bench/bench_mirror \
    $(O)/tests/integration/tools/cosign $(O)/tests/integration/tools/tiletool $(FAULT_SOS)

# The whole suite: unit tests, fuzz-corpus replay, integration tests.
test: deps
	@$(MAKE) --no-print-directory $(PAR) test-build
	@GL_BUILD=$(O) GL_BIN=$(abspath $(BIN)) tests/run.sh

# Crash soak: 20 kill -9 cycles under load for glasslogd and for the
# witness (`make test` runs 5 of each); SOAK_CYCLES overrides.
SOAK_CYCLES ?= 20
soak: deps
	@$(MAKE) --no-print-directory $(PAR) test-build
	@GL_CRASH_CYCLES=$(SOAK_CYCLES) GL_BUILD=$(O) GL_BIN=$(abspath $(BIN)) tests/soak.sh

# The same suite built with sanitizers, in its own tree.
check: deps
	@$(MAKE) --no-print-directory $(PAR) O=build/asan BIN=build/asan/bin \
	    LIBA=build/asan/libglasslog.a NETA=build/asan/libglasslog-net.a CFLAGS="-O1 -g -fno-omit-frame-pointer" \
	    SAN="-fsanitize=address,undefined -fno-sanitize-recover=all" test-build
	@ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1 \
	    GL_BUILD=build/asan GL_BIN=$(abspath build/asan/bin) tests/run.sh

# libFuzzer builds (clang, ASan+UBSan) in build/fuzz; each target of
# FUZZ_TARGETS (default: all) runs FUZZ_SECONDS and prints a stats line.
FUZZ_SECONDS ?= 60
FUZZ_TARGETS ?= $(FUZZ_NAMES)
fuzz: deps
	@$(MAKE) --no-print-directory $(PAR) O=build/fuzz BIN=build/fuzz/bin CC=clang \
	    LIBA=build/fuzz/libglasslog.a NETA=build/fuzz/libglasslog-net.a \
	    CFLAGS="-O1 -g -fno-omit-frame-pointer" \
	    SAN="-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all" \
	    $(FUZZ_TARGETS:%=build/fuzz/tests/fuzz/fuzz_%)
	@scripts/fuzz.sh build/fuzz $(FUZZ_SECONDS) $(FUZZ_TARGETS)

# A working log on 127.0.0.1:8080 (keys and data in var/).
run: build-deps
	@$(MAKE) --no-print-directory $(PAR) build-all
	@scripts/run.sh

# Benchmarks: "bench <name> <value> <unit>" lines; any failure exits non-zero.
# One after the other (never in parallel, even under -j: they share the CPUs).
bench: deps
	@$(MAKE) --no-print-directory bench-core
	@$(MAKE) --no-print-directory bench-log
	@$(MAKE) --no-print-directory bench-cosign
	@$(MAKE) --no-print-directory bench-monitor

bench-mirror: deps
	@$(MAKE) --no-print-directory $(O)/tests/bench/bench_mirror
	@$(O)/tests/bench/bench_mirror $(or $(MIRROR_N),100000)
	@$(MAKE) --no-print-directory $(PROGS) $(O)/tests/bench/loadgen
	@GL_BIN=$(abspath $(BIN)) GL_LOADGEN=$(abspath $(O)/tests/bench/loadgen) \
	    tests/bench/bench_mirror_tiles.sh

bench-core: deps
	@$(MAKE) --no-print-directory $(O)/tests/bench/bench_core
	@$(O)/tests/bench/bench_core tests/vectors

# The running log against the same-run Ed25519 reference and nginx.
bench-log: deps
	@$(MAKE) --no-print-directory $(BIN)/glasslog $(BIN)/glasslogd $(O)/tests/bench/loadgen
	@GL_BIN=$(abspath $(BIN)) GL_LOADGEN=$(abspath $(O)/tests/bench/loadgen) tests/bench/bench_log.sh

# Witness cosigning under open-loop load, block and fail-open modes.
bench-cosign: deps
	@$(MAKE) --no-print-directory $(PROGS) $(O)/tests/bench/loadgen
	@GL_BIN=$(abspath $(BIN)) GL_LOADGEN=$(abspath $(O)/tests/bench/loadgen) tests/bench/bench_cosign.sh

# The monitor catching up over 100k entries vs the same-run reference.
bench-monitor: deps
	@$(MAKE) --no-print-directory $(PROGS) $(O)/tests/bench/loadgen
	@GL_BIN=$(abspath $(BIN)) GL_LOADGEN=$(abspath $(O)/tests/bench/loadgen) tests/bench/bench_monitor.sh

LINT_FLAGS := -std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -Iinclude -Ilib -Ilib/net \
    -DGL_VERSION='"$(VERSION)"'
# Every C file of the project, for clang-format (.clang-format).
FORMAT_SRCS = $(shell find include lib log witness client tests -name node_modules -prune -o \
    \( -name '*.c' -o -name '*.h' \) -print)

format:
	clang-format -i $(FORMAT_SRCS)

lint: deps
	clang-format --dry-run --Werror $(FORMAT_SRCS)
	cppcheck --quiet --error-exitcode=1 --enable=warning,performance,portability \
	    --inline-suppr -Iinclude -Ilib -Ilib/net --std=c11 lib client log witness
	clang-tidy --quiet $(LIB_SRCS) $(NET_SRCS) $(CLIENT_SRCS) $(LOG_SRCS) $(WIT_SRCS) -- \
	    $(LINT_FLAGS) $(NET_CFLAGS) $(PG_CFLAGS)

# Installs the programs in $(PREFIX)/bin, the explorer in
# $(PREFIX)/share/glasslog/web (where glasslogd finds it by default), the
# man pages, the systemd units (in $(UNITDIR)) and, never over existing
# files, the example configuration in $(SYSCONFDIR)/glasslog. Paths in the
# units and examples are the installed ones (@BINDIR@, @SYSCONFDIR@).
# `make uninstall` removes all of it; a configuration file only if it is
# still the example (an edited one is the operator's).
# install-files copies what $(BIN) holds without building (the tests).
PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
SHAREDIR ?= $(PREFIX)/share/glasslog
MANDIR ?= $(PREFIX)/share/man
SYSCONFDIR ?= /etc
UNITDIR ?= $(PREFIX)/lib/systemd/system
ETC_FILES := glasslogd.conf glasslogd.env submitters witness.conf witness.env logs
UNITS := glasslogd.service glasslog-witness.service
SUBST = sed -e 's|@BINDIR@|$(BINDIR)|g' -e 's|@SYSCONFDIR@|$(SYSCONFDIR)|g'
.PHONY: install-files uninstall
install: all
	@$(MAKE) --no-print-directory install-files

install-files:
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(SHAREDIR) $(DESTDIR)$(MANDIR)/man1 \
	    $(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(UNITDIR) $(DESTDIR)$(SYSCONFDIR)/glasslog
	install -m 0755 $(PROGS) $(DESTDIR)$(BINDIR)/
	rm -rf $(DESTDIR)$(SHAREDIR)/web
	if [ -d web ]; then cp -R web $(DESTDIR)$(SHAREDIR)/web; fi
	install -m 0644 man/glasslog.1 $(DESTDIR)$(MANDIR)/man1/
	install -m 0644 man/glasslogd.8 man/glasslog-witness.8 $(DESTDIR)$(MANDIR)/man8/
	for u in $(UNITS); do $(SUBST) etc/systemd/$$u > $(DESTDIR)$(UNITDIR)/$$u || exit 1; \
	    chmod 0644 $(DESTDIR)$(UNITDIR)/$$u; done
	for f in $(ETC_FILES); do t=$(DESTDIR)$(SYSCONFDIR)/glasslog/$$f; \
	    if [ -e $$t ]; then echo "keeping $$t"; else $(SUBST) etc/$$f > $$t && chmod 0644 $$t || exit 1; fi; done

uninstall:
	rm -f $(addprefix $(DESTDIR)$(BINDIR)/,$(notdir $(PROGS)))
	rm -rf $(DESTDIR)$(SHAREDIR)/web
	rm -f $(DESTDIR)$(MANDIR)/man1/glasslog.1 $(DESTDIR)$(MANDIR)/man8/glasslogd.8 \
	    $(DESTDIR)$(MANDIR)/man8/glasslog-witness.8
	rm -f $(addprefix $(DESTDIR)$(UNITDIR)/,$(UNITS))
	for f in $(ETC_FILES); do t=$(DESTDIR)$(SYSCONFDIR)/glasslog/$$f; \
	    if [ -e $$t ]; then if $(SUBST) etc/$$f | cmp -s - $$t; then rm -f $$t; \
	    else echo "keeping $$t (changed)"; fi; fi; done
	-rmdir $(DESTDIR)$(SHAREDIR) $(DESTDIR)$(SYSCONFDIR)/glasslog 2>/dev/null

clean:
	rm -rf build bin lib/libglasslog.a lib/libglasslog-net.a

-include $(shell find $(O) -name '*.d' 2>/dev/null)
