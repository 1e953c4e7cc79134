# cyphonic top-level Makefile.
#
#   make            build cyphonic.ko and the user-space tools
#   make check      install dependencies, build, run the whole test suite
#   make demo       install dependencies, build, run the demo in a VM
#   make deps       install the Debian packages that build/test/demo need
#   make bench-cloud  signaling benchmark of the cloud services on loopback
#   make bench-evloop timer re-arm cost; 10k idle TLS connections on the AS
#   make bench-scale  replicas behind BGP ECMP under ramped load, scale events (root)
#   make bench-abuse  the services under issue 12's attacks (tests/bench/abuse-*.sh)
#   make bench      data-plane throughput benchmark in a VM (cyphonic vs
#                   WireGuard vs veth; BENCH_QUICK=1 for a short smoke run)
#   make bench-adapter  1/5/20 devices through one adapter: throughput, fairness (VM)
#   make bench-profile  CPU work per packet (time by kind, context switches)
#                   for veth, WireGuard and cyphonic in a VM
#   make install    the module (/lib/modules/<kver>/updates/kmod/) and the rest
#                   (install-module + install-user)
#   make install-user  programs, systemd units, sysusers/tmpfiles snippets,
#                   man pages, bash completion, docs and example configs
#   make install-module  cyphonic.ko into $(DESTDIR)/lib/modules/<kver>/updates/kmod/;
#                   depmod runs only when DESTDIR is empty
#   make dkms-tree  the DKMS source tree $(DESTDIR)/usr/src/cyphonic-<version>
#   make dkms-install  dkms-tree, then dkms add/build/install (running kernel)
#
# Install directories (GNU-style; all honour DESTDIR):
#   PREFIX=/usr/local SBINDIR=$(PREFIX)/sbin BINDIR=$(PREFIX)/bin
#   DATADIR=$(PREFIX)/share MANDIR=$(DATADIR)/man DOCDIR=$(DATADIR)/doc/cyphonic
#   UNITDIR=$(PREFIX)/lib/systemd/system SYSUSERSDIR=$(PREFIX)/lib/sysusers.d
#   TMPFILESDIR=$(PREFIX)/lib/tmpfiles.d BASHCOMPDIR=$(DATADIR)/bash-completion/completions
#   SYSCONFDIR=/etc (not $(PREFIX)/etc: the programs' built-in default paths
#   are /etc/cyphonic/*.conf, and the units pass $(SYSCONFDIR)/cyphonic/*.conf)
# systemd, systemd-sysusers and systemd-tmpfiles read /usr/local/lib/... as
# well as /usr/lib/..., so the defaults work as they are. Nothing is
# installed into SYSCONFDIR: the example configs go to $(DOCDIR)/examples,
# /etc is the administrator's.
#
# CFLAGS, CPPFLAGS and LDFLAGS are appended to the project's flags (see
# user/Makefile); WERROR=1 turns warnings into errors (the test build).
#
# KDIR selects the kernel build tree. By default it is the running kernel's
# (/lib/modules/$(uname -r)/build); when that does not exist (as on a build
# host whose kernel has no headers installed) the newest installed
# /lib/modules/*/build is used instead.

TOP := $(CURDIR)
KVER ?= $(shell uname -r)
# Resolved each time a make starts, never exported: `make demo` and
# `make check` install the headers (deps) and only then start the make that
# builds, so that make finds the tree the deps step just installed. A KDIR
# given on the command line or in the environment reaches sub-makes as usual.
KDIR ?= $(firstword $(wildcard /lib/modules/$(KVER)/build) \
		$(lastword $(sort $(wildcard /lib/modules/*/build))))

export TOP

# The one version of the project (VERSION): programs' --version, the
# module's MODULE_VERSION (kmod/Kbuild), dkms.conf and the Debian packages.
VERSION := $(shell cat $(TOP)/VERSION)

PREFIX ?= /usr/local
SBINDIR ?= $(PREFIX)/sbin
BINDIR ?= $(PREFIX)/bin
SYSCONFDIR ?= /etc
DATADIR ?= $(PREFIX)/share
MANDIR ?= $(DATADIR)/man
DOCDIR ?= $(DATADIR)/doc/cyphonic
UNITDIR ?= $(PREFIX)/lib/systemd/system
SYSUSERSDIR ?= $(PREFIX)/lib/sysusers.d
TMPFILESDIR ?= $(PREFIX)/lib/tmpfiles.d
BASHCOMPDIR ?= $(DATADIR)/bash-completion/completions
DKMS_SRCDIR ?= /usr/src

.PHONY: all module user deps check test demo bench bench-adapter bench-node bench-profile bench-cloud bench-evloop bench-scale bench-abuse clean
.PHONY: install install-module install-user dkms-tree dkms-install

all: module user

module:
	@test -n "$(KDIR)" || { echo "no kernel build tree: install linux-headers-amd64 or set KDIR=" >&2; exit 1; }
	$(MAKE) -C $(KDIR) M=$(TOP) modules

user:
	$(MAKE) -C user

deps:
	@scripts/deps.sh

check: deps
	$(MAKE) all
	tests/run.sh

test: check

demo: deps
	$(MAKE) all
	tests/demo/demo.sh

bench: deps
	$(MAKE) all
	tests/bench/throughput.sh

bench-adapter: deps
	$(MAKE) all
	tests/bench/adapter.sh

bench-node: deps
	$(MAKE) all
	tests/bench/node.sh

bench-profile: deps
	$(MAKE) all
	tests/bench/profile.sh

bench-cloud: deps
	$(MAKE) user
	tests/bench/cloud.sh

bench-scale: deps
	$(MAKE) -C user -j2 progs
	tests/bench/scale.sh

bench-evloop: deps
	$(MAKE) user
	tests/bench/evloop.sh

bench-abuse: deps
	$(MAKE) user
	set -e; for b in tests/bench/abuse-*.sh; do $$b; done

install: install-module install-user

# kbuild's modules_install puts the module into
# $(INSTALL_MOD_PATH)/lib/modules/<kver>/$(INSTALL_MOD_DIR)/kmod/. "updates"
# is searched before the kernel's own modules (depmod.d's default), as DKMS
# does with updates/dkms.
install-module: module
	$(MAKE) -C $(KDIR) M=$(TOP) INSTALL_MOD_PATH=$(DESTDIR) INSTALL_MOD_DIR=updates \
		DEPMOD=true modules_install
	@if [ -z "$(DESTDIR)" ]; then \
		echo "depmod -a $$(cat $(KDIR)/include/config/kernel.release)"; \
		depmod -a "$$(cat $(KDIR)/include/config/kernel.release)"; \
	fi

# Units: deploy/systemd/*.service.in with the configured paths substituted.
# Man pages (docs/man/*.[1-8]) and the bash completion are installed when
# they exist.
UNIT_INS := $(wildcard $(TOP)/deploy/systemd/*.service.in)
MAN_PAGES := $(wildcard $(TOP)/docs/man/*.[1-8])
COMPLETION := $(wildcard $(TOP)/user/cyphctl/completion.bash)
DOCS := $(TOP)/README.md $(wildcard $(TOP)/docs/*.md)
SUBST := sed -e 's|@SBINDIR@|$(SBINDIR)|g' -e 's|@SYSCONFDIR@|$(SYSCONFDIR)|g' \
	     -e 's|@DOCDIR@|$(DOCDIR)|g' -e 's|@VERSION@|$(VERSION)|g'

install-user:
	$(MAKE) -C user install SBINDIR=$(SBINDIR) BINDIR=$(BINDIR)
	install -d $(DESTDIR)$(UNITDIR) $(DESTDIR)$(SYSUSERSDIR) $(DESTDIR)$(TMPFILESDIR) \
		$(DESTDIR)$(DOCDIR)/examples
	for f in $(UNIT_INS); do \
		$(SUBST) "$$f" > "$(DESTDIR)$(UNITDIR)/$$(basename "$$f" .in)" && \
		chmod 0644 "$(DESTDIR)$(UNITDIR)/$$(basename "$$f" .in)" || exit 1; \
	done
	install -m 0644 deploy/systemd/cyphonic.sysusers $(DESTDIR)$(SYSUSERSDIR)/cyphonic.conf
	install -m 0644 deploy/systemd/cyphonic.tmpfiles $(DESTDIR)$(TMPFILESDIR)/cyphonic.conf
	install -m 0644 $(wildcard $(TOP)/deploy/config/*.conf) $(DESTDIR)$(DOCDIR)/examples/
	install -m 0644 deploy/systemd/cyphonicd-adapter.conf $(DESTDIR)$(DOCDIR)/examples/
	install -m 0644 $(DOCS) $(DESTDIR)$(DOCDIR)/
	for m in $(MAN_PAGES); do \
		s=$${m##*.}; install -d "$(DESTDIR)$(MANDIR)/man$$s" && \
		install -m 0644 "$$m" "$(DESTDIR)$(MANDIR)/man$$s/" || exit 1; \
	done
	$(if $(COMPLETION),install -d $(DESTDIR)$(BASHCOMPDIR))
	$(if $(COMPLETION),install -m 0644 $(COMPLETION) $(DESTDIR)$(BASHCOMPDIR)/cyphctl)

# The DKMS source tree: only what the module build reads, and dkms.conf
# from dkms.conf.in with the version filled in.
DKMS_TREE = $(DESTDIR)$(DKMS_SRCDIR)/cyphonic-$(VERSION)
KMOD_SRCS := $(filter-out %.mod.c,$(wildcard $(TOP)/kmod/*.c)) $(wildcard $(TOP)/kmod/*.h)
dkms-tree:
	install -d $(DKMS_TREE)/kmod $(DKMS_TREE)/uapi/linux
	install -m 0644 Kbuild VERSION $(DKMS_TREE)/
	install -m 0644 kmod/Kbuild $(KMOD_SRCS) $(DKMS_TREE)/kmod/
	install -m 0644 uapi/linux/cyphonic.h $(DKMS_TREE)/uapi/linux/
	sed 's/#MODULE_VERSION#/$(VERSION)/g' dkms.conf.in > $(DKMS_TREE)/dkms.conf
	chmod 0644 $(DKMS_TREE)/dkms.conf

dkms-install: dkms-tree
	@test -z "$(DESTDIR)" || { echo "dkms-install registers with this host's DKMS: no DESTDIR" >&2; exit 1; }
	dkms add cyphonic/$(VERSION)
	dkms install cyphonic/$(VERSION)

clean:
	-$(MAKE) -C $(KDIR) M=$(TOP) clean
	$(MAKE) -C user clean
