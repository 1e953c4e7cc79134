# cyphctl (user/cyphctl): pure parsing and output code under test.
CFLAGS_test_cyphctl_parse += -I$(TOP)/user/cyphctl
SRCS_test_cyphctl_parse := $(TOP)/user/cyphctl/parse.c
CFLAGS_test_cyphctl_json += -I$(TOP)/user/cyphctl $(shell pkg-config --cflags libnl-genl-3.0)
SRCS_test_cyphctl_json := $(TOP)/user/cyphctl/show_json.c $(TOP)/user/cyphctl/daemon.c $(TOP)/user/cyphctl/stats.c $(TOP)/user/cyphctl/parse.c
# The pattern rule's dependency file only covers the last source: list ours.
$(OUT)/test/test_cyphctl_parse: $(SRCS_test_cyphctl_parse) $(wildcard $(TOP)/user/cyphctl/*.h)
$(OUT)/test/test_cyphctl_json: $(SRCS_test_cyphctl_json) $(wildcard $(TOP)/user/cyphctl/*.h)
CFLAGS_test_cyphctl_udp += -I$(TOP)/user/cyphctl
SRCS_test_cyphctl_udp := $(TOP)/user/cyphctl/udp.c $(TOP)/user/cyphctl/parse.c
$(OUT)/test/test_cyphctl_udp: $(SRCS_test_cyphctl_udp) $(wildcard $(TOP)/user/cyphctl/*.h)
# cloud signaling (CLOUD-PROTO): the NMS and TRS engines under test.
NMS_CORE_SRCS := $(TOP)/user/cyphonic-nms/nms_core.c $(TOP)/user/cyphonic-nms/nms_job.c $(TOP)/user/cyphonic-nms/nms_cookie.c $(TOP)/user/cyphonic-nms/nms_route.c $(TOP)/user/cyphonic-nms/nms_addr.c $(TOP)/user/cyphonic-nms/nms_quota.c $(TOP)/user/cyphonic-nms/nms_store_mem.c $(TOP)/user/cyphonic-nms/nms_store_redis.c
TRS_CORE_SRCS := $(TOP)/user/cyphonic-trs/trs_core.c
CFLAGS_test_nms += -I$(TOP)/user/cyphonic-nms
SRCS_test_nms := $(NMS_CORE_SRCS)
$(OUT)/test/test_nms: $(NMS_CORE_SRCS) $(wildcard $(TOP)/user/cyphonic-nms/*.h)
CFLAGS_test_nms_addr += -I$(TOP)/user/cyphonic-nms
SRCS_test_nms_addr := $(TOP)/user/cyphonic-nms/nms_addr.c
$(OUT)/test/test_nms_addr: $(SRCS_test_nms_addr) $(wildcard $(TOP)/user/cyphonic-nms/*.h)
CFLAGS_test_nms_identity += -I$(TOP)/user/cyphonic-nms
SRCS_test_nms_identity := $(TOP)/user/cyphonic-nms/identity.c
$(OUT)/test/test_nms_identity: $(SRCS_test_nms_identity) $(wildcard $(TOP)/user/cyphonic-nms/*.h)
CFLAGS_test_trs += -I$(TOP)/user/cyphonic-trs
SRCS_test_trs := $(TRS_CORE_SRCS)
$(OUT)/test/test_trs: $(TRS_CORE_SRCS) $(wildcard $(TOP)/user/cyphonic-trs/*.h)
# secret files' modes: cyphctl genkey (its warning) and the library writers.
CFLAGS_test_secret_modes += -I$(TOP)/user/cyphctl
SRCS_test_secret_modes := $(TOP)/user/cyphctl/genkey.c $(TOP)/user/cyphctl/parse.c
$(OUT)/test/test_secret_modes: $(SRCS_test_secret_modes) $(wildcard $(TOP)/user/cyphctl/*.h)

# stores: the PostgreSQL backend's test looks behind the store with libpq.
CFLAGS_test_store += $(shell pkg-config --cflags libpq)

# e2e (user/lib/e2e): the handshake tests share a test PKI fixture.
SRCS_test_e2e := $(TOP)/tests/unit/e2e_fixture.c
SRCS_test_e2e_door := $(TOP)/tests/unit/e2e_fixture.c
$(OUT)/test/test_e2e $(OUT)/test/test_e2e_door: $(TOP)/tests/unit/e2e_fixture.c $(TOP)/tests/unit/e2e_fixture.h
# TRS replicas sharing sessions through Redis (trs_sync.c).
CFLAGS_test_trs_sync += -I$(TOP)/user/cyphonic-trs
SRCS_test_trs_sync := $(TRS_CORE_SRCS) $(TOP)/user/cyphonic-trs/trs_sync.c
$(OUT)/test/test_trs_sync: $(SRCS_test_trs_sync) $(wildcard $(TOP)/user/cyphonic-trs/*.h)

# cyphonicd (user/cyphonicd): configuration and credential logic, and the
# kernel/ address parsing it relies on (libmnl).
CFLAGS_test_cyphonicd += -I$(TOP)/user/cyphonicd
SRCS_test_cyphonicd := $(TOP)/user/cyphonicd/config.c $(TOP)/user/cyphonicd/credential.c \
	$(TOP)/user/cyphonicd/resolvconf.c $(TOP)/user/cyphonicd/hsbudget.c
$(OUT)/test/test_cyphonicd: $(SRCS_test_cyphonicd) $(wildcard $(TOP)/user/cyphonicd/*.h $(TOP)/user/cyphonicd/*/*.h)
# cyphonicd's adapter: the login page's budget (pure logic).
CFLAGS_test_adapter_budget += -I$(TOP)/user/cyphonicd
SRCS_test_adapter_budget := $(TOP)/user/cyphonicd/adapter/budget.c
$(OUT)/test/test_adapter_budget: $(SRCS_test_adapter_budget) $(wildcard $(TOP)/user/cyphonicd/*.h $(TOP)/user/cyphonicd/*/*.h)
# cyphonicd's adapter: hostapd's STA answer, the identity a session proved.
CFLAGS_test_adapter_sta += -I$(TOP)/user/cyphonicd
SRCS_test_adapter_sta := $(TOP)/user/cyphonicd/adapter/sta.c
$(OUT)/test/test_adapter_sta: $(SRCS_test_adapter_sta) $(wildcard $(TOP)/user/cyphonicd/*.h $(TOP)/user/cyphonicd/*/*.h)
# cyphonicd's adapter: the run_dir that root's helpers read from.
CFLAGS_test_adapter_rundir += -I$(TOP)/user/cyphonicd
SRCS_test_adapter_rundir := $(TOP)/user/cyphonicd/adapter/rundir.c
$(OUT)/test/test_adapter_rundir: $(SRCS_test_adapter_rundir) $(wildcard $(TOP)/user/cyphonicd/*.h $(TOP)/user/cyphonicd/*/*.h)
