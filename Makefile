# pgcdc — one non-recursive Makefile.
#   make                 build/pgcdc
#   make check           install test deps if missing, unit + integration tests
#   make SANITIZE=1 check   the same under ASan+UBSan (objects in build/san), without the version suite
#   make check-versions  only the version suite (PostgreSQL 12-18; PG_VERSIONS="13 17" narrows it)
#   make check-diff SEEDS=1-500 [PG_VERSIONS="15 17"] [PROTOCOLS=2]   the differential test, long
#   make demo            end-to-end demo on a throwaway PostgreSQL
#   make install PREFIX=/usr DESTDIR=...
#   make deb             build/pgcdc_<version>_<arch>.deb (packaging/debian, built in build/deb)

VERSION   := 0.1.0
PREFIX    ?= /usr/local
DESTDIR   ?=
# install locations (GNU names); the configuration goes to /etc/pgcdc whatever PREFIX is,
# since that is where pgcdc looks without -c
BINDIR    ?= $(PREFIX)/bin
DATADIR   ?= $(PREFIX)/share
MANDIR    ?= $(DATADIR)/man
DOCDIR    ?= $(DATADIR)/doc/pgcdc
SYSCONFDIR ?= /etc
# systemd units are installed only when this is set (debian/rules: /lib/systemd/system)
SYSTEMDUNITDIR ?=
CC        ?= cc
PKGS      := libpq jansson rdkafka libprotobuf-c libzstd snappy libmicrohttpd libcrypto
TEST_PKGS := cmocka

ifeq ($(SANITIZE),1)
BUILD     ?= build/san
SANFLAGS  := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
OPT       := -O1
else
BUILD     ?= build
SANFLAGS  :=
OPT       := -O2
endif

CPPFLAGS  += -D_GNU_SOURCE -DPGCDC_VERSION=\"$(VERSION)\" -I. $(shell pkg-config --cflags $(PKGS))
CFLAGS    ?= $(OPT) -g
CFLAGS    += -std=c11 -Wall -Wextra -Werror -Wshadow -Wno-unused-parameter $(SANFLAGS)
LDFLAGS   += $(SANFLAGS)
LDLIBS    := $(shell pkg-config --libs $(PKGS)) -lpthread -lm

LIB_SRC   := $(wildcard common/*.c) $(wildcard decoder/*.c) $(filter-out agent/main.c,$(wildcard agent/*.c)) \
	         $(wildcard sinks/*.c) $(wildcard sinks/parquet/*.c) $(wildcard monitor/*.c)
LIB_OBJ   := $(LIB_SRC:%.c=$(BUILD)/obj/%.o)
# protobuf-c code generated from decoder/pgcdc.proto (the Kafka protobuf format)
PROTO     := $(wildcard decoder/pgcdc.proto)
GEN_C     := $(PROTO:%.proto=$(BUILD)/gen/%.pb-c.c)
LIB_OBJ   += $(GEN_C:$(BUILD)/gen/%.c=$(BUILD)/obj/gen/%.o)
CPPFLAGS  += -I$(BUILD)/gen
MAIN_OBJ  := $(BUILD)/obj/agent/main.o
UNIT_SRC  := $(wildcard tests/unit/test_*.c)
UNIT_BIN  := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)
TOOL_SRC  := $(wildcard tests/tools/*.c)
TOOL_BIN  := $(TOOL_SRC:tests/tools/%.c=$(BUILD)/tools/%)

.PHONY: all check unit integration demo deps install clean bench deb fuzz check-fuzz check-versions \
        check-diff
all: $(BUILD)/pgcdc

$(BUILD)/pgcdc: $(MAIN_OBJ) $(BUILD)/libpgcdc.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/libpgcdc.a: $(LIB_OBJ)
	@mkdir -p $(@D)
	rm -f $@ && ar rcs $@ $^

$(BUILD)/obj/%.o: %.c | $(GEN_C)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) -MMD -MP -c -o $@ $<

$(BUILD)/gen/%.pb-c.c $(BUILD)/gen/%.pb-c.h: %.proto
	@mkdir -p $(BUILD)/gen
	protoc-c --c_out=$(BUILD)/gen $<

$(BUILD)/obj/gen/%.o: $(BUILD)/gen/%.c
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) -Wno-shadow -c -o $@ $<

$(BUILD)/tests/%: tests/unit/%.c $(BUILD)/libpgcdc.a
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(shell pkg-config --cflags $(TEST_PKGS)) $(CFLAGS) $(LDFLAGS) -o $@ $< \
		$(BUILD)/libpgcdc.a $(LDLIBS) $(shell pkg-config --libs $(TEST_PKGS))

$(BUILD)/tools/%: tests/tools/%.c $(BUILD)/libpgcdc.a
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ $< $(BUILD)/libpgcdc.a $(LDLIBS)

# keep generated protobuf-c sources: they are inputs, not throwaway intermediates
.SECONDARY: $(GEN_C)

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)

deps:
	@tests/tools/deps.sh

unit: $(UNIT_BIN)
	@tests/tools/run-unit.sh $(UNIT_BIN)

integration: $(BUILD)/pgcdc $(TOOL_BIN)
	@PGCDC_BUILD=$(BUILD) tests/integration/run.sh

check: deps
	@$(MAKE) --no-print-directory all $(UNIT_BIN) $(TOOL_BIN)
	@PGCDC_BUILD=$(BUILD) tests/tools/check.sh

check-diff: deps
	@$(MAKE) --no-print-directory all
	@PGCDC_BUILD=$(BUILD) SEEDS="$(SEEDS)" PG_VERSIONS="$(PG_VERSIONS)" PROTOCOLS="$(PROTOCOLS)" \
		STEPS="$(STEPS)" MUTATE="$(MUTATE)" tests/diff/run.sh

check-versions: deps
	@$(MAKE) --no-print-directory all
	@PGCDC_BUILD=$(BUILD) tests/versions/run.sh

demo: deps
	@$(MAKE) --no-print-directory all
	@PGCDC_BUILD=$(BUILD) tests/tools/demo.sh

# Examples written by other parts of the tree are installed when they exist.
install: $(BUILD)/pgcdc
	install -D -m 0755 $(BUILD)/pgcdc $(DESTDIR)$(BINDIR)/pgcdc
	install -D -m 0644 packaging/man/pgcdc.1 $(DESTDIR)$(MANDIR)/man1/pgcdc.1
	$(if $(PROTO),install -D -m 0644 $(PROTO) $(DESTDIR)$(DATADIR)/pgcdc/pgcdc.proto)
	install -D -m 0644 README.md $(DESTDIR)$(DOCDIR)/README.md
	install -D -m 0644 agent.conf.example $(DESTDIR)$(DOCDIR)/examples/agent.conf.example
	for f in docs/examples/hooks/*; do [ ! -f "$$f" ] || \
		install -D -m 0755 "$$f" "$(DESTDIR)$(DOCDIR)/examples/hooks/$${f##*/}" || exit 1; done
	[ ! -f docs/examples/prometheus-rules.yml ] || \
		install -D -m 0644 docs/examples/prometheus-rules.yml $(DESTDIR)$(DOCDIR)/examples/prometheus-rules.yml
	@# the live configuration: installed when absent, never overwritten
	if [ -e "$(DESTDIR)$(SYSCONFDIR)/pgcdc/agent.conf" ]; then \
		echo "install: keeping $(DESTDIR)$(SYSCONFDIR)/pgcdc/agent.conf"; \
	else install -D -m 0644 agent.conf.example "$(DESTDIR)$(SYSCONFDIR)/pgcdc/agent.conf"; fi
	[ -z "$(SYSTEMDUNITDIR)" ] || for u in packaging/systemd/*.service; do \
		install -d "$(DESTDIR)$(SYSTEMDUNITDIR)" && \
		sed -e 's|/usr/bin/pgcdc|$(BINDIR)/pgcdc|g' -e 's|/etc/pgcdc/|$(SYSCONFDIR)/pgcdc/|g' "$$u" \
			>"$(DESTDIR)$(SYSTEMDUNITDIR)/$${u##*/}" && \
		chmod 0644 "$(DESTDIR)$(SYSTEMDUNITDIR)/$${u##*/}" || exit 1; done

# The Debian package, from a copy of the tree (never the tree itself): the sources without
# build/ and .git, plus packaging/debian as debian/, built with dpkg-buildpackage in
# build/deb; the .deb is copied to build/. The changelog's upstream version must match VERSION.
DEB_STAGE := build/deb
DEB_SRC   := $(DEB_STAGE)/pgcdc-$(VERSION)
deb:
	@command -v dpkg-buildpackage >/dev/null && command -v dh >/dev/null || \
		{ echo "make deb: needs dpkg-dev and debhelper (apt-get install dpkg-dev debhelper)" >&2; exit 2; }
	@v=$$(dpkg-parsechangelog -l packaging/debian/changelog -S Version) && [ "$${v%-*}" = "$(VERSION)" ] || \
		{ echo "make deb: packaging/debian/changelog has version $$v, the Makefile $(VERSION): add a changelog entry" >&2; exit 2; }
	rm -rf $(DEB_STAGE) && mkdir -p $(DEB_SRC)
	tar -cf - --exclude=./build --exclude=./.git --exclude=./debian --exclude=./node_modules --exclude=./tmp . | \
		tar -xf - -C $(DEB_SRC)
	cp -R packaging/debian $(DEB_SRC)/debian
	cd $(DEB_SRC) && env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL -u BUILD -u SANITIZE \
		dpkg-buildpackage -b -us -uc -Jauto
	rm -f build/pgcdc_*.deb
	cp $(DEB_STAGE)/pgcdc_*.deb build/
	@ls -l build/pgcdc_*.deb

# libFuzzer targets (clang, ASan+UBSan); `make check-fuzz FUZZ_SECONDS=60` runs each
FUZZ_CC   ?= clang
FUZZ_SRC  := common/err.c common/lsn.c decoder/pgoutput.c decoder/decode.c decoder/relcache.c \
             decoder/types.c decoder/json.c decoder/connect.c decoder/copytext.c agent/config.c
FUZZ_BIN  := $(patsubst tests/fuzz/%.c,build/fuzz/%,$(wildcard tests/fuzz/fuzz_*.c))
build/fuzz/%: tests/fuzz/%.c $(FUZZ_SRC) $(wildcard common/*.h decoder/*.h agent/config.h)
	@mkdir -p $(@D)
	$(FUZZ_CC) -g -O1 -std=c11 -D_GNU_SOURCE -I. -fsanitize=fuzzer,address,undefined \
		-fno-sanitize-recover=undefined -o $@ $< $(FUZZ_SRC) -lm
fuzz: $(FUZZ_BIN)
check-fuzz: deps
	@$(MAKE) --no-print-directory fuzz
	@tests/fuzz/run.sh

bench: deps
	@$(MAKE) --no-print-directory all $(TOOL_BIN)
	@PGCDC_BUILD=$(BUILD) bench/run.sh

clean:
	rm -rf build
