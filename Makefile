# pgcdc — one non-recursive Makefile.
#   make                 build/pgcdc
#   make check           install test deps if missing, unit + integration tests
#   make SANITIZE=1 check   the same under ASan+UBSan (objects in build/san)
#   make demo            end-to-end demo on a throwaway PostgreSQL
#   make install PREFIX=/usr DESTDIR=...

VERSION   := 0.1.0
PREFIX    ?= /usr/local
DESTDIR   ?=
CC        ?= cc
PKGS      := libpq jansson rdkafka libprotobuf-c libzstd snappy libmicrohttpd
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

LIB_SRC   := $(wildcard decoder/*.c) $(filter-out agent/main.c,$(wildcard agent/*.c)) \
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

.PHONY: all check unit integration demo deps install clean bench deb
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

demo: deps
	@$(MAKE) --no-print-directory all
	@PGCDC_BUILD=$(BUILD) tests/tools/demo.sh

install: $(BUILD)/pgcdc
	install -D -m 0755 $(BUILD)/pgcdc $(DESTDIR)$(PREFIX)/bin/pgcdc
	install -D -m 0644 agent.conf.example $(DESTDIR)$(PREFIX)/share/doc/pgcdc/agent.conf.example

clean:
	rm -rf build
