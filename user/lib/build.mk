# user/lib/stores/store_pg.c: libpq's header (Debian: /usr/include/postgresql).
CFLAGS_lib += $(shell pkg-config --cflags libpq)
