# LGSP on nginx.  make run: the demo.  make test: every test.
# BUILD names the build folder, so sanitizer and helper builds can sit
# beside the normal one.

BUILD     ?= build
PORT      ?= 8080
CC        ?= cc
CFLAGS    ?= -g -O2 -Wall -Wextra -Werror -Wno-unused-parameter
LGSP      := ngx_lgsp_module
MODULE    := $(BUILD)/ngx_http_lgsp_module.so

# nginx-free cores: unit-tested, fuzzed and benchmarked without nginx.
CORE_SRCS := \
	$(LGSP)/lgsp_jwk.c \
	$(LGSP)/lgsp_jwt.c \
	$(LGSP)/lgsp_chain.c \
	$(LGSP)/lgsp_quota.c \
	$(LGSP)/lgsp_acl.c \
	$(LGSP)/lgsp_oauth.c
CORE_LIBS := -ljansson -lpcre2-8 -lcrypto
UNIT_LIBS := $(CORE_LIBS) -ljwt

UNIT_TESTS := $(patsubst t/unit/%.c,$(BUILD)/unit/%,$(wildcard t/unit/test_*.c))

.PHONY: all deps module unit test run bench clean

all: module

deps:
	@scripts/deps.sh

module: deps
	@scripts/build.sh $(BUILD)

$(BUILD)/unit/%: t/unit/%.c t/unit/unit.h $(CORE_SRCS) $(wildcard $(LGSP)/lgsp_*.h)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -I$(LGSP) -It/unit -o $@ $< $(CORE_SRCS) $(UNIT_LIBS)

unit: deps $(UNIT_TESTS)
	@set -e; for t in $(UNIT_TESTS); do $$t; done

test: module unit
	LGSP_MODULE=$(abspath $(MODULE)) prove -r t

run: module
	@scripts/demo.sh $(BUILD) $(PORT)

bench: module
	@scripts/bench $(BUILD)

clean:
	rm -rf $(BUILD)
