# tributary — build, test and install.
#
#   make            build build/tributary
#   make run        install missing build packages, build, serve feeds.conf
#                   (PORT=N or LISTEN=HOST:PORT to listen elsewhere,
#                   CONFIG=FILE for another config; Ctrl-C stops it)
#   make test       install missing build and test packages, build, run
#                   every test
#   make check      the same suite under AddressSanitizer + UBSan (build-san/)
#   make valgrind   the integration tests under valgrind memcheck (build-vg/)
#   make fuzz       build and run the libFuzzer targets (FUZZ_SECONDS=N each)
#   make bench      benchmarks against peers (FULL=1 for full sizes)
#   make test-corpus CORPUS=DIR   parse every document under DIR
#   make install / uninstall      PREFIX, DESTDIR
#   make format     clang-format every C file

VERSION = 0.1.0
PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
MANDIR ?= $(PREFIX)/share/man
SYSCONFDIR ?= /etc
UNITDIR ?= /lib/systemd/system

BUILD ?= build
CC ?= cc
PKGS = libcurl expat sqlite3 libmicrohttpd zlib inih gumbo libcrypto libpq

WARN = -Wall -Wextra -Wpedantic -Wshadow -Wstrict-prototypes \
       -Wmissing-prototypes -Wpointer-arith -Wcast-qual -Wwrite-strings \
       -Wformat=2 -Wundef -Wvla -Wimplicit-fallthrough
ifeq ($(CI),true)
WARN += -Werror
endif
ifdef WERROR
WARN += -Werror
endif

OPT ?= -O2 -g
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS = $(shell pkg-config --libs $(PKGS) 2>/dev/null)
ALL_CFLAGS = -std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE \
	     -DTR_VERSION='"$(VERSION)"' -Iinclude -Ilib $(WARN) $(OPT) \
	     $(PKG_CFLAGS) $(SAN) $(CFLAGS)
ALL_LDFLAGS = $(SAN) $(LDFLAGS)
LIBS = $(PKG_LIBS) -lm $(LDLIBS)

LIB_SRC = $(wildcard lib/*.c)
LIB_OBJ = $(LIB_SRC:%.c=$(BUILD)/%.o)
CMD_SRC = $(wildcard cmd/tributary/*.c)
CMD_OBJ = $(CMD_SRC:%.c=$(BUILD)/%.o)
UNIT_SRC = $(wildcard tests/unit/test_*.c)
UNIT_BIN = $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)
HELPER_SRC = $(wildcard tests/helpers/*.c)
HELPER_BIN = $(HELPER_SRC:tests/helpers/%.c=$(BUILD)/tests/helpers/%)

.PHONY: all deps deps-test deps-bench deps-fuzz run test check unit fuzz bench test-corpus install \
	uninstall format clean valgrind

all: $(BUILD)/tributary

$(BUILD)/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -MMD -MP -c -o $@ $<

$(BUILD)/libtributary.a: $(LIB_OBJ)
	@rm -f $@
	$(AR) rcs $@ $^

$(BUILD)/tributary: $(CMD_OBJ) $(BUILD)/libtributary.a
	$(CC) $(ALL_LDFLAGS) -o $@ $(CMD_OBJ) $(BUILD)/libtributary.a $(LIBS)

$(BUILD)/tests/%: tests/unit/%.c tests/unit/runner.h \
		tests/unit/test_store_util.h $(BUILD)/libtributary.a
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -Itests/unit $(ALL_LDFLAGS) -o $@ $< \
		$(BUILD)/libtributary.a $(LIBS)

$(BUILD)/tests/helpers/%: tests/helpers/%.c $(BUILD)/libtributary.a
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $< $(BUILD)/libtributary.a $(LIBS)

# The store benchmark (bench/store_bench.c): make $(BUILD)/bench/store_bench
$(BUILD)/bench/store_bench: bench/store_bench.c $(BUILD)/libtributary.a
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $< $(BUILD)/libtributary.a $(LIBS)

# The merged query on both backends (bench/store_query_bench.c).
$(BUILD)/bench/store_query_bench: bench/store_query_bench.c $(BUILD)/libtributary.a
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $< $(BUILD)/libtributary.a $(LIBS)

# Installs the missing Debian packages of one level (scripts/install-deps):
# the build's for make run, the tests' for test, check and valgrind, the
# peers for bench, clang for fuzz. Running never needs a test tool.
deps:
	@scripts/install-deps
deps-test:
	@scripts/install-deps --test
deps-bench:
	@scripts/install-deps --bench
deps-fuzz:
	@scripts/install-deps --fuzz

unit: $(BUILD)/tributary $(UNIT_BIN) $(HELPER_BIN)

# make run PORT=8081, or LISTEN=0.0.0.0:8081; the config's listen else.
CONFIG ?= feeds.conf
RUN_LISTEN = $(if $(LISTEN),--listen '$(LISTEN)',$(if $(PORT),--listen \
	'127.0.0.1:$(PORT)'))
run: deps
	@$(MAKE) --no-print-directory all
	@mkdir -p var
	./$(BUILD)/tributary -c '$(CONFIG)' serve $(RUN_LISTEN)

# BACKEND=sqlite: the store's tests on SQLite only; postgresql: only on a
# temporary PostgreSQL cluster; both (the default, when it is installed).
test: deps-test
	@$(MAKE) --no-print-directory unit
	@BACKEND='$(BACKEND)' tests/run $(BUILD)

SAN_FLAGS = -fsanitize=address,undefined -fno-omit-frame-pointer \
	    -fno-sanitize-recover=undefined
check: deps-test
	@$(MAKE) --no-print-directory unit BUILD=build-san OPT="-O1 -g" \
		SAN="$(SAN_FLAGS)"
	@ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 \
	 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	 BACKEND='$(BACKEND)' tests/run build-san

# The integration tests with every tributary process under memcheck;
# tests/valgrind says which tests and why.
valgrind: deps-test
	@$(MAKE) --no-print-directory unit BUILD=build-vg OPT="-O1 -g"
	@tests/valgrind build-vg

FUZZ_SECONDS ?= 10
FUZZ_SRC = $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BIN = $(FUZZ_SRC:tests/fuzz/%.c=build-fuzz/%)
FUZZ_LIB_OBJ = $(LIB_SRC:%.c=build-fuzz/%.o)
build-fuzz/%.o: %.c
	@mkdir -p $(@D)
	clang $(ALL_CFLAGS) -fsanitize=fuzzer-no-link,address,undefined -MMD -MP \
		-c -o $@ $<
build-fuzz/libtributary.a: $(FUZZ_LIB_OBJ)
	@rm -f $@
	$(AR) rcs $@ $^
build-fuzz/fuzz_%: tests/fuzz/fuzz_%.c build-fuzz/libtributary.a
	clang $(ALL_CFLAGS) -fsanitize=fuzzer,address,undefined -o $@ $< \
		build-fuzz/libtributary.a $(LIBS)
fuzz: deps-fuzz
	@$(MAKE) --no-print-directory CC=clang OPT="-O1 -g" $(FUZZ_BIN)
	@FUZZ_SEED=$(FUZZ_SEED) tests/fuzz/run $(FUZZ_SECONDS) $(FUZZ_BIN)

test-corpus: all
	@test -n "$(CORPUS)" || { echo "usage: make test-corpus CORPUS=DIR"; exit 2; }
	@tests/corpus-check $(BUILD)/tributary "$(CORPUS)"

bench: deps-bench
	@$(MAKE) --no-print-directory all OPT="-O2"
	@bench/run --build $(BUILD) $(if $(FULL),--full) \
		$(if $(CORPUS),--corpus $(CORPUS))

install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 \
		$(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(SYSCONFDIR)/tributary \
		$(DESTDIR)$(UNITDIR)
	install -m 755 $(BUILD)/tributary $(DESTDIR)$(BINDIR)/tributary
	install -m 644 dist/man/tributary.1 $(DESTDIR)$(MANDIR)/man1/
	install -m 644 dist/man/feeds.conf.5 $(DESTDIR)$(MANDIR)/man5/
	# The unit names the binary: point it at this BINDIR.
	sed 's|/usr/local/bin/tributary|$(BINDIR)/tributary|g' \
		dist/systemd/tributary.service >$(DESTDIR)$(UNITDIR)/tributary.service
	chmod 644 $(DESTDIR)$(UNITDIR)/tributary.service
	install -m 644 dist/feeds.conf.example \
		$(DESTDIR)$(SYSCONFDIR)/tributary/feeds.conf.example

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/tributary \
		$(DESTDIR)$(MANDIR)/man1/tributary.1 \
		$(DESTDIR)$(MANDIR)/man5/feeds.conf.5 \
		$(DESTDIR)$(UNITDIR)/tributary.service \
		$(DESTDIR)$(SYSCONFDIR)/tributary/feeds.conf.example

format:
	clang-format -i $(LIB_SRC) $(CMD_SRC) $(UNIT_SRC) include/tributary/*.h \
		lib/*.h $(FUZZ_SRC)

clean:
	rm -rf build build-san build-fuzz build-vg

-include $(LIB_OBJ:.o=.d) $(CMD_OBJ:.o=.d) $(FUZZ_LIB_OBJ:.o=.d)
