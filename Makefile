# cyphonic top-level Makefile.
#
#   make            build cyphonic.ko and the user-space tools
#   make check      install dependencies, build, run the whole test suite
#   make demo       install dependencies, build, run the demo in a VM
#   make deps       install the Debian packages that build/test/demo need
#   make bench-cloud  signaling benchmark of the cloud services on loopback
#   make bench-evloop timer re-arm cost; 10k idle TLS connections on the AS
#   make bench      data-plane throughput benchmark in a VM (cyphonic vs
#                   WireGuard vs veth; BENCH_QUICK=1 for a short smoke run)
#   make bench-profile  CPU work per packet (time by kind, context switches)
#                   for veth, WireGuard and cyphonic in a VM
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

.PHONY: all module user deps check test demo bench bench-profile bench-cloud bench-evloop clean install

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

bench-profile: deps
	$(MAKE) all
	tests/bench/profile.sh

bench-cloud: deps
	$(MAKE) user
	tests/bench/cloud.sh

bench-evloop: deps
	$(MAKE) user
	tests/bench/evloop.sh

install: all
	$(MAKE) -C $(KDIR) M=$(TOP) modules_install
	depmod -a $(notdir $(patsubst %/build,%,$(KDIR)))
	$(MAKE) -C user install

clean:
	-$(MAKE) -C $(KDIR) M=$(TOP) clean
	$(MAKE) -C user clean
