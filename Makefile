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
SCHEMA_SRCS := \
	$(LGSP)/lgsp_schema_compile.c \
	$(LGSP)/lgsp_schema_validate.c \
	$(LGSP)/lgsp_schema_meta.c \
	$(LGSP)/lgsp_schema_json.c \
	$(LGSP)/lgsp_decimal.c \
	$(LGSP)/lgsp_regex.c \
	$(LGSP)/lgsp_sbuf.c \
	$(LGSP)/lgsp_format.c
SCHEMA_LIBS := -ljansson -lpcre2-8 -lm
CORE_SRCS := \
	$(LGSP)/lgsp_jwk.c \
	$(LGSP)/lgsp_jwt.c \
	$(LGSP)/lgsp_chain.c \
	$(LGSP)/lgsp_sha256.c \
	$(LGSP)/lgsp_quota.c \
	$(LGSP)/lgsp_quota_reply.c \
	$(LGSP)/lgsp_redis.c \
	$(LGSP)/lgsp_acl.c \
	$(LGSP)/lgsp_oauth.c \
	$(LGSP)/lgsp_body.c \
	$(LGSP)/lgsp_xml_read.c \
	$(LGSP)/lgsp_xml_write.c \
	$(LGSP)/lgsp_deliver.c \
	$(SCHEMA_SRCS)
# libxml2 (Debian's libxml2-dev) for the format conversion cores
XML_INCS  := $(shell pkg-config --cflags libxml-2.0 2>/dev/null || echo -I/usr/include/libxml2)
CORE_LIBS := -ljansson -lpcre2-8 -lcrypto -lhiredis -lxml2 -lm
UNIT_LIBS := $(CORE_LIBS) -ljwt

UNIT_TESTS := $(patsubst t/unit/%.c,$(BUILD)/unit/%,$(wildcard t/unit/test_*.c))

# the JSON Schema test suite sits beside the repository, never inside it
SCHEMA_SUITE ?= ../shared/conformance/JSON-Schema-Test-Suite
FUZZ_SECONDS ?= 20
FUZZ_CC      ?= clang
FUZZ_TARGETS := $(patsubst t/fuzz/%.c,$(BUILD)/fuzz/%,$(wildcard t/fuzz/fuzz_*.c))

.PHONY: all deps deps-build deps-run deps-deb deps-test module unit test \
	run bench clean conformance fuzz bench-schema bench-convert asan \
	valgrind soak matrix

all: module

# the Debian packages each target needs (scripts/deps.sh says which)
deps:
	@LGSP_BUILD=$(BUILD) scripts/deps.sh

deps-build deps-run deps-deb deps-test:
	@LGSP_BUILD=$(BUILD) scripts/deps.sh $(@:deps-%=%)

# NGINX_SRC=DIR builds against another nginx source tree (scripts/build.sh)
module: deps-build
	@scripts/build.sh $(BUILD)

$(BUILD)/unit/%: t/unit/%.c t/unit/unit.h $(CORE_SRCS) $(wildcard $(LGSP)/lgsp_*.h)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -I$(LGSP) $(XML_INCS) -It/unit -o $@ $< $(CORE_SRCS) \
		$(UNIT_LIBS)

unit: deps-test $(UNIT_TESTS)
	@set -e; for t in $(UNIT_TESTS); do $$t; done

$(BUILD)/conformance: t/conformance/run.c $(SCHEMA_SRCS) $(wildcard $(LGSP)/lgsp_*.h)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -I$(LGSP) -o $@ $< $(SCHEMA_SRCS) $(SCHEMA_LIBS)

conformance: $(BUILD)/conformance
	$(BUILD)/conformance $(SCHEMA_SUITE)

$(BUILD)/fuzz/%: t/fuzz/%.c $(CORE_SRCS) $(wildcard $(LGSP)/lgsp_*.h)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) -g -O1 -fsanitize=fuzzer,address,undefined \
		-fno-sanitize-recover=undefined -I$(LGSP) $(XML_INCS) \
		-o $@ $< $(CORE_SRCS) $(UNIT_LIBS)

# each target runs FUZZ_SECONDS from its seeds in t/fuzz/seeds/NAME/
fuzz: deps-test $(FUZZ_TARGETS)
	@set -e; for f in $(FUZZ_TARGETS); do \
		n=$$(basename $$f); mkdir -p $(BUILD)/fuzz/corpus-$$n; \
		$$f -max_total_time=$(FUZZ_SECONDS) -timeout=10 -rss_limit_mb=2048 \
			-artifact_prefix=$(BUILD)/fuzz/$$n- \
			$(BUILD)/fuzz/corpus-$$n $$(ls -d t/fuzz/seeds/$$n 2>/dev/null); \
	done

# make asan: the module, the unit tests and the whole t/ suite under
# AddressSanitizer and UBSan (nginx gets the runtime by LD_PRELOAD).  Leaks
# are left to make valgrind: nginx's exit paths keep what the OS frees.
# Any report in $(ASAN_BUILD)/reports fails the run.
ASAN_BUILD  ?= build-asan
SAN_FLAGS   := -fsanitize=address,undefined -fno-omit-frame-pointer
ASAN_REPORTS = $(abspath $(ASAN_BUILD))/reports

asan: deps-test
	@EXTRA_CFLAGS="$(SAN_FLAGS)" EXTRA_LDFLAGS="$(SAN_FLAGS)" \
		scripts/build.sh $(ASAN_BUILD)
	@$(MAKE) -s unit BUILD=$(ASAN_BUILD) \
		CFLAGS="$(CFLAGS) $(SAN_FLAGS) -fno-sanitize-recover=all"
	@rm -rf $(ASAN_REPORTS); mkdir -p $(ASAN_REPORTS); \
	LGSP_MODULE=$(abspath $(ASAN_BUILD))/ngx_http_lgsp_module.so \
	LGSP_PRELOAD=/usr/lib/x86_64-linux-gnu/libasan.so.8 \
	ASAN_OPTIONS=detect_leaks=0:log_path=$(ASAN_REPORTS)/asan \
	UBSAN_OPTIONS=print_stacktrace=1:log_path=$(ASAN_REPORTS)/ubsan \
		prove -r $(or $(TESTS),t); rc=$$?; \
	scripts/sanitizer-reports $(ASAN_REPORTS) && exit $$rc

# make valgrind: the main cases with nginx's master and workers under
# valgrind, a report each; t/valgrind.supp says which of nginx's memory
# is not ours
VALGRIND_TESTS ?= t/core.t t/jwt.t t/quota.t t/quota_redis.t t/quota_batch.t \
	t/schema.t t/routing.t t/catalog.t t/records.t t/metrics.t t/hostile.t \
	t/hostile_redis.t
VALGRIND_REPORTS = $(abspath $(BUILD))/valgrind

valgrind: deps-test module
	@rm -rf $(VALGRIND_REPORTS); mkdir -p $(VALGRIND_REPORTS); \
	LGSP_MODULE=$(abspath $(MODULE)) LGSP_VALGRIND=$(VALGRIND_REPORTS) \
		prove $(VALGRIND_TESTS); rc=$$?; \
	scripts/sanitizer-reports $(VALGRIND_REPORTS) && exit $$rc

# make soak: the full path under load; SOAK_MINUTES long, worker memory
# compared at start and end
SOAK_MINUTES ?= 10

soak: deps-test module
	@scripts/soak $(BUILD) --minutes $(SOAK_MINUTES)

$(BUILD)/bench-schema: scripts/bench-schema/bench.c $(SCHEMA_SRCS) $(wildcard $(LGSP)/lgsp_*.h)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -I$(LGSP) -o $@ $< $(SCHEMA_SRCS) $(SCHEMA_LIBS)

bench-schema: $(BUILD)/bench-schema
	@scripts/bench-schema/run.sh $(BUILD)/bench-schema

# conversion alone: lgsp_xml against Python's xml.etree and fast-xml-parser
CONVERT_SRCS := $(LGSP)/lgsp_xml_read.c $(LGSP)/lgsp_xml_write.c $(SCHEMA_SRCS)

$(BUILD)/bench-convert/bench: scripts/bench-convert/bench.c $(CONVERT_SRCS) \
		$(wildcard $(LGSP)/lgsp_*.h)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -I$(LGSP) $(XML_INCS) -o $@ $< $(CONVERT_SRCS) \
		$(SCHEMA_LIBS) -lxml2

bench-convert: $(BUILD)/bench-convert/bench
	@scripts/bench-convert/run.sh $(BUILD)/bench-convert/bench $(BUILD)

test: deps-test module unit fuzz
	@if [ -d $(SCHEMA_SUITE) ]; then $(MAKE) conformance; fi
	LGSP_MODULE=$(abspath $(MODULE)) prove -r t

run: deps-run module
	@scripts/demo.sh $(BUILD) $(PORT)

bench: deps-test module
	@scripts/bench $(BUILD)
	@scripts/bench-drain $(BUILD)

# the transaction log verifier (scripts/lgsp-logverify runs it) and a
# picture of the lgsp_status dashboard, $(BUILD)/status.png, to look at
.PHONY: logverify screenshot

$(BUILD)/lgsp-logverify: scripts/lgsp_logverify.c $(LGSP)/lgsp_chain.c \
		$(LGSP)/lgsp_chain.h $(LGSP)/lgsp_sha256.c $(LGSP)/lgsp_sha256.h
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -I$(LGSP) -o $@ scripts/lgsp_logverify.c \
		$(LGSP)/lgsp_chain.c $(LGSP)/lgsp_sha256.c -ljansson -lcrypto

logverify: $(BUILD)/lgsp-logverify

screenshot: deps-test module
	@scripts/status-screenshot $(BUILD)

# the Debian package, $(BUILD)/deb/libnginx-mod-http-lgsp_*.deb
.PHONY: deb

deb: deps-deb
	@scripts/deb.sh $(BUILD)

# make matrix: the module built with nginx from source (the tarballs of
# NGINX_TARBALLS), dynamic and static, by gcc and clang under -Werror, each
# build run through the tests; MATRIX_CC, MATRIX_TESTS narrow it down
NGINX_TARBALLS ?= ../shared/nginx-src
MATRIX_BUILD   ?= build-matrix

matrix: deps-test
	@scripts/matrix.sh $(NGINX_TARBALLS) $(MATRIX_BUILD)

clean:
	rm -rf $(BUILD)
