# cyphctl talks generic netlink through libnl-genl-3.
CFLAGS_cyphctl += $(shell pkg-config --cflags libnl-genl-3.0)
LDLIBS_cyphctl += $(shell pkg-config --libs libnl-genl-3.0)
