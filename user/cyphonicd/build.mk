# cyphonicd talks netlink (genl "cyphonic" and rtnetlink) through libmnl.
LDLIBS_cyphonicd += -lmnl
