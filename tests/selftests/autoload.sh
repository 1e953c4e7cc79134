#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The module loads on demand: by its rtnl link alias (ip link add ... type
# cyphonic) and by its generic netlink family alias (cyphctl).
. "$(dirname "$0")/lib.sh"
need ip cyphctl modinfo
t_begin
trap topo_down EXIT

loaded() { grep -q '^cyphonic ' /proc/modules; }
unload() { loaded && modprobe -r cyphonic; ! loaded; }

topo_down
t_check "module is installed for this kernel" modinfo -F filename cyphonic
t_check "module has alias rtnl-link-cyphonic" \
	bash -c 'modinfo -F alias cyphonic | grep -qx rtnl-link-cyphonic'
t_check "module has the genl family alias" \
	bash -c 'modinfo -F alias cyphonic | grep -qx net-pf-16-proto-16-family-cyphonic'

t_check "module not loaded before the test" unload
ip netns add $NS_A
t_check "ip link add type cyphonic autoloads the module" ip -n $NS_A link add cyph0 type cyphonic
t_check "module is loaded" loaded
t_check "device has link kind cyphonic" \
	bash -c "ip -n $NS_A -d -j link show cyph0 | jq -e '.[0].linkinfo.info_kind == \"cyphonic\"'"
t_check "default MTU is 1420" \
	bash -c "ip -n $NS_A -j link show cyph0 | jq -e '.[0].mtu == 1420'"
t_check "device is POINTOPOINT and NOARP" \
	bash -c "ip -n $NS_A -j link show cyph0 | jq -e '.[0].flags | index(\"POINTOPOINT\") and index(\"NOARP\")'"
topo_down

t_check "module unloads" unload
t_check "cyphctl show autoloads the module (genl family alias)" cyphctl show
t_check "module is loaded again" loaded
t_end
