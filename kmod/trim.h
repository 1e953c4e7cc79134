/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The data path's per-CPU caches let go when the last device is gone
 * (see trim.c).
 */
#ifndef CYPH_TRIM_H
#define CYPH_TRIM_H

void cyph_trim_device_added(void);
void cyph_trim_device_gone(void);
bool cyph_trim_have_devices(void);
int cyph_trim_init(void);
void cyph_trim_exit(void);

#endif /* CYPH_TRIM_H */
