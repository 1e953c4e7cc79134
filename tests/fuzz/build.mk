# libFuzzer targets for every network-facing parser (tests/fuzz/fuzz_*.c),
# built with Debian's clang: `make -C user fuzz` -> build/fuzz/fuzz_*.
# The library and the NMS/TRS engines are compiled again with
# -fsanitize=fuzzer-no-link,address,undefined so coverage reaches them.
# tests/fuzz/suite.sh builds and runs them briefly.

# The unit build.mk above starts with a rule, which would make it the
# default goal of user/Makefile; `make -C user` must still build `all`.

FUZZ_CC ?= clang
FUZZ_OUT := $(TOP)/build/fuzz
FUZZ_CFLAGS := -std=c11 -D_GNU_SOURCE -g -O1 -Wall -Wextra -Wno-unused-parameter \
	-fno-omit-frame-pointer -fno-sanitize-recover=undefined \
	-I$(TOP)/uapi -I$(TOP)/user/lib -I$(TOP)/user/cyphonic-nms -I$(TOP)/user/cyphonic-trs \
	-DCYPHONIC_VERSION='"$(VERSION)"'
FUZZ_SRCS := $(wildcard $(TOP)/tests/fuzz/fuzz_*.c)
FUZZ_BINS := $(patsubst $(TOP)/tests/fuzz/%.c,$(FUZZ_OUT)/%,$(FUZZ_SRCS))
FUZZ_CODE := $(LIB_SRCS) $(TOP)/user/cyphonic-nms/nms_core.c \
	$(TOP)/user/cyphonic-nms/nms_route.c $(TOP)/user/cyphonic-nms/nms_store_mem.c \
	$(TOP)/user/cyphonic-nms/nms_addr.c $(TOP)/user/cyphonic-nms/nms_quota.c \
	$(TOP)/user/cyphonic-nms/nms_cookie.c $(TOP)/user/cyphonic-nms/nms_job.c \
	$(TOP)/user/cyphonic-trs/trs_core.c
FUZZ_OBJS := $(patsubst $(TOP)/user/%.c,$(FUZZ_OUT)/obj/%.o,$(FUZZ_CODE))

.PHONY: fuzz
fuzz: $(FUZZ_BINS)

$(FUZZ_OUT)/obj/%.o: $(TOP)/user/%.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) $(CFLAGS_$(firstword $(subst /, ,$*))) \
		-fsanitize=fuzzer-no-link,address,undefined -c -o $@ $<

$(FUZZ_OUT)/fuzz_%: $(TOP)/tests/fuzz/fuzz_%.c $(TOP)/tests/fuzz/fuzz_common.h $(FUZZ_OBJS)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) $(FUZZ_CFLAGS_$*) -fsanitize=fuzzer,address,undefined -o $@ $< \
		$(FUZZ_EXTRA_$*) $(FUZZ_OBJS) $(COMMON_LDLIBS)

# fuzz_e2e (stem e2e): real credentials from the unit tests' test PKI.
FUZZ_CFLAGS_e2e := -I$(TOP)/tests/unit
FUZZ_EXTRA_e2e := $(TOP)/tests/unit/e2e_fixture.c
$(FUZZ_OUT)/fuzz_e2e: $(FUZZ_EXTRA_e2e) $(TOP)/tests/unit/e2e_fixture.h
