# SPDX-License-Identifier: Apache-2.0
# podprobe — see README.md. `make` builds the daemon and tools, `make test` runs every test,
# `make run` runs the bundled example pods. V=1 shows full commands.

# SANITIZE=1 builds everything with ASan + UBSan (clang: its UBSan also catches NULL + 0 and
# misaligned loads) into its own tree, so sanitized and normal objects never mix.
SANITIZE ?= 0
ifeq ($(SANITIZE),1)
O ?= build-san
ifeq ($(origin CC),default)
CC := clang
endif
endif
O ?= build
CC ?= cc
CLANG ?= clang
BPFTOOL ?= $(or $(shell command -v bpftool 2>/dev/null),/usr/sbin/bpftool)
PKG_CONFIG ?= pkg-config
CLANG_FORMAT ?= clang-format
ARCH := $(shell uname -m | sed 's/x86_64/x86/;s/aarch64/arm64/;s/ppc64le/powerpc/;s/mips.*/mips/;s/riscv64/riscv/;s/loongarch64/loongarch/')
WERROR ?= $(if $(CI),1,0)

MAKEFLAGS += --no-print-directory
.DELETE_ON_ERROR:
.DEFAULT_GOAL := all

ifeq ($(V),1)
Q :=
msg = @true
else
Q := @
msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
endif

# ---- dependencies (pkg-config); tools/deps.sh installs what is missing --------------------
PKGS := liburing yaml-0.1 libbpf libelf zlib libnghttp2 openssl jansson
TEST_PKGS := cmocka
NODEPS_GOALS := clean help format format-check
ifeq ($(filter-out $(NODEPS_GOALS),$(or $(MAKECMDGOALS),all)),)
else
DEPS_MISSING := $(shell $(PKG_CONFIG) --exists $(PKGS) $(TEST_PKGS) 2>/dev/null || echo yes)
ifneq ($(DEPS_MISSING),)
$(info   DEPS     installing missing build dependencies (tools/deps.sh))
DEPS_RC := $(shell tools/deps.sh >&2; echo $$?)
ifneq ($(DEPS_RC),0)
$(error missing build dependencies: see the tools/deps.sh message above)
endif
endif
endif

PKG_CFLAGS := $(shell $(PKG_CONFIG) --cflags $(PKGS) 2>/dev/null)
PKG_LIBS := $(shell $(PKG_CONFIG) --libs $(PKGS) 2>/dev/null)
YAML_LIBS := $(shell $(PKG_CONFIG) --libs yaml-0.1 2>/dev/null)
NGHTTP2_LIBS := $(shell $(PKG_CONFIG) --libs libnghttp2 2>/dev/null)
# The core writes and reads Kubernetes API objects with jansson (a pure library).
JANSSON_LIBS := $(shell $(PKG_CONFIG) --libs jansson 2>/dev/null)
CMOCKA_CFLAGS := $(shell $(PKG_CONFIG) --cflags cmocka 2>/dev/null)
CMOCKA_LIBS := $(shell $(PKG_CONFIG) --libs cmocka 2>/dev/null)

# ---- flags ---------------------------------------------------------------------------------
CFLAGS ?= -O2 -g
override CFLAGS += -std=gnu11 -D_GNU_SOURCE -Wall -Wextra -Wmissing-prototypes \
	-Wstrict-prototypes -Wmissing-field-initializers -Werror=undef -Wno-unused-parameter \
	-MMD -MP -Iinclude -I$(O) $(EXTRA_CFLAGS)
ifeq ($(WERROR),1)
override CFLAGS += -Werror
endif
ifeq ($(SANITIZE),1)
SAN_FLAGS := -fsanitize=address,undefined -fno-sanitize-recover=all
override CFLAGS += $(SAN_FLAGS) -fno-omit-frame-pointer
override LDFLAGS += $(SAN_FLAGS)
endif

# ---- sources -------------------------------------------------------------------------------
CORE_SRCS := $(sort $(wildcard user/core/*.c))
IO_SRCS := $(sort $(wildcard user/io/*.c))
TOOL_SRCS := $(sort $(wildcard tools/*.c))
TOOL_LIB_OBJS := $(patsubst %.c,$(O)/%.o,$(sort $(wildcard tools/lib/*.c)))
UNIT_SRCS := $(sort $(wildcard tests/unit/test_*.c))
INTEG_SRCS := $(sort $(wildcard tests/integ/test_*.c))
FAKE_SRCS := $(sort $(wildcard tests/fakes/*.c))
BENCH_SRCS := $(sort $(wildcard bench/bench_*.c))

BPF_SRCS := $(sort $(wildcard bpf/*.bpf.c))
BPF_SKELS := $(BPF_SRCS:bpf/%.bpf.c=$(O)/bpf/%.skel.h)

CORE_OBJS := $(CORE_SRCS:%.c=$(O)/%.o)
IO_OBJS := $(IO_SRCS:%.c=$(O)/%.o)
FAKE_OBJS := $(FAKE_SRCS:%.c=$(O)/%.o)
TOOLS := $(TOOL_SRCS:tools/%.c=$(O)/tools/%)
UNIT_TESTS := $(UNIT_SRCS:tests/unit/%.c=$(O)/tests/unit/%)
INTEG_TESTS := $(INTEG_SRCS:tests/integ/%.c=$(O)/tests/integ/%)
BENCHES := $(BENCH_SRCS:bench/%.c=$(O)/bench/%)
TEST_SUPPORT_OBJS := $(O)/tests/integ/support/integ.o

# ---- BPF: bpf/X.bpf.c -> X.tmp.o (clang) -> X.bpf.o (bpftool gen object) -> X.skel.h ------
# vmlinux.h comes from this kernel's BTF unless VMLINUX_H names a pinned copy.
VMLINUX_H ?= $(O)/vmlinux.h
CLANG_BPF_SYS_INCLUDES := $(shell $(CLANG) -v -E - </dev/null 2>&1 | \
	sed -n '/<...> search starts here:/,/End of search list./{ s| \(/.*\)|-idirafter \1|p }')
BPF_CFLAGS := -g -O2 -Wall -target bpf -D__TARGET_ARCH_$(ARCH) -Iinclude \
	-I$(dir $(VMLINUX_H)) $(CLANG_BPF_SYS_INCLUDES)

$(O)/vmlinux.h:
	@mkdir -p $(@D)
	$(call msg,GEN,$@)
	$(Q)BPFTOOL=$(BPFTOOL) tools/gen-vmlinux.sh $@

# Static pattern rules, so the generic C rule never claims X.bpf.o in a fresh tree.
$(BPF_SKELS:.skel.h=.tmp.o): $(O)/bpf/%.tmp.o: bpf/%.bpf.c $(VMLINUX_H) $(wildcard bpf/*.bpf.h include/podprobe/abi/*.h)
	@mkdir -p $(@D)
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(BPF_SKELS:.skel.h=.bpf.o): $(O)/bpf/%.bpf.o: $(O)/bpf/%.tmp.o
	$(call msg,GEN-OBJ,$@)
	$(Q)$(BPFTOOL) gen object $@ $<

$(BPF_SKELS): $(O)/bpf/%.skel.h: $(O)/bpf/%.bpf.o
	$(call msg,SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< > $@

# The loader includes every skeleton.
$(O)/user/io/signals.o: $(BPF_SKELS)

vmlinux: $(VMLINUX_H)

PODPROBE := $(O)/podprobe
LIBCORE := $(O)/libppcore.a

all: $(PODPROBE) $(TOOLS)

$(O)/%.o: %.c
	@mkdir -p $(@D)
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) $(PKG_CFLAGS) -c $< -o $@

$(O)/tests/%.o: tests/%.c
	@mkdir -p $(@D)
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) $(PKG_CFLAGS) $(CMOCKA_CFLAGS) -Itests -c $< -o $@

$(LIBCORE): $(CORE_OBJS)
	$(call msg,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $^

$(PODPROBE): $(O)/user/main.o $(IO_OBJS) $(LIBCORE)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(LDFLAGS) $^ $(PKG_LIBS) -lm -o $@

# Test apps are one file each plus tools/lib/ and the core; TLS or HTTP/2 ones take those libs.
$(O)/tools/fake-target: TOOL_LIBS = $(shell $(PKG_CONFIG) --libs openssl 2>/dev/null)
$(O)/tools/grpc-health-server: TOOL_LIBS = $(NGHTTP2_LIBS)
$(O)/tools/%: tools/%.c $(TOOL_LIB_OBJS) $(LIBCORE)
	@mkdir -p $(@D)
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) $(PKG_CFLAGS) -Itools $< $(TOOL_LIB_OBJS) $(LIBCORE) $(LDFLAGS) $(TOOL_LIBS) $(JANSSON_LIBS) -o $@

# Unit tests link only the pure core and the fakes (the purity check of house-style §6);
# test_manifest and test_grpc_health also take the sans-I/O module they cover.
$(O)/tests/unit/%: $(O)/tests/unit/%.o $(FAKE_OBJS) $(LIBCORE)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(LDFLAGS) $^ $(CMOCKA_LIBS) $(JANSSON_LIBS) -o $@
$(O)/tests/unit/test_manifest: $(O)/tests/unit/test_manifest.o $(O)/user/io/manifest_yaml.o $(LIBCORE)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(LDFLAGS) $^ $(CMOCKA_LIBS) $(YAML_LIBS) $(JANSSON_LIBS) -o $@
$(O)/tests/unit/test_yaml_json: $(O)/tests/unit/test_yaml_json.o $(O)/user/io/yaml_json.o $(O)/user/io/manifest_yaml.o $(LIBCORE)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(LDFLAGS) $^ $(CMOCKA_LIBS) $(YAML_LIBS) $(JANSSON_LIBS) -o $@
$(O)/tests/unit/test_grpc_health: $(O)/tests/unit/test_grpc_health.o $(O)/user/io/grpc_health.o $(LIBCORE)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(LDFLAGS) $^ $(CMOCKA_LIBS) $(NGHTTP2_LIBS) $(JANSSON_LIBS) -o $@

$(O)/tests/integ/%: $(O)/tests/integ/%.o $(TEST_SUPPORT_OBJS) $(IO_OBJS) $(LIBCORE)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(LDFLAGS) $^ $(CMOCKA_LIBS) $(PKG_LIBS) -lm -o $@

$(O)/bench/%: $(O)/bench/%.o $(IO_OBJS) $(LIBCORE)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(LDFLAGS) $^ $(PKG_LIBS) -lm -o $@

tests: $(UNIT_TESTS) $(INTEG_TESTS) $(PODPROBE) $(TOOLS) $(O)/bench/bench_fleet

# ---- libFuzzer targets: tests/fuzz/fuzz_<name>.c -> $(O)/fuzz/fuzz_<name> ----------------
# Own tree and flags (clang, -fsanitize=fuzzer,address,undefined). A target links its file and
# the fuzz build of libppcore.a; one that needs more names the sources in FUZZ_SRCS_<name> and
# the libraries in FUZZ_LIBS_<name>. Seeds: tests/fuzz/corpus/<name>/; optional libFuzzer flags,
# one per line: tests/fuzz/fuzz_<name>.options. `make fuzz FUZZ_SECONDS=N` runs each for N s.
FUZZ_CC ?= $(CLANG)
FUZZ_SECONDS ?= 60
FUZZ_O := $(O)/fuzz
FUZZ_SAN := -fsanitize=address,undefined -fno-sanitize-recover=all
FUZZ_CFLAGS := -g -O1 -fno-omit-frame-pointer -std=gnu11 -D_GNU_SOURCE -Wall -Wextra \
	-Wno-unused-parameter -MMD -MP -Iinclude -I$(O) $(FUZZ_SAN) -fsanitize=fuzzer-no-link \
	$(PKG_CFLAGS)
FUZZ_TARGET_SRCS := $(sort $(wildcard tests/fuzz/fuzz_*.c))
FUZZ_NAMES := $(FUZZ_TARGET_SRCS:tests/fuzz/fuzz_%.c=%)
FUZZERS := $(FUZZ_NAMES:%=$(FUZZ_O)/fuzz_%)
FUZZ_LIBCORE := $(FUZZ_O)/libppcore.a

FUZZ_SRCS_manifest := user/io/manifest_yaml.c
FUZZ_LIBS_manifest := $(YAML_LIBS)
FUZZ_SRCS_grpc_health := user/io/grpc_health.c
FUZZ_LIBS_grpc_health := $(NGHTTP2_LIBS)

$(FUZZ_O)/%.o: %.c
	@mkdir -p $(@D)
	$(call msg,FUZZ-CC,$@)
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -c $< -o $@

$(FUZZ_LIBCORE): $(CORE_SRCS:%.c=$(FUZZ_O)/%.o)
	$(call msg,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $^

define fuzz_target
$(FUZZ_O)/fuzz_$(1): $(FUZZ_O)/tests/fuzz/fuzz_$(1).o $(FUZZ_SRCS_$(1):%.c=$(FUZZ_O)/%.o) $(FUZZ_LIBCORE)
	$$(call msg,FUZZ-LD,$$@)
	$$(Q)$$(FUZZ_CC) $(FUZZ_SAN) -fsanitize=fuzzer $$^ $(FUZZ_LIBS_$(1)) $(JANSSON_LIBS) -o $$@
endef
$(foreach n,$(FUZZ_NAMES),$(eval $(call fuzz_target,$(n))))

fuzzers: $(FUZZERS)

fuzz: $(FUZZERS)
	$(Q)FUZZ_O=$(FUZZ_O) FUZZ_SECONDS=$(FUZZ_SECONDS) tests/fuzz/run.sh $(FUZZ_NAMES)

# ---- user-facing targets -------------------------------------------------------------------
test: tests
	$(Q)tools/check-purity.sh
	$(Q)O=$(O) SANITIZE=$(SANITIZE) tests/run-tests.sh $(UNIT_TESTS) $(INTEG_TESTS)

test-unit: $(UNIT_TESTS)
	$(Q)O=$(O) SANITIZE=$(SANITIZE) tests/run-tests.sh $(UNIT_TESTS)

run: all
	$(Q)PATH="$(CURDIR)/$(O)/tools:$$PATH" $(PODPROBE) run $(RUN_ARGS) examples/

# FULL=1 adds bench/scenarios.sh: peers (HAProxy, a kubelet-model prober, a bare liburing loop)
# on bench_fleet, steady/saturation/detection/pod-scale scenarios, bench/results/*.md and plots.
bench: $(BENCHES) $(TOOLS) $(PODPROBE)
	$(Q)O=$(O) bench/run.sh
	$(Q)if [ "$(FULL)" = 1 ]; then O=$(O) FULL=1 bench/scenarios.sh; fi

# Not in CI's time: 10 minutes of 1,000 crash-looping pods (bench/soak.sh says what it checks).
SOAK_SECONDS ?= 600
SOAK_PODS ?= 1000
soak: $(PODPROBE)
	$(Q)O=$(O) SOAK_SECONDS=$(SOAK_SECONDS) SOAK_PODS=$(SOAK_PODS) bench/soak.sh

deps:
	$(Q)tools/deps.sh

FORMAT_SRCS = $(CORE_SRCS) $(IO_SRCS) user/main.c $(wildcard user/io/*.h include/podprobe/*.h \
	include/podprobe/abi/*.h) $(TOOL_SRCS) $(wildcard tools/lib/*.[ch]) $(BENCH_SRCS) \
	$(FUZZ_TARGET_SRCS) $(wildcard bench/*.h)

format:
	$(Q)$(CLANG_FORMAT) -i $(FORMAT_SRCS)

format-check:
	$(Q)$(CLANG_FORMAT) --dry-run --Werror $(FORMAT_SRCS)

lint:
	$(Q)tools/check-purity.sh

clean:
	$(call msg,CLEAN,$(O))
	$(Q)rm -rf $(O)

help:
	@echo 'make              build $(PODPROBE) and the test apps in $(O)/tools'
	@echo 'make run          build, then run the example pods in examples/ until Ctrl-C'
	@echo 'make test         build and run unit and integration tests (SANITIZE=1 for ASan/UBSan)'
	@echo 'make test-unit    only the pure unit tests (no privileges needed)'
	@echo 'make lint         purity check of user/core'
	@echo 'make fuzz         each libFuzzer target in tests/fuzz for FUZZ_SECONDS (60) s'
	@echo 'make soak         1,000 crash-looping pods for SOAK_SECONDS (600) s: RSS, fds, zombies'
	@echo 'make bench        probe engine figures on a loopback fleet (BENCH_SECONDS=10)'
	@echo 'make bench FULL=1 also the peers, scenarios, bench/results/ and plots (~1 hour)'
	@echo 'make deps         install missing Debian packages (root) or print the apt-get line'
	@echo 'make clean        remove $(O)'

.PHONY: all tests test test-unit run deps format format-check lint clean help vmlinux bench \
	fuzz fuzzers soak
.SECONDARY:
.PRECIOUS: $(O)/bpf/%.skel.h $(O)/bpf/%.bpf.o $(O)/vmlinux.h

-include $(shell find $(O) -name '*.d' 2>/dev/null)
